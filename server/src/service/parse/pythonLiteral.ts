// Python literal expressions (tree-sitter nodes) → JSON-like values. Anything that is not a literal
// (a name, a call, an f-string, bytes, a splat…) yields undefined: its value is unknown, never guessed.
import type { Node } from '@vscode/tree-sitter-wasm';
import type { LiteralValue } from '../model';
import { MAX_LITERAL_DEPTH } from './limits';

/** Records the node of every nested value, keyed by its path below the argument (for error ranges). */
export type NodeSink = (path: ReadonlyArray<string | number>, keyNode: Node | undefined, valueNode: Node) => void;

/** Child lists without the nulls the runtime's typings allow for. */
export function childrenOf(node: Node): Node[] {
  return node.children.filter((c): c is Node => c !== null);
}

export function namedChildrenOf(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function unescapePython(raw: string): string {
  return raw.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g, (whole, seq: string) => {
    const head = seq[0];
    if (head === 'x' || head === 'u' || head === 'U') return String.fromCodePoint(parseInt(seq.slice(1), 16));
    if (/[0-7]/.test(head)) return String.fromCodePoint(parseInt(seq, 8));
    return SIMPLE_ESCAPES[seq] ?? whole;
  });
}

function stringValue(node: Node): string | undefined {
  const start = childrenOf(node).find((c) => c.type === 'string_start');
  const end = childrenOf(node).find((c) => c.type === 'string_end');
  if (!start || !end) return undefined;
  const prefix = start.text.replace(/["']+$/, '').toLowerCase();
  // f-strings are computed, bytes are not str: neither is a literal config value.
  if (prefix.includes('f') || prefix.includes('b') || prefix.includes('t')) return undefined;
  if (childrenOf(node).some((c) => c.type === 'interpolation')) return undefined;
  const source = node.text;
  const raw = source.slice(start.endIndex - node.startIndex, end.startIndex - node.startIndex);
  return prefix.includes('r') ? raw : unescapePython(raw);
}

function numberValue(text: string, isFloat: boolean): number | undefined {
  const clean = text.replace(/_/g, '');
  if (/[jJ]$/.test(clean)) return undefined; // complex
  if (isFloat) return Number(clean);
  if (/^0[xX]/.test(clean)) return parseInt(clean.slice(2), 16);
  if (/^0[oO]/.test(clean)) return parseInt(clean.slice(2), 8);
  if (/^0[bB]/.test(clean)) return parseInt(clean.slice(2), 2);
  const value = Number(clean);
  return Number.isFinite(value) ? value : undefined;
}

function convert(node: Node, path: Array<string | number>, sink: NodeSink | undefined, depth: number): LiteralValue | undefined {
  if (depth > MAX_LITERAL_DEPTH) return undefined;
  switch (node.type) {
    case 'integer':
      return numberValue(node.text, false);
    case 'float':
      return numberValue(node.text, true);
    case 'true':
      return true;
    case 'false':
      return false;
    case 'none':
      return null;
    case 'string':
      return stringValue(node);
    case 'concatenated_string': {
      const parts = namedChildrenOf(node).map((part) => (part.type === 'string' ? stringValue(part) : undefined));
      return parts.every((part): part is string => part !== undefined) ? parts.join('') : undefined;
    }
    case 'parenthesized_expression': {
      const inner = namedChildrenOf(node);
      return inner.length === 1 ? convert(inner[0], path, sink, depth + 1) : undefined;
    }
    case 'unary_operator': {
      const operator = node.childForFieldName('operator')?.text;
      const argument = node.childForFieldName('argument');
      if (!argument || (operator !== '-' && operator !== '+')) return undefined;
      const value = convert(argument, path, undefined, depth + 1);
      if (typeof value !== 'number') return undefined;
      return operator === '-' ? -value : value;
    }
    case 'list':
    case 'tuple': {
      const items: LiteralValue[] = [];
      for (const child of namedChildrenOf(node)) {
        const itemPath = [...path, items.length];
        sink?.(itemPath, undefined, child);
        const value = convert(child, itemPath, sink, depth + 1);
        if (value === undefined) return undefined;
        items.push(value);
      }
      return items;
    }
    case 'dictionary': {
      const result: { [key: string]: LiteralValue } = {};
      for (const child of namedChildrenOf(node)) {
        if (child.type !== 'pair') return undefined; // **splat, comprehension
        const keyNode = child.childForFieldName('key');
        const valueNode = child.childForFieldName('value');
        const key = keyNode?.type === 'string' ? stringValue(keyNode) : undefined;
        if (key === undefined || !valueNode) return undefined;
        const valuePath = [...path, key];
        sink?.(valuePath, keyNode ?? undefined, valueNode);
        const value = convert(valueNode, valuePath, sink, depth + 1);
        if (value === undefined) return undefined;
        result[key] = value;
      }
      return result;
    }
    default:
      return undefined;
  }
}

export function pythonLiteral(node: Node, sink?: NodeSink): LiteralValue | undefined {
  return convert(node, [], sink, 0);
}
