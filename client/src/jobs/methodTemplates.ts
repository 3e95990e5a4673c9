// The methods "Quantize Model…" offers when there is no job file yet, each as the quantization_config a
// new *.quant.json starts from (the method's usual defaults, valid against schemas/job.schema.json).
// Data, plus the job file built around it. No `vscode` import.
import * as path from 'path';
import { parseHubRef } from '../../../native/model';
import type { QualityRow, SignRoundOptions } from '../../../native/model';

type Json = Record<string, unknown>;

export interface MethodTemplate {
  id: string;
  label: string;
  detail: string;
  config: Json;
  /** GPTQ and AWQ learn from calibration text; bitsandbytes does not. */
  calibrated: boolean;
  /** "rtn": round to nearest into the config's format (the job file's `algorithm`), no calibration. */
  algorithm?: 'rtn';
  /** The job file's `signRound` (learned rounding on the engine), as the quality table's row ran it. */
  signRound?: SignRoundOptions;
}

const GPTQ_DEFAULTS = {
  quant_method: 'gptq',
  damp_percent: 0.01,
  desc_act: false,
  sym: true,
  true_sequential: true,
  checkpoint_format: 'gptq',
};

export const METHOD_TEMPLATES: readonly MethodTemplate[] = [
  {
    id: 'gptq-4bit-g128',
    label: 'GPTQ 4-bit, group 128',
    detail: 'The common GPTQ setting: 4-bit weights, one scale per 128 inputs (AutoGPTQ / GPTQModel format).',
    config: { ...GPTQ_DEFAULTS, bits: 4, group_size: 128 },
    calibrated: true,
  },
  {
    id: 'gptq-3bit-g128',
    label: 'GPTQ 3-bit, group 128',
    detail: 'Smaller than 4-bit at a larger perplexity cost.',
    config: { ...GPTQ_DEFAULTS, bits: 3, group_size: 128 },
    calibrated: true,
  },
  {
    id: 'awq-4bit-g128',
    label: 'AWQ 4-bit, group 128',
    detail: 'Activation-aware scales, zero point, AutoAWQ GEMM format.',
    config: { quant_method: 'awq', bits: 4, group_size: 128, zero_point: true, version: 'gemm' },
    calibrated: true,
  },
  {
    id: 'bnb-nf4',
    label: 'bitsandbytes NF4',
    detail: '4-bit NormalFloat, blocks of 64 with double quantization; no calibration.',
    config: {
      quant_method: 'bitsandbytes',
      load_in_4bit: true,
      bnb_4bit_quant_type: 'nf4',
      bnb_4bit_use_double_quant: true,
      bnb_4bit_compute_dtype: 'float16',
    },
    calibrated: false,
  },
  {
    id: 'bnb-int8',
    label: 'bitsandbytes int8 (LLM.int8)',
    detail: 'Row-wise 8-bit absmax with fp16 outliers above the default threshold 6.0; no calibration.',
    // llm_int8_threshold is left to its default: JSON.stringify writes 6.0 as 6, which transformers rejects (not a float)
    config: { quant_method: 'bitsandbytes', load_in_8bit: true },
    calibrated: false,
  },
];

/** A quantization of the measured quality table (the advisor's pick) as a template; undefined for fp16 (nothing to run). */
export function qualityRowTemplate(row: QualityRow): MethodTemplate | undefined {
  if (!row.config) return undefined;
  const method = row.config['quant_method'];
  return {
    id: row.id,
    label: row.label,
    detail: `measured on the demo model: perplexity ${row.perplexity.toFixed(4)}`,
    config: { ...row.config },
    calibrated: method === 'gptq' || method === 'awq',
    ...(row.algorithm ? { algorithm: row.algorithm } : {}),
    ...(row.signRound ? { signRound: { ...row.signRound } } : {}),
  };
}

/**
 * A path as the job file writes it: relative with forward slashes when it lies inside the job file's folder
 * (the workspace moves as a whole), absolute when outside (e.g. the demo model inside the extension's
 * install folder, which changes with every update).
 */
function jobPath(from: string, to: string): string {
  const rel = path.relative(from, to);
  if (rel === '') return '.';
  return rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(to) : rel.split(path.sep).join('/');
}

/** Where a new job file and its output go: `<dir>/<model>-<method>.quant.json`, output `.quantstudio/models/<model>-<method>`. */
export function newJobFilePaths(workspaceDir: string, modelFolder: string, template: MethodTemplate): { jobFile: string; output: string } {
  const name = `${path.basename(path.resolve(modelFolder))}-${template.id}`;
  return { jobFile: path.join(workspaceDir, `${name}.quant.json`), output: path.join(workspaceDir, '.quantstudio', 'models', name) };
}

/** The backends a new job file can name; the python backend takes every template (GPTQModel 7.7, bitsandbytes 0.50). */
export const BACKEND_CHOICES = [
  { backend: 'engine', label: 'Native engine', detail: "QuantStudio's own engine on this CPU (default)" },
  {
    backend: 'python',
    label: 'Python libraries',
    detail: 'GPTQModel 7.7 / transformers 5.23 + bitsandbytes 0.50 in your Python environment, on CUDA when present, else CPU',
  },
] as const;
export type JobBackend = (typeof BACKEND_CHOICES)[number]['backend'];

/** The job file's object: paths inside its folder relative to it, perplexity measured before and after quantizing. */
export function jobFileObject(
  template: MethodTemplate,
  jobFile: string,
  modelFolder: string,
  output: string,
  backend: JobBackend = 'engine',
): Json {
  const base = path.dirname(jobFile);
  const job: Json = {
    // A Hub id (from the model pick) stays an id; a folder is written relative to the job file.
    model: parseHubRef(modelFolder) ? modelFolder : jobPath(base, modelFolder),
    quantization_config: { ...template.config },
  };
  if (template.algorithm) job.algorithm = template.algorithm;
  if (backend !== 'engine') job.backend = backend; // the schema's default needs no line
  if (template.calibrated && !template.algorithm) job.calibration = { dataset: 'wikitext2', nsamples: 128, seqlen: 256, seed: 0 };
  if (template.signRound) job.signRound = { ...template.signRound };
  job.output = jobPath(base, output);
  job.options = { evaluate: { before: true, after: true } };
  return job;
}

export function jobFileText(template: MethodTemplate, jobFile: string, modelFolder: string, output: string, backend?: JobBackend): string {
  return `${JSON.stringify(jobFileObject(template, jobFile, modelFolder, output, backend), null, 2)}\n`;
}
