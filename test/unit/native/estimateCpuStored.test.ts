// The CPU estimate reads a quantized checkpoint as the engine loads it: for checkpoints our quantizer writes
// from tiny-llama, the engine copies predicted from the stored tensors (packed shapes hidden, found from each
// Linear's role) equal those predicted from the fp16 model and the config, and the mapped weights match.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { estimateCpuMemory, resolveModel } from '../../../native/model';
import type { JsonObject, MemoryEstimate, ResolvedModel } from '../../../native/model';
import { quantizeModel } from '../../../native/lib/quantize';
import type { QuantAlgorithm } from '../../../native/lib/quantize';

const tinyLlamaDir = join(__dirname, '..', '..', '..', '..', 'examples', 'tiny-llama');
const scratch = mkdtempSync(join(tmpdir(), 'qs-estimate-cpu-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const OPTIONS = { batch: 1, promptTokens: 27, newTokens: 64, threads: 2, tokenizerBytes: 0 };
const METHODS: Array<{ label: string; config: JsonObject; algorithm?: QuantAlgorithm }> = [
  { label: 'GPTQ 4-bit g128', algorithm: 'rtn', config: { quant_method: 'gptq', bits: 4, group_size: 128 } },
  {
    label: 'AWQ GEMM 4-bit g128',
    algorithm: 'rtn',
    config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' },
  },
  {
    label: 'NF4 double quant',
    config: { quant_method: 'bitsandbytes', load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true },
  },
  { label: 'int8', config: { quant_method: 'bitsandbytes', load_in_8bit: true } },
];

async function resolved(folder: string): Promise<ResolvedModel> {
  const r = await resolveModel(folder, { env: {} });
  assert.ok(r.ok);
  return r.model;
}

function cpuEstimate(model: ResolvedModel, config: JsonObject | undefined): MemoryEstimate {
  const r = estimateCpuMemory(model, config, OPTIONS);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
  return r.value;
}

const line = (e: MemoryEstimate, label: string): number => e.breakdown.find((l) => l.label === label)?.bytes ?? 0;

describe('CPU estimate of a stored quantized checkpoint = the estimate planned from fp16 + config', () => {
  for (const m of METHODS) {
    it(m.label, async () => {
      const out = join(scratch, m.label.replace(/\W+/g, '-'));
      await quantizeModel({ model: tinyLlamaDir, config: m.config, out, ...(m.algorithm ? { algorithm: m.algorithm } : {}) });
      const planned = cpuEstimate(await resolved(tinyLlamaDir), m.config);
      const stored = cpuEstimate(await resolved(out), undefined);
      assert.ok(line(planned, 'dequantization factors (fp32)') > 0);
      for (const label of [
        'dequantization factors (fp32)',
        'load-time layer copy (freed before the run)',
        'engine threads',
        'KV cache (fp32)',
      ]) {
        assert.equal(line(stored, label), line(planned, label), label);
      }
      // Mapped weights differ only by the quantized files' JSON headers and bitsandbytes' printed quant state.
      assert.ok(Math.abs(stored.weightsBytes / planned.weightsBytes - 1) < 0.005, `${stored.weightsBytes} vs ${planned.weightsBytes}`);
      // AWQ GEMM's codes and zero points move from the mapping to the heap at load (kernels/qmatmul_awq.cc).
      const layers = (await resolved(out)).tensors.filter((t) => /\.(qweight|qzeros)$/.test(t.name));
      const repacked = m.label.startsWith('AWQ') ? layers.reduce((a, t) => a + t.bytes, 0) : 0;
      const weightLines = stored.breakdown.filter((l) => !/fp32|sorted|copy|threads|tokenizer|process|KV|activations|logits/.test(l.label));
      assert.equal(stored.mappedBytes, weightLines.reduce((a, l) => a + l.bytes, 0) - repacked);
    });
  }
});
