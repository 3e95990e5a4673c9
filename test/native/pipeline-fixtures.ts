// Helpers for the quantize pipeline tests: temp folders, a hash of a folder's files, and a dense copy of a
// quantized checkpoint (every packed linear dequantized back to `<prefix>.weight` F32) that the runtime
// runs whatever quantized linears it has registered — so quality is measured on exactly what was written.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { FormatName, unpackLayer } from '../../native/lib/formats';
import { TensorToWrite, readSafetensorsHeader, readTensor, writeCheckpoint } from '../../native/lib/io';
import { dequantize } from '../../native/lib/quant';

const created: string[] = [];

/** A new empty folder under the system temp dir, removed by removeTempDirs. */
export function tempDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `qs-pipeline-${label}-`));
  created.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** sha256 over every file's name and bytes, in name order. */
export function folderHash(folder: string): string {
  const h = crypto.createHash('sha256');
  for (const name of fs.readdirSync(folder).sort()) {
    h.update(name);
    h.update(fs.readFileSync(path.join(folder, name)));
  }
  return h.digest('hex');
}

/** name → {dtype, shape} over all safetensors files of a folder (single or sharded). */
export function tensorTable(folder: string): Map<string, { dtype: string; shape: number[] }> {
  const table = new Map<string, { dtype: string; shape: number[] }>();
  for (const file of fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors'))
    .sort()) {
    for (const t of readSafetensorsHeader(path.join(folder, file)).tensors) table.set(t.name, { dtype: t.dtype, shape: t.shape });
  }
  return table;
}

function formatOf(quantizationConfig: Record<string, unknown>): FormatName {
  if (quantizationConfig.quant_method === 'gptq') return 'gptq';
  if (quantizationConfig.quant_method === 'awq') return quantizationConfig.version === 'gemv' ? 'awq-gemv' : 'awq-gemm';
  return quantizationConfig._load_in_8bit === true ? 'bnb8' : 'bnb4';
}

/** Writes `out`: the checkpoint at `folder` with its linears dequantized to F32 and no quantization_config. */
export async function denseCopy(folder: string, out: string): Promise<void> {
  const config = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  const qc = config.quantization_config as Record<string, unknown>;
  const format = formatOf(qc);
  const bits = Number(qc.bits ?? 4);
  const groupSize = Number(qc.group_size ?? 128);
  const names = [...tensorTable(folder).keys()];
  const prefixes = new Set<string>();
  for (const n of names) {
    if (n.endsWith('.qweight')) prefixes.add(n.slice(0, -'.qweight'.length));
    if (n.endsWith('.SCB')) prefixes.add(n.slice(0, -'.SCB'.length));
    if (n.includes('.weight.quant_state.')) prefixes.add(n.slice(0, n.indexOf('.weight.quant_state.')));
  }
  const tensors: TensorToWrite[] = [];
  for (const prefix of prefixes) {
    const q = unpackLayer(format, folder, prefix, { bits, groupSize });
    const rows = q.kind === 'bnb4' ? q.shape[0] : q.rows;
    const cols = q.kind === 'bnb4' ? q.shape[1] : q.cols;
    tensors.push({ name: `${prefix}.weight`, dtype: 'F32', shape: [rows, cols], data: dequantize(q) });
  }
  const packedPart = (n: string): boolean => [...prefixes].some((p) => n.startsWith(`${p}.`) && !n.endsWith('.bias'));
  for (const n of names) {
    if (packedPart(n)) continue;
    const t = readTensor(folder, n);
    tensors.push({ name: n, dtype: t.dtype, shape: t.shape, data: t.data });
  }
  delete config.quantization_config;
  const files = [
    { name: 'model.safetensors', tensors },
    { name: 'config.json', text: JSON.stringify(config, null, 2) },
    ...['tokenizer.json', 'tokenizer_config.json', 'generation_config.json']
      .filter((f) => fs.existsSync(path.join(folder, f)))
      .map((f) => ({ name: f, text: fs.readFileSync(path.join(folder, f), 'utf8') })),
  ];
  await writeCheckpoint(out, files, { overwrite: true });
}
