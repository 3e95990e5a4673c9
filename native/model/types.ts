// The resolved model every estimate and model-aware rule works on: config.json plus the tensor
// metadata of all safetensors shards. Only headers are read; tensor data never is.

/** A plain JSON object, as config.json holds. */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** Safetensors dtype names, as they appear in headers. */
export type SafetensorsDtype =
  'F64' | 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'F8_E5M2' | 'I64' | 'U64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

export interface TensorMeta {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte length of the tensor's data (data_offsets end − begin). */
  bytes: number;
  /** Shard file the tensor lives in, relative to the model root. */
  file: string;
  /** Start of its data within the file's data buffer (after the header); absent where only sizes are known. */
  offset?: number;
}

/** Where a model was found. */
export type ModelSource = 'local' | 'hf-cache' | 'hub';

export interface ResolvedModel {
  /** The reference as given (folder path or hub id). */
  ref: string;
  source: ModelSource;
  /** Commit hash when known (HF cache snapshot, Hub); undefined for a plain local folder. */
  revision: string | undefined;
  /** Local folder the files came from; undefined for the Hub. */
  folder: string | undefined;
  config: JsonObject;
  tensors: TensorMeta[];
}
