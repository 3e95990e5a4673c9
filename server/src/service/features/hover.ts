// Hover: the schema's docs for the key (or value) under the cursor, or for the config class of a call.
import type { Hover, Position } from 'vscode-languageserver-types';
import type { ParsedDocument } from '../parse/document';
import type { SchemaStore } from '../schema/store';
import { containsPosition } from '../text';
import { propertyDocs } from './schemaDocs';
import { schemaAt } from '../schema/lookup';
import { schemaAtJsonPath, siteSchema } from './schemaAtPath';

function hoverJson(store: SchemaStore, doc: ParsedDocument, position: Position): Hover | null {
  const offset = doc.lines.offsetAt(position);
  const at = doc.pathAt?.(offset);
  if (!at) return null;
  const key = [...at.path].reverse().find((segment): segment is string => typeof segment === 'string');
  if (key === undefined) return null;
  // Hover on a value inside an array describes the property that holds the array.
  const propertyPath = at.path.slice(0, at.path.lastIndexOf(key) + 1);
  const schema = schemaAtJsonPath(store, doc, propertyPath);
  if (!schema) return null;
  const range = doc.rangeOf(undefined, propertyPath, at.onKey ? 'key' : 'value');
  return { contents: propertyDocs(key, schema.node), range };
}

function hoverPython(store: SchemaStore, doc: ParsedDocument, position: Position): Hover | null {
  for (const site of doc.sites) {
    if (!containsPosition(site.range, position)) continue;
    const schema = siteSchema(store, site);
    if (!schema) continue;
    if (containsPosition(site.anchorRange, position)) {
      const node = schema.node;
      const text = [node.title ? `**${node.title}**` : undefined, node.markdownDescription ?? node.description]
        .filter(Boolean)
        .join('\n\n');
      return text ? { contents: { kind: 'markdown', value: text }, range: site.anchorRange } : null;
    }
    const entry = site.entries.find((e) => containsPosition(e.keyRange, position) || containsPosition(e.valueRange, position));
    if (!entry) continue;
    const property = schemaAt(store, schema, [entry.key]);
    if (!property) return null;
    const onKey = containsPosition(entry.keyRange, position);
    return { contents: propertyDocs(entry.key, property.node, site), range: onKey ? entry.keyRange : entry.valueRange };
  }
  return null;
}

export function hover(store: SchemaStore, doc: ParsedDocument, position: Position): Hover | null {
  return doc.kind === 'python' ? hoverPython(store, doc, position) : hoverJson(store, doc, position);
}
