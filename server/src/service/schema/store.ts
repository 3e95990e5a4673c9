// Loads every JSON Schema in schemas/ and compiles them with ajv once, at startup. The schemas are the
// single source of truth for key types, defaults and docs: validation, completion and hover all read them.
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSchemaNode } from './schemaNode';
import type { LocatedSchema, SchemaNode } from './schemaNode';

/** Annotation keywords (VS Code's JSON language features) that carry docs, not constraints. */
const ANNOTATION_KEYWORDS = [
  'markdownDescription',
  'deprecationMessage',
  'defaultSnippets',
  'enumDescriptions',
  'markdownEnumDescriptions',
  'errorMessage',
  'patternErrorMessage',
  'doNotSuggest',
  'suggestSortText',
  'allowComments',
  'allowTrailingCommas',
];

const SCHEMA_ID_BASE = 'https://quantstudio.invalid/schemas/';

/** schemas/ beside out/ (compiled) or dist/ (bundled), or in the repository when run from sources. */
function defaultSchemasDir(): string {
  const candidates = [
    join(__dirname, '..', '..', '..', '..', '..', 'schemas'),
    join(__dirname, '..', 'schemas'),
    join(__dirname, '..', '..', '..', '..', 'schemas'),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'gptq.schema.json')));
  if (!found)
    throw new Error(`QuantStudio's JSON Schemas were not found (looked in ${candidates.join(', ')}); reinstall the extension or rebuild.`);
  return found;
}

/** Every `x-*` keyword used anywhere in a schema: provenance annotations such as x-library. */
function customKeywords(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => customKeywords(item, found));
  else if (isSchemaNode(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key.startsWith('x-')) found.add(key);
      customKeywords(child, found);
    }
  }
  return found;
}

export class SchemaStore {
  private readonly ajv: Ajv;
  private readonly documents = new Map<string, SchemaNode>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(schemasDir: string = defaultSchemasDir()) {
    this.ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    addFormats(this.ajv);
    const files = readdirSync(schemasDir)
      .filter((name) => name.endsWith('.schema.json'))
      .sort();
    const keywords = new Set(ANNOTATION_KEYWORDS);
    for (const file of files) {
      const text = readFileSync(join(schemasDir, file), 'utf8');
      const schema: unknown = JSON.parse(text);
      if (!isSchemaNode(schema)) throw new Error(`${join(schemasDir, file)}: a JSON Schema must be an object.`);
      customKeywords(schema, keywords);
      const id = schema.$id ?? SCHEMA_ID_BASE + file;
      this.documents.set(id, schema);
    }
    for (const keyword of keywords) this.ajv.addKeyword(keyword);
    for (const [id, schema] of this.documents) this.ajv.addSchema(schema, id);
    for (const id of this.documents.keys()) {
      const validate = this.ajv.getSchema(id);
      if (!validate) throw new Error(`JSON Schema ${id} did not compile.`);
      this.validators.set(id, validate);
    }
  }

  /** The compiled validator of a schema file, e.g. 'gptq.schema.json'. */
  validator(fileName: string): ValidateFunction | undefined {
    return this.validators.get(SCHEMA_ID_BASE + fileName);
  }

  root(fileName: string): LocatedSchema | undefined {
    const id = SCHEMA_ID_BASE + fileName;
    const node = this.documents.get(id);
    return node ? { node, base: id } : undefined;
  }

  /** Follows $ref chains (relative file names and JSON pointers) to the schema they name. */
  resolve(schema: LocatedSchema): LocatedSchema {
    let current = schema;
    for (let hops = 0; current.node.$ref !== undefined && hops < 32; hops++) {
      const target = new URL(current.node.$ref, current.base);
      const pointer = decodeURIComponent(target.hash.replace(/^#/, ''));
      target.hash = '';
      const base = target.href;
      let node: unknown = this.documents.get(base);
      for (const segment of pointer.split('/').slice(1)) {
        node = isSchemaNode(node) ? node[segment.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
      }
      if (!isSchemaNode(node)) return current;
      current = { node, base };
    }
    return current;
  }
}
