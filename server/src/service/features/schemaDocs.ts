// How a schema property reads in hover and completion: type, default, allowed values, docs, library.
import type { MarkupContent } from 'vscode-languageserver-types';
import type { ConfigSite, LiteralValue } from '../model';
import { formatLiteral } from '../fixes';
import { schemaTypes } from '../schema/schemaNode';
import type { SchemaNode } from '../schema/schemaNode';

const JSON_STYLE: Pick<ConfigSite, 'style'> = { style: { indent: '', syntax: 'json' } };

/** `integer`, `string | null`, `array` … */
export function typeLabel(node: SchemaNode): string {
  return schemaTypes(node).join(' | ');
}

/** The values a property suggests: its enum (closed) or examples (common), then const. */
export function suggestedValues(node: SchemaNode): LiteralValue[] {
  const values = [...(node.enum ?? []), ...(node.examples ?? []), ...(node.const !== undefined ? [node.const] : [])];
  for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])])
    values.push(...(branch.enum ?? []), ...(branch.const !== undefined ? [branch.const] : []));
  const unique = new Map<string, LiteralValue>();
  for (const value of values) unique.set(JSON.stringify(value), value as LiteralValue);
  return [...unique.values()];
}

export function defaultText(node: SchemaNode, site: Pick<ConfigSite, 'style'> = JSON_STYLE): string | undefined {
  return node.default === undefined ? undefined : formatLiteral(node.default as LiteralValue, site);
}

/** The markdown shown on hover and as completion documentation. */
export function propertyDocs(key: string, node: SchemaNode, site: Pick<ConfigSite, 'style'> = JSON_STYLE): MarkupContent {
  const header = [`**${key}**`];
  const type = typeLabel(node);
  if (type) header.push(`\`${type}\``);
  const fallback = defaultText(node, site);
  if (fallback !== undefined) header.push(`default \`${fallback}\``);
  const parts = [header.join(' · ')];
  const body = node.markdownDescription ?? node.description;
  if (body) parts.push(body);
  if (node.enum) parts.push(`Allowed: ${node.enum.map((v) => `\`${formatLiteral(v as LiteralValue, site)}\``).join(', ')}`);
  else if (node.examples)
    parts.push(`Common values: ${node.examples.map((v) => `\`${formatLiteral(v as LiteralValue, site)}\``).join(', ')}`);
  if (node.deprecationMessage) parts.push(`**Deprecated:** ${node.deprecationMessage}`);
  const library = node['x-library'];
  if (library && !(body ?? '').includes(library)) parts.push(`Read by ${library}.`);
  return { kind: 'markdown', value: parts.join('\n\n') };
}
