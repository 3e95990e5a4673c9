// JSON documents (config.json, quantize_config.json, quant_config.json, *.quant.json) → ConfigSites.
// Parsed tolerantly with jsonc-parser so that a comment or a trailing comma does not hide every other
// finding, but both are reported: the libraries read these files with Python's json.load, which rejects them.
import { createScanner, findNodeAtOffset, getNodePath, getNodeValue, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Node as JsonNode, ParseError, SyntaxKind } from 'jsonc-parser';
import type { ConfigEntry, ConfigSite, FileKind, LiteralValue, Method } from '../model';
import { mayHoldConfig } from '../fileKind';
import { LineIndex } from '../text';
import type { ServiceFinding } from '../finding';
import type { ParsedDocument, ValuePath } from './document';
import { MAX_JSON_DEPTH, MAX_SYNTAX_FINDINGS } from './limits';
import { parseSpan, topLevelValueSpan } from './jsonSpan';

type JsonFileKind = Exclude<FileKind, 'python'>;

const TREE_OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false };

/** Who reads each kind of file strictly, for the messages about comments and trailing commas. */
const STRICT_READER: Readonly<Record<JsonFileKind, string>> = {
  'model-config': "transformers reads config.json with Python's json.load",
  'autogptq-quantize-config': "AutoGPTQ / GPTQModel read quantize_config.json with Python's json.load",
  'autoawq-quant-config': "AutoAWQ reads quant_config.json with Python's json.load",
  job: 'QuantStudio reads job files as strict JSON',
};

/** Where the quantization config object sits in each kind of file. */
const SITE_PATH: Readonly<Record<JsonFileKind, ValuePath>> = {
  'model-config': ['quantization_config'],
  'autogptq-quantize-config': [],
  'autoawq-quant-config': [],
  job: ['quantization_config'],
};

const PARSE_ERROR_TEXT: Readonly<Record<string, string>> = {
  InvalidSymbol: 'unexpected symbol',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'a property name in double quotes is expected here',
  ValueExpected: 'a value is expected here',
  ColonExpected: "':' is expected here",
  CommaExpected: "',' is expected here",
  CloseBraceExpected: "'}' is expected here",
  CloseBracketExpected: "']' is expected here",
  EndOfFileExpected: 'nothing may follow the top-level value',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'control characters must be escaped inside strings',
};

// jsonc-parser's SyntaxKind is a const enum; these are its values for the tokens the strictness scan needs.
const TOKEN = {
  openBrace: 1 as SyntaxKind,
  closeBrace: 2 as SyntaxKind,
  openBracket: 3 as SyntaxKind,
  closeBracket: 4 as SyntaxKind,
  comma: 5 as SyntaxKind,
  lineComment: 12 as SyntaxKind,
  blockComment: 13 as SyntaxKind,
  lineBreak: 14 as SyntaxKind,
  trivia: 15 as SyntaxKind,
  eof: 17 as SyntaxKind,
};

interface StrictnessScan {
  maxDepth: number;
  findings: ServiceFinding[];
}

/** One pass over the tokens: nesting depth, comments and trailing commas (which jsonc tolerates, json.load does not). */
function scanStrictness(text: string, kind: JsonFileKind, lines: LineIndex): StrictnessScan {
  const scanner = createScanner(text, false);
  const findings: ServiceFinding[] = [];
  const reader = STRICT_READER[kind];
  let depth = 0;
  let maxDepth = 0;
  let pendingComma = -1;
  for (let token = scanner.scan(); token !== TOKEN.eof; token = scanner.scan()) {
    const offset = scanner.getTokenOffset();
    switch (token) {
      case TOKEN.trivia:
      case TOKEN.lineBreak:
        continue;
      case TOKEN.lineComment:
      case TOKEN.blockComment:
        findings.push({
          code: 'json/comment',
          severity: 'error',
          message: `Comments are not allowed in JSON: ${reader}, which rejects them. Remove the comment.`,
          range: lines.range(offset, offset + scanner.getTokenLength()),
        });
        continue;
      case TOKEN.openBrace:
      case TOKEN.openBracket:
        depth++;
        if (depth > maxDepth) maxDepth = depth;
        if (maxDepth > MAX_JSON_DEPTH) return { maxDepth, findings };
        break;
      case TOKEN.closeBrace:
      case TOKEN.closeBracket:
        depth--;
        if (pendingComma >= 0) {
          findings.push({
            code: 'json/trailing-comma',
            severity: 'error',
            message: `Trailing comma: ${reader}, which rejects it. Remove the comma.`,
            range: lines.range(pendingComma, pendingComma + 1),
          });
        }
        break;
    }
    pendingComma = token === TOKEN.comma ? offset : -1;
  }
  return { maxDepth, findings };
}

function syntaxFindings(allErrors: ParseError[], lines: LineIndex): ServiceFinding[] {
  // One error per place: the parser often reports a second, consequential one at the same offset.
  const errors = allErrors.filter((error, i) => i === 0 || error.offset !== allErrors[i - 1].offset);
  const findings: ServiceFinding[] = errors.slice(0, MAX_SYNTAX_FINDINGS).map((error) => {
    const name = printParseErrorCode(error.error);
    return {
      code: 'json/syntax',
      severity: 'error',
      message: `Invalid JSON: ${PARSE_ERROR_TEXT[name] ?? name}.`,
      range: lines.range(error.offset, error.offset + Math.max(1, error.length)),
    };
  });
  if (errors.length > MAX_SYNTAX_FINDINGS) {
    const last = errors[MAX_SYNTAX_FINDINGS];
    findings.push({
      code: 'json/syntax',
      severity: 'error',
      message: `Invalid JSON: ${errors.length - MAX_SYNTAX_FINDINGS} more syntax errors not shown. Is this a JSON file?`,
      range: lines.range(last.offset, last.offset + Math.max(1, last.length)),
    });
  }
  return findings;
}

/** The value of `key`; for a key given twice the last one, which json.load keeps. */
function propertyValue(object: JsonNode | undefined, key: string): JsonNode | undefined {
  if (object?.type !== 'object') return undefined;
  let found: JsonNode | undefined;
  for (const property of object.children ?? []) {
    const [name, value] = property.children ?? [];
    if (name?.value === key) found = value;
  }
  return found;
}

function methodOf(kind: JsonFileKind, object: JsonNode): Method | { other: string } {
  if (kind === 'autogptq-quantize-config') return 'gptq';
  if (kind === 'autoawq-quant-config') return 'awq';
  const quantMethod = propertyValue(object, 'quant_method');
  if (quantMethod?.type === 'string') {
    const name = String(quantMethod.value);
    return name === 'gptq' || name === 'awq' || name === 'bitsandbytes' ? name : { other: name };
  }
  // transformers infers bitsandbytes from the load_in_* flags when quant_method is absent.
  const loadIn4 = propertyValue(object, 'load_in_4bit')?.value;
  const loadIn8 = propertyValue(object, 'load_in_8bit')?.value;
  if (loadIn4 === true || loadIn8 === true) return 'bitsandbytes';
  return { other: '' };
}

function siteOf(kind: JsonFileKind, object: JsonNode, lines: LineIndex): ConfigSite {
  const entries: ConfigEntry[] = [];
  for (const property of object.children ?? []) {
    const [name, value] = property.children ?? [];
    if (name?.type !== 'string') continue;
    const keyRange = lines.range(name.offset, name.offset + name.length);
    const valueEnd = value ? value.offset + value.length : name.offset + name.length;
    entries.push({
      key: String(name.value),
      value: value ? (getNodeValue(value) as LiteralValue) : undefined,
      valueText: value ? lines.text.slice(value.offset, valueEnd) : '',
      keyRange,
      valueRange: value ? lines.range(value.offset, valueEnd) : { start: keyRange.end, end: keyRange.end },
      range: lines.range(property.offset, Math.max(valueEnd, property.offset + property.length)),
    });
  }
  const children = object.children ?? [];
  const last = children[children.length - 1];
  const first = children[0];
  const multiLine = first !== undefined && lines.positionAt(first.offset).line !== lines.positionAt(object.offset).line;
  return {
    fileKind: kind,
    method: methodOf(kind, object),
    entries,
    range: lines.range(object.offset, object.offset + object.length),
    anchorRange: lines.range(object.offset, object.offset + 1),
    insertAt: lines.positionAt(last ? last.offset + last.length : object.offset + 1),
    style: { indent: multiLine ? lines.indentAt(first.offset) : '', syntax: 'json', quote: '"' },
  };
}

/** Property values by key, built once per object: lookups stay linear in files with thousands of keys. */
const propertyIndex = new WeakMap<JsonNode, Map<string, JsonNode>>();

/**
 * The node at a path. For a key given twice, the last one: that is the value json.load keeps and the
 * schema validated.
 */
function nodeAt(root: JsonNode, path: ValuePath): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    if (typeof segment === 'number') {
      node = node.type === 'array' ? node.children?.[segment] : undefined;
      continue;
    }
    if (node.type !== 'object') return undefined;
    let index = propertyIndex.get(node);
    if (!index) {
      index = new Map();
      for (const property of node.children ?? []) {
        const [name, value] = property.children ?? [];
        if (name && value) index.set(String(name.value), value);
      }
      propertyIndex.set(node, index);
    }
    node = index.get(segment);
  }
  return node;
}

/** The value of a document that is strict JSON (V8's parser, several times faster than a token scan), else undefined. */
function strictValue(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** Nesting depth of a parsed JSON value (what the strictness scan counts in brackets), without recursion. */
function depthOf(value: unknown): number {
  let maxDepth = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [item, depth] = top;
    if (item === null || typeof item !== 'object') continue;
    maxDepth = Math.max(maxDepth, depth + 1);
    if (maxDepth > MAX_JSON_DEPTH) break;
    for (const child of Array.isArray(item) ? item : Object.values(item))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return maxDepth;
}

export function parseJsonDocument(text: string, kind: JsonFileKind): ParsedDocument {
  const lines = new LineIndex(text);
  const sitePath = SITE_PATH[kind];
  // Strict JSON has no comment, trailing comma or syntax error to report: only its depth needs checking.
  const strict = strictValue(text);
  const scan = strict ? { maxDepth: depthOf(strict.value), findings: [] } : scanStrictness(text, kind, lines);
  const empty: ParsedDocument = { kind, lines, ours: true, sites: [], findings: [], sitePaths: [], rangeOf: () => undefined };
  if (scan.maxDepth > MAX_JSON_DEPTH) {
    // Not ours to judge a config.json we cannot read; for our own file kinds, say why nothing is checked.
    if (!mayHoldConfig(kind, text)) return { ...empty, ours: false };
    const finding: ServiceFinding = {
      code: 'json/too-deep',
      severity: 'error',
      message: `Nested more than ${MAX_JSON_DEPTH} levels deep: Python's json.load (and QuantStudio) cannot read it. A quantization config is a flat object.`,
      range: lines.range(0, 0),
    };
    return { ...empty, findings: [finding] };
  }

  const errors: ParseError[] = [];
  let full: { root: JsonNode | undefined } | undefined;
  const fullTree = (): JsonNode | undefined => (full ??= { root: parseTree(text, errors, TREE_OPTIONS) }).root;
  // Strict JSON holding its config as one top-level value: only that value becomes a tree now, the rest of
  // the document (a deep model's config.json is thousands of lines) only when something asks for it.
  const siteOnly = strict !== undefined && sitePath.length === 1;
  const span = siteOnly ? topLevelValueSpan(text, String(sitePath[0])) : undefined;
  const siteNode = siteOnly
    ? span && parseSpan(text, span.start, span.end)
    : sitePath.length === 0
      ? fullTree()
      : propertyValue(fullTree(), String(sitePath[0]));
  if (kind === 'model-config' && (siteNode === undefined || siteNode.type === 'null')) return { ...empty, ours: false };

  const findings = [...syntaxFindings(errors, lines), ...scan.findings];
  if (!strict && fullTree() === undefined) return { ...empty, findings };
  const sites = siteNode?.type === 'object' ? [siteOf(kind, siteNode, lines)] : [];
  // A document that is not even an object (garbage, a truncated file): its syntax errors say it all.
  const validatable = strict !== undefined || fullTree()?.type === 'object' || errors.length === 0;
  const inSite = (offset: number): boolean =>
    siteOnly && !!siteNode && offset >= siteNode.offset && offset <= siteNode.offset + siteNode.length;
  return {
    kind,
    lines,
    ours: true,
    sites,
    findings,
    documentValue: strict ? strict.value : validatable ? (getNodeValue(fullTree()!) as unknown) : undefined,
    sitePaths: sites.map(() => sitePath),
    pathAt(offset) {
      const node = inSite(offset) ? findNodeAtOffset(siteNode!, offset, true) : findNodeAtOffset(fullTree()!, offset, true);
      if (!node || node.type === 'object' || node.type === 'array' || node.type === 'property') return undefined;
      const onKey = node.parent?.type === 'property' && node.parent.children?.[0] === node;
      return { path: inSite(offset) ? [...sitePath, ...getNodePath(node)] : getNodePath(node), onKey };
    },
    rangeOf(site, path, part) {
      // The site's own key lies outside its value: that one needs the whole tree.
      const node =
        site && siteOnly && !(path.length === 0 && part === 'key')
          ? siteNode && nodeAt(siteNode, path)
          : nodeAt(fullTree()!, site ? [...sitePath, ...path] : path);
      if (!node) return undefined;
      if (part === 'key') {
        const name = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
        return name ? lines.range(name.offset, name.offset + name.length) : undefined;
      }
      return lines.range(node.offset, node.offset + node.length);
    },
  };
}
