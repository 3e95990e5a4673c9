// The quantization step of a quantize job on the `python` backend: the same plan (defaults from the schemas),
// the same calibration tokens as the engine would use, handed to the runner script in the user's Python
// (GPTQModel 7.7 for GPTQ and AWQ, transformers 5.23 + bitsandbytes 0.50 for NF4/FP4/int8), which writes into the
// staging folder that is renamed into place only when it succeeded.
import * as fs from 'fs';
import * as path from 'path';
import { CalibrationOptions, PipelinePlan, planCalibration } from '../../lib';
import { COMPRESSED_TENSORS, pythonBackendRecipe } from '../../model';
import type { JsonObject } from '../../model';
import { JobContext } from '../context';
import { JobFailure } from '../jobFailure';
import type { BackendRecord } from '../protocol';
import { pythonBackendRecord, runPythonRunner } from '../pythonRunner';
import { StagedOutput } from '../stagedOutput';

/** The files besides the weights a checkpoint keeps from its source (the engine's list, native/src/pipeline/checkpoint_writer.cc). */
const SOURCE_SIDE_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'tokenizer.model',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  'chat_template.jinja',
  'generation_config.json',
];

const SCRATCH = '.python-scratch';

export interface PythonQuantizeResult {
  out: string;
  bytes: number;
  /** The decoder layers the library reported done (GPTQModel; bitsandbytes quantizes while loading and reports none). */
  layersDone: number;
  /** The Python process's peak resident memory; on CUDA also torch's peak allocation. */
  memory: { peakRssBytes: number; cudaMaxAllocatedBytes?: number };
  backend: BackendRecord;
}

/** The methods GPTQModel 7.7 quantizes from calibration windows (the rest quantize as transformers loads). */
const CALIBRATED = ['gptq', 'awq'];

/** compressed-tensors through llm-compressor 0.14: GPTQ and AWQ, with no GPTQ setting that has no counterpart there. */
function checkCompressedTensors(plan: PipelinePlan): void {
  const refuse = (why: string): never => {
    throw new JobFailure('INVALID_JOB', `format "compressed-tensors" (llm-compressor 0.14) ${why}`, 'format');
  };
  if (!CALIBRATED.includes(plan.method)) refuse(`quantizes GPTQ and AWQ configs; ${plan.method} writes its own format`);
  if (plan.method === 'gptq' && plan.descAct)
    refuse("takes desc_act false only: its act-order checkpoints carry weight_g_idx, which QuantStudio's runtime does not run");
  if (plan.method === 'gptq' && plan.staticGroups) refuse('has no static_groups (remove it, or write the GPTQ format)');
}

/** The python backend runs what the libraries implement: GPTQ and AWQ through GPTQModel, bitsandbytes through transformers;
 *  the quantize handler asks before any work. */
export function checkRunnable(plan: PipelinePlan, format: string | undefined): void {
  if (format === COMPRESSED_TENSORS) return checkCompressedTensors(plan);
  if (CALIBRATED.includes(plan.method) || plan.method === 'nf4' || plan.method === 'fp4' || plan.method === 'int8') return;
  throw new JobFailure(
    'INVALID_JOB',
    'the python backend quantizes GPTQ and AWQ (GPTQModel 7.7) and bitsandbytes (NF4, FP4, int8) configs; ' +
      `${plan.method === 'rtn' ? 'algorithm rtn' : plan.method.toUpperCase()} runs on backend "engine"`,
    'backend',
  );
}

export async function quantizeOnPython(ctx: JobContext, plan: PipelinePlan, python: string): Promise<PythonQuantizeResult> {
  const o = ctx.job.options;
  const format = o.format as string | undefined; // checkRunnable passed before any work (handlers/quantize.ts)
  const library = format === COMPRESSED_TENSORS ? 'llm-compressor' : 'GPTQModel';
  let calibration: number[][] = [];
  if (CALIBRATED.includes(plan.method)) {
    ctx.progress('tokenize', 0, 1);
    const windows = planCalibration(ctx.modelFolder, plan, o.calibration as CalibrationOptions | undefined);
    for (let s = 0; s < windows.nsamples; s++)
      calibration.push(Array.from(windows.ids.subarray(s * windows.seqlen, (s + 1) * windows.seqlen)));
    ctx.log('info', `calibration: ${windows.nsamples} windows of ${windows.seqlen} tokens from ${windows.source}`);
  }
  // As the engine's pipeline: an existing folder is replaced when empty or when overwriting is allowed.
  const out = o.out as string;
  const replace = ((o.overwrite as boolean | undefined) ?? false) || isEmptyFolder(out);
  const staged = new StagedOutput(out, { overwrite: replace, source: ctx.modelFolder });
  let layersDone = 0;
  try {
    const recipe = pythonBackendRecipe(plan, (ctx.job.config ?? {}) as JsonObject, format);
    const job = { plan, recipe, source: ctx.modelFolder, out: staged.folder, calibration, ...(format ? { format } : {}) };
    calibration = [];
    // Inside the staging folder, so whatever removes a failed job's staging folder removes it too.
    const scratch = path.join(staged.folder, SCRATCH);
    fs.mkdirSync(scratch);
    const result = await runPythonRunner(python, 'quantize', job, {
      scratch,
      signal: ctx.signal,
      log: ctx.log,
      onReport: (r) => {
        if (r.type === 'phase') ctx.progress(r.phase, 0, 1, { message: `${r.phase} (python backend on ${r.device})` });
        if (r.type !== 'layer') return;
        const name = `model.layers.${r.index}`;
        const message = `${name}: ${r.seconds.toFixed(2)} s (${library})`;
        layersDone++;
        ctx.progress('layer', r.index + 1, r.total, { message, detail: { layer: name, seconds: r.seconds } });
        ctx.log('info', message);
      },
    });
    fs.rmSync(scratch, { recursive: true, force: true });
    copySideFiles(ctx.modelFolder, staged.folder);
    const written = staged.commit();
    return {
      ...written,
      out: written.folder,
      layersDone,
      memory: { peakRssBytes: result.peakRssBytes, cudaMaxAllocatedBytes: result.cudaMaxAllocatedBytes },
      backend: pythonBackendRecord(python, result),
    };
  } catch (error) {
    staged.discard();
    throw error;
  }
}

/** The tokenizer and generation files the libraries left out, from the source, as the engine's checkpoints have them. */
function copySideFiles(source: string, folder: string): void {
  for (const name of SOURCE_SIDE_FILES) {
    const from = path.join(source, name);
    const to = path.join(folder, name);
    if (fs.existsSync(from) && fs.statSync(from).isFile() && !fs.existsSync(to)) fs.copyFileSync(from, to);
  }
}

function isEmptyFolder(folder: string): boolean {
  try {
    return fs.statSync(folder).isDirectory() && fs.readdirSync(folder).length === 0;
  } catch {
    return false;
  }
}
