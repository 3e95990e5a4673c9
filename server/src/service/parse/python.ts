// Python files → one ConfigSite per GPTQConfig(...) / AwqConfig(...) / BitsAndBytesConfig(...) call,
// plain or qualified (transformers.GPTQConfig), wherever it appears (e.g. inside from_pretrained(...,
// quantization_config=...)). Parsed with tree-sitter's Python grammar, within a time budget: a file that
// misses it is read only around its config calls.
import type { Node, Parser } from '@vscode/tree-sitter-wasm';
import type { ConfigEntry, ConfigSite, Method, Range } from '../model';
import { mayHoldConfig } from '../fileKind';
import { LineIndex } from '../text';
import type { ServiceFinding } from '../finding';
import type { ParsedDocument, ValuePath } from './document';
import { MAX_PYTHON_SITES, PYTHON_PARSE_BUDGET } from './limits';
import type { ParseBudget } from './limits';
import { childrenOf, namedChildrenOf, pythonLiteral } from './pythonLiteral';
import { ModelTargets, pythonModelTarget } from './pythonModelTarget';
import { parseWithin } from './pythonBudget';
import { configCallWindows } from './pythonWindows';

/** The transformers config classes we read, by class name. */
export const CONFIG_CLASSES: Readonly<Record<string, Method>> = {
  GPTQConfig: 'gptq',
  AwqConfig: 'awq',
  BitsAndBytesConfig: 'bitsandbytes',
};

interface NodeRanges {
  key?: Range;
  value: Range;
}

/** The class-name node of a call to one of CONFIG_CLASSES, if it is one. */
function configClassName(call: Node): Node | undefined {
  const callee = call.childForFieldName('function');
  const name = callee?.type === 'identifier' ? callee : callee?.type === 'attribute' ? callee.childForFieldName('attribute') : null;
  return name && Object.hasOwn(CONFIG_CLASSES, name.text) ? name : undefined;
}

/** The quote a call writes strings with; a call without strings follows the file (`fileQuote`, computed once). */
function quoteOf(call: Node, fileQuote: () => '"' | "'"): '"' | "'" {
  const local = call.descendantsOfType('string_start')[0];
  if (!local) return fileQuote();
  return local.text.endsWith("'") ? "'" : '"';
}

/** Offsets → positions; a window's tree counts offsets from the window's start. */
type Offsets = Pick<LineIndex, 'range' | 'positionAt' | 'indentAt'>;

function shifted(lines: LineIndex, by: number): Offsets {
  return {
    range: (start, end) => lines.range(start + by, end + by),
    positionAt: (offset) => lines.positionAt(offset + by),
    indentAt: (offset) => lines.indentAt(offset + by),
  };
}

function siteOf(call: Node, className: Node, fileQuote: () => '"' | "'", lines: Offsets, ranges: Map<string, NodeRanges>): ConfigSite {
  const args = call.childForFieldName('arguments');
  const argNodes = args?.type === 'argument_list' ? namedChildrenOf(args) : [];
  const range = (node: Node): Range => lines.range(node.startIndex, node.endIndex);
  const entries: ConfigEntry[] = [];
  let incomplete = args?.type !== 'argument_list';
  for (const arg of argNodes) {
    const name = arg.type === 'keyword_argument' ? arg.childForFieldName('name') : null;
    const valueNode = arg.type === 'keyword_argument' ? arg.childForFieldName('value') : null;
    if (!name || !valueNode) {
      incomplete = true; // positional argument, *args, **kwargs, or a broken argument
      continue;
    }
    const key = name.text;
    ranges.set(JSON.stringify([key]), { key: range(name), value: range(valueNode) });
    const value = pythonLiteral(valueNode, (path, keyNode, node) =>
      ranges.set(JSON.stringify([key, ...path]), { key: keyNode ? range(keyNode) : undefined, value: range(node) }),
    );
    entries.push({ key, value, valueText: valueNode.text, keyRange: range(name), valueRange: range(valueNode), range: range(arg) });
  }
  const openParen = args ? childrenOf(args).find((c) => c.type === '(') : undefined;
  const lastArg = argNodes[argNodes.length - 1];
  const firstArg = argNodes[0];
  const multiLine = firstArg !== undefined && openParen !== undefined && firstArg.startPosition.row !== openParen.startPosition.row;
  return {
    fileKind: 'python',
    method: CONFIG_CLASSES[className.text],
    entries,
    range: range(call),
    anchorRange: range(className),
    insertAt: lines.positionAt(lastArg ? lastArg.endIndex : openParen ? openParen.endIndex : call.endIndex),
    style: { indent: multiLine ? lines.indentAt(firstArg.startIndex) : '', syntax: 'python', quote: quoteOf(call, fileQuote) },
    incomplete,
  };
}

interface Collected {
  sites: ConfigSite[];
  rangesBySite: Map<ConfigSite, Map<string, NodeRanges>>;
  findings: ServiceFinding[];
}

/** Adds the config calls of one tree (the file's, or one window's); false once MAX_PYTHON_SITES is passed. */
function collect(root: Node, lines: Offsets, out: Collected): boolean {
  let quote: '"' | "'" | undefined;
  const fileQuote = (): '"' | "'" => (quote ??= root.descendantsOfType('string_start')[0]?.text.endsWith("'") ? "'" : '"');
  const targets = new ModelTargets(root);
  for (const call of root.descendantsOfType('call')) {
    const className = call ? configClassName(call) : undefined;
    if (!call || !className) continue;
    if (out.sites.length === MAX_PYTHON_SITES) {
      out.findings.push({
        code: 'python/too-many-configs',
        severity: 'information',
        message: `Only the first ${MAX_PYTHON_SITES} config calls of this file are checked.`,
        range: lines.range(call.startIndex, call.endIndex),
      });
      return false;
    }
    const ranges = new Map<string, NodeRanges>();
    const site = siteOf(call, className, fileQuote, lines, ranges);
    const target = pythonModelTarget(call, targets);
    if (target) site.modelReference = { ref: target.ref, range: lines.range(target.node.startIndex, target.node.endIndex) };
    out.sites.push(site);
    out.rangesBySite.set(site, ranges);
    const args = call.childForFieldName('arguments');
    if (args?.hasError) {
      out.findings.push({
        code: 'python/syntax',
        severity: 'warning',
        message: `This ${className.text}(...) call has a syntax error; only the arguments that parse are checked.`,
        range: site.range,
      });
    }
  }
  return true;
}

/** Reads `tree` and frees it (it lives in wasm memory: we keep only plain data). */
function collectTree(tree: { rootNode: Node; delete(): void }, lines: Offsets, out: Collected): boolean {
  try {
    return collect(tree.rootNode, lines, out);
  } finally {
    tree.delete();
  }
}

/** The file missed its budget: parse each config call on its own, in what is left of a second budget. */
function collectWindows(text: string, parser: Parser, lines: LineIndex, budget: ParseBudget, out: Collected): void {
  const start = { line: 0, character: 0 };
  out.findings.push({
    code: 'python/parse-budget',
    severity: 'information',
    message:
      `This file takes longer than ${budget.fileMs} ms to parse (very long comment runs or an unclosed string slow the parser down), ` +
      'so only its config calls are read; a config assigned to a variable is not matched with the model it is loaded with.',
    range: { start, end: start },
  });
  const deadline = performance.now() + budget.windowsMs;
  for (const window of configCallWindows(text, MAX_PYTHON_SITES + 1, budget.windowLength)) {
    const left = deadline - performance.now();
    // A call cut short gets its closing parenthesis, so that its first arguments still read as a call.
    const source = text.slice(window.start, window.end) + (window.closed ? '' : ')');
    const tree = left > 0 ? parseWithin(parser, source, left) : undefined;
    if (!tree) {
      out.findings.push({
        code: 'python/parse-budget',
        severity: 'information',
        message: 'This config call and the ones after it were not checked: the file takes too long to parse.',
        range: lines.range(window.name, window.name),
      });
      return;
    }
    if (!collectTree(tree, shifted(lines, window.start), out)) return;
  }
}

export function parsePythonDocument(text: string, parser: Parser, budget: ParseBudget = PYTHON_PARSE_BUDGET): ParsedDocument {
  const lines = new LineIndex(text);
  const out: Collected = { sites: [], rangesBySite: new Map(), findings: [] };
  const tree = parseWithin(parser, text, budget.fileMs);
  if (tree) collectTree(tree, lines, out);
  else collectWindows(text, parser, lines, budget, out);
  // Read around its calls, the file is ours even where none of them could be read: it gets the notes.
  const windowed = !tree && mayHoldConfig('python', text);
  const { sites, rangesBySite, findings } = out;
  return {
    kind: 'python',
    lines,
    ours: sites.length > 0 || windowed,
    sites,
    findings,
    sitePaths: sites.map((): ValuePath => []),
    rangeOf(site, path, part) {
      const ranges = site ? rangesBySite.get(site)?.get(JSON.stringify(path)) : undefined;
      return part === 'key' ? ranges?.key : ranges?.value;
    },
  };
}
