// Which schema describes a path in a parsed document: inside a config site, the site's own schema
// (chosen by its method, so an AWQ config never shows GPTQ docs); elsewhere in a JSON file, the file's schema.
import type { ConfigSite } from '../model';
import type { ParsedDocument, ValuePath } from '../parse/document';
import { FILE_SCHEMA, schemaAt, siteSchemaFile } from '../schema/lookup';
import type { LocatedSchema } from '../schema/schemaNode';
import type { SchemaStore } from '../schema/store';

function startsWith(path: ValuePath, prefix: ValuePath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
}

/** The site a JSON path lies in, and the path relative to it. */
export function siteOfPath(doc: ParsedDocument, path: ValuePath): { site: ConfigSite; rest: ValuePath } | undefined {
  for (const [index, sitePath] of doc.sitePaths.entries()) {
    if (startsWith(path, sitePath)) return { site: doc.sites[index], rest: path.slice(sitePath.length) };
  }
  return undefined;
}

export function siteSchema(store: SchemaStore, site: ConfigSite): LocatedSchema | undefined {
  const file = siteSchemaFile(site);
  return file ? store.root(file) : undefined;
}

/** Schema at a JSON document path; undefined inside a config whose method we do not validate. */
export function schemaAtJsonPath(store: SchemaStore, doc: ParsedDocument, path: ValuePath): LocatedSchema | undefined {
  const inSite = siteOfPath(doc, path);
  if (inSite) {
    const own = siteSchema(store, inSite.site);
    if (own) return schemaAt(store, own, inSite.rest);
    // An unvalidated method: only quant_method itself is described.
    if (!(inSite.rest.length === 1 && inSite.rest[0] === 'quant_method')) return undefined;
  }
  const file = FILE_SCHEMA[doc.kind];
  const root = file ? store.root(file) : undefined;
  return root ? schemaAt(store, root, path) : undefined;
}
