// What parsing a document yields: its config sites plus findings about the file itself (syntax),
// and a way back from a value's location (a JSON pointer) to its source range.
import type { ConfigSite, FileKind, Range } from '../model';
import type { ServiceFinding } from '../finding';
import type { LineIndex } from '../text';

/** Path segments from the document root (JSON) or the call's keyword arguments (Python). */
export type ValuePath = ReadonlyArray<string | number>;

export interface ParsedDocument {
  kind: FileKind;
  lines: LineIndex;
  /** False when the file has a name we know but is not a quantization config (config.json without one). */
  ours: boolean;
  sites: ConfigSite[];
  /** Findings about the file itself (syntax, strictness, size), before any config is looked at. */
  findings: ServiceFinding[];
  /** JSON only: the whole document's value, validated against the file kind's schema. */
  documentValue?: unknown;
  /** Where each site lives inside the document value (JSON: ['quantization_config'] or []). */
  sitePaths: ValuePath[];
  /**
   * JSON only: the value path of the key or literal value at an offset (`onKey` when on a property name).
   * Python call sites answer with entries and ranges instead.
   */
  pathAt?(offset: number): { path: ValuePath; onKey: boolean } | undefined;
  /** Source range of the key or value at a path (paths as in `documentValue`, or per site for Python). */
  rangeOf(site: ConfigSite | undefined, path: ValuePath, part: 'key' | 'value'): Range | undefined;
}
