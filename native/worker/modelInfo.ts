// Reads the model folder's config.json and safetensors headers (no weights) before the engine loads
// anything: a malformed or weightless folder is a clear error up front, and the result records the size.
import { formatModelError, ModelErrorException, readLocalModel } from '../model';
import { JobFailure } from './jobFailure';

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

export interface ModelInfo {
  /** Parameter count, when every tensor is unquantized (packed tensors do not count parameters 1:1). */
  params?: number;
}

export async function readModelInfo(folder: string): Promise<ModelInfo> {
  try {
    const { tensors } = await readLocalModel(folder);
    if (!tensors.every((t) => FLOAT_DTYPES.has(t.dtype))) return {};
    return { params: tensors.reduce((sum, t) => sum + t.shape.reduce((n, d) => n * d, 1), 0) };
  } catch (error) {
    if (error instanceof ModelErrorException) throw new JobFailure('INVALID_MODEL', formatModelError(error.error), error.error.where);
    throw error;
  }
}
