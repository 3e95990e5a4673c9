// Completion: keys not yet present (with a snippet holding the default), enum values and booleans in the
// file's syntax; inside Python config calls, keyword names (`bits=`) and values.
import { getLocation } from 'jsonc-parser';
import { CompletionItemKind, InsertTextFormat } from 'vscode-languageserver-types';
import type { CompletionItem, Position, Range } from 'vscode-languageserver-types';
import { formatLiteral } from '../fixes';
import type { ConfigSite, LiteralValue, Method } from '../model';
import type { ParsedDocument, ValuePath } from '../parse/document';
import { CONFIG_CLASSES } from '../parse/python';
import { methodSchemaFile, propertiesOf, schemaAt, siteSchemaFile } from '../schema/lookup';
import { schemaTypes } from '../schema/schemaNode';
import type { LocatedSchema, SchemaNode } from '../schema/schemaNode';
import type { SchemaStore } from '../schema/store';
import { propertyDocs, suggestedValues, typeLabel } from './schemaDocs';
import { schemaAtJsonPath } from './schemaAtPath';

type Style = Pick<ConfigSite, 'style'>;

function escapeSnippet(text: string): string {
  return text.replace(/[\\$}]/g, (c) => `\\${c}`);
}

/** The value part of a key snippet: the default as a placeholder, a choice for closed sets, or empty quotes/brackets. */
function valueSnippet(node: SchemaNode, style: Style): string {
  const choices = node.enum ?? (schemaTypes(node).length === 1 && schemaTypes(node)[0] === 'boolean' ? [true, false] : undefined);
  if (choices && choices.length > 0) {
    const ordered =
      node.default !== undefined ? [node.default, ...choices.filter((c) => JSON.stringify(c) !== JSON.stringify(node.default))] : choices;
    return `\${1|${ordered.map((c) => formatLiteral(c as LiteralValue, style).replace(/[,|\\$}]/g, (ch) => `\\${ch}`)).join(',')}|}`;
  }
  if (node.default !== undefined && node.default !== null)
    return `\${1:${escapeSnippet(formatLiteral(node.default as LiteralValue, style))}}`;
  const type = schemaTypes(node)[0];
  const quote = style.style.syntax === 'json' ? '"' : (style.style.quote ?? '"');
  if (type === 'string') return `${quote}$1${quote}`;
  if (type === 'array') return '[$1]';
  if (type === 'object') return '{$1}';
  return '$1';
}

/** Keys a Python call never takes as keyword arguments: the class sets quant_method; `_x` keys are serialized state. */
function writableInPython(key: string): boolean {
  return key !== 'quant_method' && !key.startsWith('_');
}

interface KeyTemplate {
  key: string;
  item: Omit<CompletionItem, 'textEdit'>;
  newText: string;
}

/** Key items per schema and syntax, built once: the docs and snippets never change while the server runs. */
const keyTemplateCache = new WeakMap<SchemaNode, Map<string, KeyTemplate[]>>();

function keyTemplates(store: SchemaStore, schema: LocatedSchema, style: Style): KeyTemplate[] {
  const styleKey = `${style.style.syntax}${style.style.quote ?? ''}`;
  const bySyntax = keyTemplateCache.get(schema.node) ?? new Map<string, KeyTemplate[]>();
  keyTemplateCache.set(schema.node, bySyntax);
  const cached = bySyntax.get(styleKey);
  if (cached) return cached;
  const json = style.style.syntax === 'json';
  const templates: KeyTemplate[] = [];
  for (const [key, located] of propertiesOf(store, schema)) {
    if (!json && !writableInPython(key)) continue;
    const node = store.resolve(located).node;
    templates.push({
      key,
      newText: json ? `${JSON.stringify(key)}: ${valueSnippet(node, style)}` : `${key}=${valueSnippet(node, style)}`,
      item: {
        label: key,
        kind: CompletionItemKind.Property,
        detail: typeLabel(node) || undefined,
        documentation: propertyDocs(key, node, style),
        filterText: json ? JSON.stringify(key) : key,
        insertTextFormat: InsertTextFormat.Snippet,
        tags: node.deprecationMessage ? [1] : undefined,
      },
    });
  }
  bySyntax.set(styleKey, templates);
  return templates;
}

function keyItems(store: SchemaStore, schema: LocatedSchema, present: ReadonlySet<string>, range: Range, style: Style): CompletionItem[] {
  return keyTemplates(store, schema, style)
    .filter((template) => !present.has(template.key))
    .map((template) => ({ ...template.item, textEdit: { range, newText: template.newText } }));
}

function valueItems(node: SchemaNode, range: Range, style: Style): CompletionItem[] {
  const values: LiteralValue[] = suggestedValues(node);
  const types = schemaTypes(node);
  if (types.includes('boolean')) values.push(true, false);
  if (types.includes('null')) values.push(null);
  if (node.default !== undefined) values.push(node.default as LiteralValue);
  const seen = new Set<string>();
  const items: CompletionItem[] = [];
  for (const value of values) {
    const text = formatLiteral(value, style);
    if (seen.has(text)) continue;
    seen.add(text);
    items.push({
      label: text,
      kind: typeof value === 'boolean' || value === null ? CompletionItemKind.Keyword : CompletionItemKind.Value,
      detail: JSON.stringify(value) === JSON.stringify(node.default) ? 'default' : undefined,
      filterText: text,
      textEdit: { range, newText: text },
    });
  }
  return items;
}

function valueAt(root: unknown, path: ValuePath): unknown {
  let current = root;
  for (const segment of path)
    current = typeof current === 'object' && current !== null ? (current as Record<string | number, unknown>)[segment] : undefined;
  return current;
}

function completeJson(store: SchemaStore, doc: ParsedDocument, offset: number): CompletionItem[] {
  const text = doc.lines.text;
  const location = getLocation(text, offset);
  const previous = location.previousNode;
  const atPrevious = previous !== undefined && previous.offset <= offset && offset <= previous.offset + previous.length;
  const range = atPrevious ? doc.lines.range(previous.offset, previous.offset + previous.length) : doc.lines.range(offset, offset);
  const jsonStyle: Style = { style: { indent: '', syntax: 'json' } };
  if (location.isAtPropertyKey) {
    const objectPath = location.path.slice(0, -1);
    const schema = schemaAtJsonPath(store, doc, objectPath);
    if (!schema) return [];
    const typing = location.path[location.path.length - 1];
    const object = valueAt(doc.documentValue, objectPath);
    const present = new Set(typeof object === 'object' && object !== null && !Array.isArray(object) ? Object.keys(object) : []);
    if (typeof typing === 'string' && atPrevious) present.delete(typing);
    const items = keyItems(store, schema, present, range, jsonStyle);
    // Another property follows on: the new one needs a comma to stay valid JSON.
    const rest = text.slice(doc.lines.offsetAt(range.end));
    if (/^\s*"/.test(rest)) for (const item of items) if (item.textEdit) item.textEdit.newText += ',';
    return items;
  }
  // The cursor is after a complete value: nothing to offer until a new key starts.
  if (previous && !atPrevious && ['string', 'number', 'boolean', 'null'].includes(previous.type)) return [];
  const schema = schemaAtJsonPath(store, doc, location.path);
  return schema ? valueItems(schema.node, range, jsonStyle) : [];
}

const IDENTIFIER = /[A-Za-z0-9_]/;

/** Enclosing `XConfig(` of an offset, by bracket balance, for calls that do not parse yet (no closing paren). */
function enclosingConfigCall(text: string, offset: number): { method: Method; open: number } | undefined {
  let depth = 0;
  for (let i = offset - 1; i >= 0 && offset - i < 10_000; i--) {
    const c = text[i];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '[' || c === '{') depth = Math.max(0, depth - 1);
    else if (c === '(') {
      if (depth > 0) {
        depth--;
        continue;
      }
      let end = i;
      while (end > 0 && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
      let start = end;
      while (start > 0 && IDENTIFIER.test(text[start - 1])) start--;
      const name = text.slice(start, end);
      return Object.hasOwn(CONFIG_CLASSES, name) ? { method: CONFIG_CLASSES[name], open: i } : undefined;
    }
  }
  return undefined;
}

function completePython(store: SchemaStore, doc: ParsedDocument, offset: number): CompletionItem[] {
  const text = doc.lines.text;
  const site = doc.sites.find((s) => doc.lines.offsetAt(s.anchorRange.end) < offset && offset < doc.lines.offsetAt(s.range.end));
  const call = site ? { method: site.method, open: -1 } : enclosingConfigCall(text, offset);
  if (!call || typeof call.method !== 'string') return [];
  const style: Style = site ?? { style: { indent: '', syntax: 'python', quote: doc.sites[0]?.style.quote ?? '"' } };
  const schemaFile = site ? siteSchemaFile(site) : methodSchemaFile(call.method);
  const schema = schemaFile ? store.root(schemaFile) : undefined;
  if (!schema) return [];

  let wordStart = offset;
  while (wordStart > 0 && IDENTIFIER.test(text[wordStart - 1])) wordStart--;
  let valueStart = wordStart;
  const quoteChar = text[wordStart - 1];
  if (quoteChar === '"' || quoteChar === "'") valueStart = wordStart - 1;
  let before = valueStart;
  while (before > 0 && (text[before - 1] === ' ' || text[before - 1] === '\t' || text[before - 1] === '\n' || text[before - 1] === '\r'))
    before--;
  const previous = text[before - 1];

  if (previous === '=' && !'=!<>'.includes(text[before - 2] ?? '')) {
    let keyEnd = before - 1;
    while (keyEnd > 0 && (text[keyEnd - 1] === ' ' || text[keyEnd - 1] === '\t')) keyEnd--;
    let keyStart = keyEnd;
    while (keyStart > 0 && IDENTIFIER.test(text[keyStart - 1])) keyStart--;
    const property = schemaAt(store, schema, [text.slice(keyStart, keyEnd)]);
    if (!property) return [];
    const end = valueStart < wordStart && text[offset] === quoteChar ? offset + 1 : offset;
    return valueItems(property.node, doc.lines.range(valueStart, end), style);
  }
  if (valueStart !== wordStart || (previous !== '(' && previous !== ',')) return [];
  const present = new Set(
    site ? site.entries.map((e) => e.key) : [...text.slice(call.open + 1, offset).matchAll(/([A-Za-z_]\w*)\s*=(?!=)/g)].map((m) => m[1]),
  );
  present.delete(text.slice(wordStart, offset));
  return keyItems(store, schema, present, doc.lines.range(wordStart, offset), style);
}

export function complete(store: SchemaStore, doc: ParsedDocument, position: Position): CompletionItem[] {
  const offset = doc.lines.offsetAt(position);
  return doc.kind === 'python' ? completePython(store, doc, offset) : completeJson(store, doc, offset);
}
