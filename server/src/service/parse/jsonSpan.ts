// A config.json is mostly the model's settings (some thousands of lines of per-layer lists in deep models);
// the quantization config is one small top-level value. For strict JSON (already checked by JSON.parse) this
// finds that value's offsets with a bracket count, so only it is parsed into a tree with positions.
import { parseTree } from 'jsonc-parser';
import type { Node as JsonNode } from 'jsonc-parser';

const STRUCTURE = /["{}[\]]/g;

/** The end (exclusive) of the string literal that opens at `start`. */
function stringEnd(text: string, start: number): number {
  for (let quote = text.indexOf('"', start + 1); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 92 /* \ */) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
  }
  return text.length;
}

function skipSpace(text: string, at: number): number {
  while (at < text.length && ' \t\r\n'.includes(text[at])) at++;
  return at;
}

/** Offsets [start, end) of the value of a top-level object's `key` (the last one, as json.load keeps), in strict JSON. */
export function topLevelValueSpan(text: string, key: string): { start: number; end: number } | undefined {
  let depth = 0;
  let span: { start: number; end: number } | undefined;
  let open: { start: number; depth: number } | undefined; // a matched key's object or array value, until it closes
  STRUCTURE.lastIndex = 0;
  for (let match = STRUCTURE.exec(text); match !== null; match = STRUCTURE.exec(text)) {
    const at = match.index;
    const c = text[at];
    if (c === '"') {
      const end = stringEnd(text, at);
      STRUCTURE.lastIndex = end;
      const colon = skipSpace(text, end);
      if (depth !== 1 || text[colon] !== ':' || JSON.parse(text.slice(at, end)) !== key) continue;
      const start = skipSpace(text, colon + 1);
      if (text[start] === '{' || text[start] === '[') open = { start, depth: depth + 1 };
      else span = { start, end: scalarEnd(text, start) };
    } else if (c === '{' || c === '[') depth++;
    else {
      if (open && depth === open.depth) {
        span = { start: open.start, end: at + 1 };
        open = undefined;
      }
      depth--;
    }
  }
  return span;
}

/** The end of a scalar value (number, string, true, false, null) at `start`. */
function scalarEnd(text: string, start: number): number {
  if (text[start] === '"') return stringEnd(text, start);
  let end = start;
  while (end < text.length && !',}] \t\r\n'.includes(text[end])) end++;
  return end;
}

/** The tree of text[start, end) with offsets in the whole text. */
export function parseSpan(text: string, start: number, end: number): JsonNode | undefined {
  const root = parseTree(text.slice(start, end));
  // jsonc-parser's nodes are plain objects; its typings mark offset read-only for its own users.
  const shift = (node: JsonNode): void => {
    (node as { offset: number }).offset += start;
    node.children?.forEach(shift);
  };
  if (root) shift(root);
  return root;
}
