// Finding the schema that describes a key or value: for completion, hover and error messages.
import type { ConfigSite, FileKind, Method } from '../model';
import type { ValuePath } from '../parse/document';
import { isSchemaNode } from './schemaNode';
import type { LocatedSchema } from './schemaNode';
import type { SchemaStore } from './store';

/** The schema a whole file is validated against (Python call sites have none: each call has its own). */
export const FILE_SCHEMA: Readonly<Record<FileKind, string | undefined>> = {
  'model-config': 'model-config.schema.json',
  'autogptq-quantize-config': 'autogptq-quantize-config.schema.json',
  'autoawq-quant-config': 'autoawq-quant-config.schema.json',
  job: 'job.schema.json',
  python: undefined,
};

/** The schema of each transformers config class. */
const METHOD_SCHEMA: Readonly<Record<Method, string>> = {
  gptq: 'gptq.schema.json',
  awq: 'awq.schema.json',
  bitsandbytes: 'bitsandbytes.schema.json',
};

export function methodSchemaFile(method: Method): string {
  return METHOD_SCHEMA[method];
}

/** The schema of a config site's own object: the library file's schema, or the method's class schema. */
export function siteSchemaFile(site: ConfigSite): string | undefined {
  if (site.fileKind === 'autogptq-quantize-config' || site.fileKind === 'autoawq-quant-config') return FILE_SCHEMA[site.fileKind];
  return typeof site.method === 'string' ? methodSchemaFile(site.method) : undefined;
}

/** Branches whose properties also describe the object (first definition of a key wins). */
function branches(schema: LocatedSchema): LocatedSchema[] {
  const { node, base } = schema;
  const nested = [...(node.allOf ?? []), ...(node.anyOf ?? []), ...(node.oneOf ?? []), node.then, node.else];
  return nested.filter(isSchemaNode).map((child) => ({ node: child, base }));
}

/** Every property an object schema describes, with its schema. */
export function propertiesOf(store: SchemaStore, schema: LocatedSchema, depth = 0): Map<string, LocatedSchema> {
  const result = new Map<string, LocatedSchema>();
  const resolved = store.resolve(schema);
  for (const [key, child] of Object.entries(resolved.node.properties ?? {})) result.set(key, { node: child, base: resolved.base });
  if (depth < 8) {
    for (const branch of branches(resolved)) {
      for (const [key, child] of propertiesOf(store, branch, depth + 1)) if (!result.has(key)) result.set(key, child);
    }
  }
  return result;
}

function itemsOf(store: SchemaStore, schema: LocatedSchema): LocatedSchema | undefined {
  const resolved = store.resolve(schema);
  const { items } = resolved.node;
  if (isSchemaNode(items)) return { node: items, base: resolved.base };
  for (const branch of branches(resolved)) {
    const found = itemsOf(store, branch);
    if (found) return found;
  }
  return undefined;
}

/** The schema at a path below `schema` (property names and array indices), $refs resolved. */
export function schemaAt(store: SchemaStore, schema: LocatedSchema, path: ValuePath): LocatedSchema | undefined {
  let current: LocatedSchema | undefined = store.resolve(schema);
  for (const segment of path) {
    if (!current) return undefined;
    const next: LocatedSchema | undefined =
      typeof segment === 'number' ? itemsOf(store, current) : propertiesOf(store, current).get(segment);
    current = next ? store.resolve(next) : undefined;
  }
  return current;
}
