// Caps that keep one pathological document from stalling the server: beyond them we say so and stop.

/** Documents above this size get one information note instead of validation (UTF-16 code units). */
export const MAX_DOCUMENT_LENGTH = 5 * 1024 * 1024;

/** Python is parsed in full by tree-sitter (about a second per MB on this machine): a lower cap keeps the server responsive. */
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
