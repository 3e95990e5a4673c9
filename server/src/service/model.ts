// The normalised config model every rule and feature works on, whatever file it came from.
// A document (config.json, quantize_config.json, quant_config.json, *.quant.json, Python) is parsed
// with positions into zero or more ConfigSites: one quantization config object each.

/** Zero-based line/character position, as in LSP. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** A JSON-like literal value. Python literals map to it (True → true, None → null, tuples → arrays). */
export type LiteralValue = null | boolean | number | string | LiteralValue[] | { [key: string]: LiteralValue };

/** Which kind of file a config came from: decides the schema and how values are written. */
export type FileKind =
  | 'model-config' // a model's config.json → quantization_config
  | 'autogptq-quantize-config' // AutoGPTQ / GPTQModel quantize_config.json
  | 'autoawq-quant-config' // AutoAWQ quant_config.json
  | 'job' // our *.quant.json job file → its method config
  | 'python'; // GPTQConfig(...) / AwqConfig(...) / BitsAndBytesConfig(...) call

/** The quantization methods we validate. Others (fp8, hqq, …) are 'other' and get at most a note. */
export type Method = 'gptq' | 'awq' | 'bitsandbytes';

export interface ConfigEntry {
  key: string;
  /** The value when it is a literal; `undefined` when it is not (a Python variable, a call, …): skip it, never guess. */
  value: LiteralValue | undefined;
  /** Source text of the value, e.g. `"4"` or `True` or `my_var`. */
  valueText: string;
  keyRange: Range;
  valueRange: Range;
  /** Range of the whole `key: value` / `key=value`, for removal. */
  range: Range;
}

export interface ConfigSite {
  fileKind: FileKind;
  /** 'other' carries the quant_method string it found (fp8, hqq, …). */
  method: Method | { other: string };
  /** Entries in source order (duplicates kept: JSON allows them, and that is itself a finding). */
  entries: ConfigEntry[];
  /** The whole object literal or call expression. */
  range: Range;
  /** Where to point when something is missing: the object's opening brace / the callee name. */
  anchorRange: Range;
  /** Range right after the last entry, where a quick fix may insert a new key. */
  insertAt: Position;
  /** Indentation and style hints for inserted text ('' indent: entries are written on one line). */
  style: { indent: string; syntax: 'json' | 'python'; quote?: '"' | "'" };
  /**
   * True when some arguments could not be read as key=value (Python positional arguments, `**kwargs`):
   * then a key's absence proves nothing.
   */
  incomplete?: boolean;
  /** Python only: the model the config is applied to (the `from_pretrained("...")` argument), when the file says. */
  modelReference?: { ref: string; range: Range };
}

/** Convenience lookups over a ConfigSite (first occurrence wins, as in the libraries' dict loading). */
export function entry(site: ConfigSite, key: string): ConfigEntry | undefined {
  return site.entries.find((e) => e.key === key);
}

export function literal(site: ConfigSite, key: string): LiteralValue | undefined {
  return entry(site, key)?.value;
}
