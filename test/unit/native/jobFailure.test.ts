// What a failed job reports: the worker's own failures keep their code, a bad LoRA adapter is the job's mistake
// (INVALID_JOB at its adapter), anything else from the engine is ENGINE_ERROR with the engine's message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoraConfigError } from '../../../native/model';
import { errorInfo, JobFailure } from '../../../native/worker/jobFailure';

test('failures map to the codes the editor acts on', () => {
  assert.deepEqual(errorInfo(new JobFailure('MODEL_NOT_FOUND', 'no such folder', 'model'), false), {
    message: 'no such folder',
    code: 'MODEL_NOT_FOUND',
    where: 'model',
  });
  assert.deepEqual(errorInfo(new LoraConfigError('a/adapter_config.json: use_dora: DoRA is not supported'), false), {
    message: 'a/adapter_config.json: use_dora: DoRA is not supported',
    code: 'INVALID_JOB',
    where: 'adapter',
  });
  assert.deepEqual(errorInfo(new Error('tensor x: shape'), false), { message: 'tensor x: shape', code: 'ENGINE_ERROR' });
  assert.deepEqual(errorInfo(new Error('anything'), true), { message: 'the job was cancelled', code: 'CANCELLED' });
});
