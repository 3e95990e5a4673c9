// The checkpoint doctor: what a quantized folder's tensors say (checkpointInference.ts) against what its
// configs say (config.json's quantization_config, quantize_config.json, quant_config.json, read through
// quantConfig.ts), a NaN / Inf / fp16-overflow scan of every float tensor, which loaders take it, and the
// corrected configs. Reading only: writeCorrectedConfigs is the one function that writes, and only when called.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inferCheckpoint } from './checkpointInference';
import type { CheckpointInference } from './checkpointInference';
import { checkpointLayout } from './checkpointLayouts';
import { countChunk, SCANNED_DTYPES } from './floatScan';
import { dynamicRules } from './gptqDynamic';
import type { FloatCounts } from './floatScan';
import { jsonObjectOf, readLocalModel } from './localFolder';
import { quantizationConfigOf } from './quantConfig';
import { forEachChunk } from './tensorData';
import type { JsonObject, JsonValue, TensorMeta } from './types';
import { CT_WEIGHTS, expectedSettings, KEY_SPELLINGS } from './doctorRules';
import type { Expected } from './doctorRules';
import { verdictsOf } from './doctorTargets';
import type { TargetVerdict } from './doctorTargets';
import { isSkipped } from './weightLayout';

export type { TargetVerdict } from './doctorTargets';

export interface DoctorFinding {
  /** Stable id: `config/<key>` for a config that disagrees with the tensors, `data/<what>` for the scan. */
  code: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  /** The config file it is about, and the edit that fixes it. */
  file?: string;
  fix?: { key: string; value: JsonValue } | { key: string; remove: string[] } | { key: string; add: string[] };
}

export interface ScanResult {
  tensors: number;
  bytes: number;
  counts: FloatCounts;
  /** First tensors (up to 5) holding each kind of bad value, and how many tensors hold it. */
  first: { nan: string[]; inf: string[]; overFp16: string[] };
  tensorsWith: FloatCounts;
}

export interface DoctorReport {
  folder: string;
  inference: CheckpointInference;
  /** What the tensors say, in quantization_config keys; undefined for an unquantized folder. */
  inferred: Expected | undefined;
  configFiles: string[];
  findings: DoctorFinding[];
  scan: ScanResult;
  targets: TargetVerdict[];
}

const SIDE_FILES = ['quantize_config.json', 'quant_config.json'];
const LISTED = 5;

interface ConfigFile {
  file: string;
  /** The whole file, and its quantization_config object (the same object for a side file). */
  json: JsonObject;
  quant: JsonObject;
}

async function readConfigs(folder: string, config: JsonObject): Promise<ConfigFile[]> {
  const files: ConfigFile[] = [];
  const own = quantizationConfigOf(config, 'config.json');
  if (own && config.quantization_config) files.push({ file: 'config.json', json: config, quant: config.quantization_config as JsonObject });
  for (const file of SIDE_FILES) {
    const text = await readFile(join(folder, file), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const json = jsonObjectOf(text, join(folder, file));
    if (quantizationConfigOf(json, file)) files.push({ file, json, quant: json });
  }
  return files;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** compressed-tensors' config groups that carry a weights scheme, by name. */
function weightGroups(quant: JsonObject): Array<[string, JsonObject]> {
  const groups = isObject(quant.config_groups) ? Object.entries(quant.config_groups) : [];
  return groups.flatMap(([name, g]) => (isObject(g) && isObject(g.weights) ? [[name, g.weights] as [string, JsonObject]] : []));
}

/** The value a config gives a canonical key: the spelling it uses, or the library default through quantizationConfigOf. */
function configured(c: ConfigFile, key: string): { spelling: string; value: JsonValue | undefined; present: boolean } {
  if (key.startsWith(CT_WEIGHTS)) {
    const field = key.slice(CT_WEIGHTS.length);
    const [name, weights] = weightGroups(c.quant)[0] ?? ['group_0', {}];
    const value = weights[field];
    return { spelling: `config_groups.${name}.weights.${field}`, value: value === null ? undefined : value, present: field in weights };
  }
  const spellings = KEY_SPELLINGS[key] ?? [key];
  const spelling = spellings.find((s) => s in c.quant) ?? spellings[0]!;
  const read = quantizationConfigOf(c.quant, c.file) ?? {};
  const value = spellings.map((s) => read[s]).find((v) => v !== undefined);
  return { spelling, value: typeof value === 'string' ? value.toLowerCase() : value, present: key in c.quant || spelling in c.quant };
}

function compareConfig(c: ConfigFile, expected: Expected, inference: CheckpointInference, findings: DoctorFinding[]): void {
  for (const [key, want] of Object.entries(expected.values)) {
    const { spelling, value, present } = configured(c, key);
    if (!expected.accepts(key, value)) {
      const said = value === undefined ? 'absent' : JSON.stringify(value);
      const default_ = present ? '' : ' (its default)';
      findings.push({
        code: `config/${key}`,
        severity: expected.severity(key, value),
        file: c.file,
        fix: { key: spelling, value: want },
        message: `${c.file}: ${spelling} is ${said}${default_}, but the tensors say ${JSON.stringify(want)}: ${expected.evidence(key)}. Set ${spelling} to ${JSON.stringify(want)}.`,
      });
    }
  }
  // The skip list is transformers' (it builds a quantized Linear for every module the list does not name): only
  // config.json's is read for that; GPTQModel's and AutoAWQ's side files take their modules from the tensors.
  if (c.file !== 'config.json') return;
  const skipKey = checkpointLayout(expected.layout).skipKey;
  const list = c.quant[skipKey];
  const listed = Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
  const unlisted = inference.keptLinears.filter((m) => !isSkipped(m, listed));
  if (unlisted.length > 0) {
    const one = unlisted.length === 1;
    const names = `${unlisted.slice(0, LISTED).join(', ')}${unlisted.length > LISTED ? ` and ${unlisted.length - LISTED} more` : ''}`;
    findings.push({
      code: `config/${skipKey}`,
      severity: 'error',
      file: c.file,
      fix: { key: skipKey, add: unlisted },
      message:
        `${c.file}: ${names} ${one ? 'is' : 'are'} stored in float, but ${skipKey} does not list ${one ? 'it' : 'them'}: ` +
        `transformers 5.23 builds a quantized Linear and finds no quantized tensors for it. Add ${one ? 'it' : 'them'} to the list.`,
    });
  }
  if (Array.isArray(list)) {
    const quantized = (s: string): string | undefined => inference.modules.find((m) => isSkipped(m.module, [s]))?.module;
    const wrong = list.filter((s): s is string => typeof s === 'string' && quantized(s) !== undefined);
    if (wrong.length > 0) {
      findings.push({
        code: `config/${skipKey}`,
        severity: 'error',
        file: c.file,
        fix: { key: skipKey, remove: wrong },
        message:
          `${c.file}: ${skipKey} lists ${wrong.map((s) => JSON.stringify(s)).join(', ')}, but ${quantized(wrong[0]!)} is stored quantized: ` +
          'transformers 5.23 builds it as a float Linear and the quantized tensors do not fit it. Remove them from the list.',
      });
    }
  }
}

async function scanFloats(folder: string, tensors: readonly TensorMeta[]): Promise<ScanResult> {
  const result: ScanResult = {
    tensors: 0,
    bytes: 0,
    counts: { nan: 0, inf: 0, overFp16: 0 },
    first: { nan: [], inf: [], overFp16: [] },
    tensorsWith: { nan: 0, inf: 0, overFp16: 0 },
  };
  for (const t of tensors) {
    if (!SCANNED_DTYPES.has(t.dtype)) continue;
    const own: FloatCounts = { nan: 0, inf: 0, overFp16: 0 };
    await forEachChunk(folder, t, (chunk) => countChunk(t.dtype, chunk, own));
    result.tensors++;
    result.bytes += t.bytes;
    for (const k of ['nan', 'inf', 'overFp16'] as const) {
      result.counts[k] += own[k];
      if (own[k] > 0) result.tensorsWith[k]++;
      if (own[k] > 0 && result.first[k].length < LISTED) result.first[k].push(t.name);
    }
  }
  return result;
}

const SCAN_FINDINGS: ReadonlyArray<{
  key: keyof FloatCounts;
  code: string;
  severity: DoctorFinding['severity'];
  what: string;
  effect: string;
}> = [
  {
    key: 'nan',
    code: 'data/nan',
    severity: 'error',
    what: 'NaN values',
    effect: 'every output that reads them is NaN. Re-quantize or re-download.',
  },
  {
    key: 'inf',
    code: 'data/inf',
    severity: 'error',
    what: 'infinite values',
    effect: 'outputs that read them are Inf or NaN. Re-quantize or re-download.',
  },
  {
    key: 'overFp16',
    code: 'data/fp16-overflow',
    severity: 'warning',
    what: 'values beyond ±65504',
    effect: 'a float16 kernel turns them into Inf. Load in bfloat16 or float32.',
  },
];

function scanFindings(scan: ScanResult): DoctorFinding[] {
  return SCAN_FINDINGS.filter((s) => scan.counts[s.key] > 0).map((s) => {
    const more =
      scan.tensorsWith[s.key] > scan.first[s.key].length ? `, and ${scan.tensorsWith[s.key] - scan.first[s.key].length} more tensors` : '';
    return {
      code: s.code,
      severity: s.severity,
      message: `${scan.counts[s.key]} ${s.what} in ${scan.first[s.key].join(', ')}${more}: ${s.effect}`,
    };
  });
}

/** Examines a local quantized folder; reads headers, the small g_idx / qzeros / quant-state tensors and streams every float tensor once. */
/** GPTQModel 7.7's `dynamic` gives modules their own bits, group size or no quantization: the whole-config comparison would misread them. */
function perModuleNote(c: ConfigFile): DoctorFinding {
  return {
    code: 'config/dynamic',
    severity: 'info',
    file: c.file,
    message:
      `${c.file}: dynamic gives modules their own settings (GPTQModel 7.7 per-module overrides); the doctor does not compare ` +
      'per-module settings, so bits, group size and the skip list are not checked against the tensors and no fix is offered.',
  };
}

export async function doctorFolder(folder: string): Promise<DoctorReport> {
  const { config, tensors } = await readLocalModel(folder);
  const configs = await readConfigs(folder, config);
  const format = configs.map((c) => c.quant.checkpoint_format ?? c.quant.format).find((f): f is string => typeof f === 'string');
  const inference = await inferCheckpoint(folder, tensors);
  const findings: DoctorFinding[] = [];
  const inferred = inference.layout ? expectedSettings(inference) : undefined;
  for (const u of inference.unreadable) findings.push({ code: 'tensors/unreadable', severity: 'error', message: `${u.module}: ${u.why}.` });
  if (inferred) {
    if (configs.length === 0) {
      const message = `the tensors are ${inferred.layout} but no config.json quantization_config, quantize_config.json or quant_config.json describes them.`;
      findings.push({ code: 'config/missing', severity: 'error', message });
    }
    for (const c of configs) {
      if (dynamicRules(c.quant.dynamic).length === 0) compareConfig(c, inferred, inference, findings);
      else findings.push(perModuleNote(c));
    }
  } else if (configs.length > 0) {
    findings.push({
      code: 'config/quant_method',
      severity: 'error',
      message: `${configs.map((c) => c.file).join(', ')} describe a quantized checkpoint, but the tensors hold no quantized module.`,
    });
  }
  const scan = await scanFloats(folder, tensors);
  findings.push(...scanFindings(scan));
  return {
    folder,
    inference,
    inferred,
    configFiles: configs.map((c) => c.file),
    findings,
    scan,
    targets: verdictsOf(inference, inferred, findings, format),
  };
}

/** Each config file with the doctor's fixes applied, by file name (only files that change). */
export async function correctedConfigs(report: DoctorReport): Promise<Map<string, JsonObject>> {
  const out = new Map<string, JsonObject>();
  for (const f of report.findings) {
    if (!f.file || !f.fix) continue;
    const json = out.get(f.file) ?? (JSON.parse(await readFile(join(report.folder, f.file), 'utf8')) as JsonObject);
    const quant = (f.file === 'config.json' ? json.quantization_config : json) as JsonObject;
    if ('add' in f.fix) {
      const had = Array.isArray(quant[f.fix.key]) ? (quant[f.fix.key] as JsonValue[]) : [];
      quant[f.fix.key] = [...had, ...f.fix.add];
    } else if ('remove' in f.fix) {
      const remove = f.fix.remove;
      quant[f.fix.key] = (quant[f.fix.key] as JsonValue[]).filter((s) => typeof s !== 'string' || !remove.includes(s));
    } else if (f.code.startsWith(`config/${CT_WEIGHTS}`)) {
      const field = f.code.slice(`config/${CT_WEIGHTS}`.length);
      for (const [, weights] of weightGroups(quant)) weights[field] = f.fix.value;
    } else {
      // Every spelling the file holds gets the value (GPTQModel writes both checkpoint_format and format).
      const present = (KEY_SPELLINGS[f.code.slice('config/'.length)] ?? []).filter((s) => s in quant);
      for (const key of present.length > 0 ? present : [f.fix.key]) quant[key] = f.fix.value;
    }
    out.set(f.file, json);
  }
  return out;
}

/** Writes the corrected configs, each through a temp file renamed over the original; returns the files written. */
export async function writeCorrectedConfigs(report: DoctorReport): Promise<string[]> {
  const written: string[] = [];
  for (const [file, json] of await correctedConfigs(report)) {
    const path = join(report.folder, file);
    const temp = `${path}.doctor-${process.pid}.tmp`;
    try {
      await writeFile(temp, `${JSON.stringify(json, null, 2)}\n`, { encoding: 'utf8', flag: 'wx' });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    written.push(file);
  }
  return written;
}
