// Caps that keep one pathological document from stalling the server: beyond them we say so and stop.

/** Documents above this size get one information note instead of validation (UTF-16 code units). A validation
 *  holds up requests on every other document, and parsing and checking dense JSON takes 0.2-0.3 s per MB (1 s
 *  and more on a busy machine); a real config is a few kilobytes, the largest (long module lists) tens. */
export const MAX_DOCUMENT_LENGTH = 256 * 1024;

/** Python parses run under PYTHON_PARSE_BUDGET; this cap bounds what falls back to reading around config calls. */
export const MAX_PYTHON_LENGTH = 512 * 1024;

export function maxLength(kind: 'python' | 'json'): number {
  return kind === 'python' ? MAX_PYTHON_LENGTH : MAX_DOCUMENT_LENGTH;
}

/**
 * Deepest JSON nesting we read. Python's json.load gives up far earlier in practice (RecursionError near
 * 1000 levels), so a deeper file cannot be loaded by the libraries either.
 */
export const MAX_JSON_DEPTH = 500;

/** Syntax errors reported per document; the rest are summarised in one line. */
export const MAX_SYNTAX_FINDINGS = 20;

/** Nesting depth of Python literals we convert; deeper values are treated as non-literal. */
export const MAX_LITERAL_DEPTH = 64;

/** Schema findings reported per validation run; beyond this one note says how many more there are. */
export const MAX_SCHEMA_FINDINGS = 200;

/** Config calls checked per Python file; a file with more is generated code, not a config to edit. */
export const MAX_PYTHON_SITES = 200;

export interface ParseBudget {
  /** Milliseconds for parsing a whole Python file; past them only the config calls are parsed. */
  fileMs: number;
  /** Milliseconds for parsing the config calls one by one; past them the rest are not checked (and we say so). */
  windowsMs: number;
  /** Longest config call parsed on its own (UTF-16 code units). */
  windowLength: number;
}

/** Tree-sitter's time on some inputs grows with the square of the file: bounded so that no file holds the server up. */
export const PYTHON_PARSE_BUDGET: ParseBudget = { fileMs: 400, windowsMs: 300, windowLength: 32 * 1024 };

/** Findings one rule reports per config; beyond this one note says how many more there are. */
export const MAX_RULE_FINDINGS = 50;

/** Findings published per document; beyond this one note says how many more there are. */
export const MAX_DOCUMENT_FINDINGS = 500;
