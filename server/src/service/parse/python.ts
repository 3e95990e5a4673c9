// Python files → one ConfigSite per GPTQConfig(...) / AwqConfig(...) / BitsAndBytesConfig(...) call,
// plain or qualified (transformers.GPTQConfig), wherever it appears (e.g. inside from_pretrained(...,
// quantization_config=...)). Parsed with tree-sitter's Python grammar.
import type { Node, Parser } from '@vscode/tree-sitter-wasm';
import type { ConfigEntry, ConfigSite, Method, Range } from '../model';
import { LineIndex } from '../text';
import type { ServiceFinding } from '../finding';
import type { ParsedDocument, ValuePath } from './document';
import { MAX_PYTHON_SITES } from './limits';
import { childrenOf, namedChildrenOf, pythonLiteral } from './pythonLiteral';
import { pythonModelTarget } from './pythonModelTarget';

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

function siteOf(call: Node, className: Node, fileQuote: () => '"' | "'", lines: LineIndex, ranges: Map<string, NodeRanges>): ConfigSite {
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

export function parsePythonDocument(text: string, parser: Parser): ParsedDocument {
  const lines = new LineIndex(text);
  const tree = parser.parse(text);
  const sites: ConfigSite[] = [];
  const rangesBySite = new Map<ConfigSite, Map<string, NodeRanges>>();
  const findings: ServiceFinding[] = [];
  if (tree) {
    try {
      const root = tree.rootNode;
      let quote: '"' | "'" | undefined;
      const fileQuote = (): '"' | "'" => (quote ??= root.descendantsOfType('string_start')[0]?.text.endsWith("'") ? "'" : '"');
      for (const call of root.descendantsOfType('call')) {
        const className = call ? configClassName(call) : undefined;
        if (!call || !className) continue;
        if (sites.length === MAX_PYTHON_SITES) {
          findings.push({
            code: 'python/too-many-configs',
            severity: 'information',
            message: `Only the first ${MAX_PYTHON_SITES} config calls of this file are checked.`,
            range: lines.range(call.startIndex, call.endIndex),
          });
          break;
        }
        const ranges = new Map<string, NodeRanges>();
        const site = siteOf(call, className, fileQuote, lines, ranges);
        const target = pythonModelTarget(call, root);
        if (target) site.modelReference = { ref: target.ref, range: lines.range(target.node.startIndex, target.node.endIndex) };
        sites.push(site);
        rangesBySite.set(site, ranges);
        const args = call.childForFieldName('arguments');
        if (args?.hasError) {
          findings.push({
            code: 'python/syntax',
            severity: 'warning',
            message: `This ${className.text}(...) call has a syntax error; only the arguments that parse are checked.`,
            range: site.range,
          });
        }
      }
    } finally {
      tree.delete(); // the tree lives in wasm memory: free it, we keep only plain data
    }
  }
  return {
    kind: 'python',
    lines,
    ours: sites.length > 0,
    sites,
    findings,
    sitePaths: sites.map((): ValuePath => []),
    rangeOf(site, path, part) {
      const ranges = site ? rangesBySite.get(site)?.get(JSON.stringify(path)) : undefined;
      return part === 'key' ? ranges?.key : ranges?.value;
    },
  };
}
