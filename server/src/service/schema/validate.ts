// ajv validation of a parsed document, with each error mapped to the exact source range of the
// offending key or value and turned into a message a user can act on (plus a quick fix where one is clear).
import type { ErrorObject, ValidateFunction } from 'ajv';
import { didYouMean } from '../didYouMean';
import type { ServiceFinding } from '../finding';
import type { ConfigSite, LiteralValue, Range } from '../model';
import type { ParsedDocument, ValuePath } from '../parse/document';
import { MAX_SCHEMA_FINDINGS } from '../parse/limits';
import { isSchemaNode } from './schemaNode';
import { FILE_SCHEMA, siteSchemaFile } from './lookup';
import type { SchemaStore } from './store';

/** One validation run: where its instance sits, and how to find source ranges and the site for fixes. */
interface Target {
  /** Path of the validated instance inside the paths `locate` understands. */
  locate(path: ValuePath, part: 'key' | 'value'): Range | undefined;
  /** The config site a path's direct key belongs to, with the key's path relative to the site. */
  siteKey(path: ValuePath): { site: ConfigSite; key: string } | undefined;
  fallback: Range;
  /** The path as a message names it: relative to the config site it lies in. */
  display(path: ValuePath): ValuePath;
}

const NUMBER_TEXT = /^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)\s*$/;

/** A value as a message shows it: JSON, cut short so that a huge value cannot flood the message. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function listOf(values: readonly unknown[]): string {
  return values.map(quote).join(', ');
}

function pathOf(instancePath: string, data: unknown): Array<string | number> {
  const path: Array<string | number> = [];
  let current: unknown = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(current) && /^\d+$/.test(segment) ? Number(segment) : undefined;
    path.push(index ?? segment);
    current = isSchemaNode(current) || Array.isArray(current) ? (current as Record<string | number, unknown>)[index ?? segment] : undefined;
  }
  return path;
}

/** `dataset[1]`, `calibration.nsamples`: how a path reads in a message. */
function describe(path: ValuePath): string {
  return (
    path.reduce<string>(
      (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
      '',
    ) || 'the value'
  );
}

/** The closest existing source range for a path: the value itself, else its nearest ancestor. */
function locateNearest(target: Target, path: ValuePath, part: 'key' | 'value'): Range {
  for (let length = path.length; length >= 0; length--) {
    const range = target.locate(path.slice(0, length), length === path.length ? part : 'value');
    if (range) return range;
  }
  return target.fallback;
}

function typeFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  const expected = String(error.params.type ?? '').split(',');
  const data: unknown = error.data;
  const name = describe(target.display(path));
  const range = locateNearest(target, path, 'value');
  const siteKey = target.siteKey(path);
  const wantsNumber = expected.includes('number') || expected.includes('integer');
  if (wantsNumber && typeof data === 'string' && NUMBER_TEXT.test(data)) {
    const number = Number(data);
    const fits = expected.includes('number') || Number.isInteger(number);
    if (fits) {
      return {
        code: 'schema/type',
        severity: 'error',
        message: `"${name}" must be a number, not a string: write ${number} without quotes.`,
        range,
        fixes: siteKey ? [{ kind: 'setValue', key: siteKey.key, value: number, title: `Change to the number ${number}` }] : undefined,
      };
    }
  }
  if (expected.includes('boolean') && (data === 'true' || data === 'false')) {
    const value = data === 'true';
    return {
      code: 'schema/type',
      severity: 'error',
      message: `"${name}" must be a boolean, not a string: write ${value} without quotes.`,
      range,
      fixes: siteKey ? [{ kind: 'setValue', key: siteKey.key, value, title: `Change to the boolean ${value}` }] : undefined,
    };
  }
  const article = (type: string): string =>
    type === 'null' ? 'null' : type === 'integer' || type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`;
  return {
    code: 'schema/type',
    severity: 'error',
    message: `"${name}" must be ${expected.map(article).join(' or ')} (it is ${quote(data)}).`,
    range,
  };
}

function enumFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  const allowed = (error.params.allowedValues as unknown[] | undefined) ?? [];
  const data: unknown = error.data;
  const suggestion =
    typeof data === 'string'
      ? didYouMean(
          data,
          allowed.filter((v): v is string => typeof v === 'string'),
        )
      : undefined;
  const siteKey = target.siteKey(path);
  return {
    code: 'schema/enum',
    severity: 'error',
    message: `"${describe(target.display(path))}" must be one of ${listOf(allowed)}${suggestion !== undefined ? `; did you mean ${quote(suggestion)}?` : '.'}`,
    range: locateNearest(target, path, 'value'),
    fixes:
      siteKey && suggestion !== undefined
        ? [{ kind: 'setValue', key: siteKey.key, value: suggestion, title: `Change to ${quote(suggestion)}` }]
        : undefined,
  };
}

function unknownKeyFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  const key = String(error.params.additionalProperty);
  const keyPath = [...path, key];
  const parent: unknown = error.parentSchema;
  const known = isSchemaNode(parent) && isSchemaNode(parent.properties) ? Object.keys(parent.properties) : [];
  const suggestion = didYouMean(key, known);
  const siteKey = target.siteKey(keyPath);
  const where = isSchemaNode(parent) && typeof parent.title === 'string' ? ` in ${parent.title}` : '';
  return {
    code: 'schema/additionalProperties',
    severity: 'warning',
    message: `Unknown key "${key}"${where}: the library ignores it${suggestion ? `. Did you mean "${suggestion}"?` : '; check its spelling or remove it.'}`,
    range: locateNearest(target, keyPath, 'key'),
    fixes: siteKey && suggestion ? [{ kind: 'renameKey', key, newKey: suggestion, title: `Rename to "${suggestion}"` }] : undefined,
  };
}

function requiredFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  const missing = String(error.params.missingProperty);
  const parent: unknown = error.parentSchema;
  const property: unknown = isSchemaNode(parent) && isSchemaNode(parent.properties) ? parent.properties[missing] : undefined;
  const hint = isSchemaNode(property) && typeof property.description === 'string' ? ` (${property.description})` : '';
  const objectRange = target.locate(path, 'value');
  const siteKey = target.siteKey([...path, missing]);
  const fallbackValue = isSchemaNode(property) && property.default !== undefined ? (property.default as LiteralValue) : undefined;
  const opening = objectRange
    ? { start: objectRange.start, end: { line: objectRange.start.line, character: objectRange.start.character + 1 } }
    : undefined;
  return {
    code: 'schema/required',
    severity: 'error',
    message: `Missing required key "${missing}"${path.length ? ` in "${describe(target.display(path))}"` : ''}${hint}.`,
    range: siteKey && path.length === 0 ? siteKey.site.anchorRange : (opening ?? target.fallback),
    fixes: siteKey && fallbackValue !== undefined ? [{ kind: 'addKey', key: missing, value: fallbackValue }] : undefined,
  };
}

function boundFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  return {
    code: `schema/${error.keyword}`,
    severity: 'error',
    message: `"${describe(target.display(path))}" must be ${String(error.params.comparison)} ${String(error.params.limit)} (it is ${quote(error.data)}).`,
    range: locateNearest(target, path, 'value'),
  };
}

function constFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  const allowed: unknown = error.params.allowedValue;
  const siteKey = target.siteKey(path);
  return {
    code: 'schema/const',
    severity: 'error',
    message: `"${describe(target.display(path))}" must be ${quote(allowed)} here.`,
    range: locateNearest(target, path, 'value'),
    fixes: siteKey
      ? [{ kind: 'setValue', key: siteKey.key, value: allowed as LiteralValue, title: `Change to ${quote(allowed)}` }]
      : undefined,
  };
}

/** What an anyOf/oneOf branch accepts, in words: `a string`, `an array of strings`, `one of "a", "b"`. */
function describeBranch(branch: unknown): string {
  if (!isSchemaNode(branch)) return 'a matching value';
  if (branch.enum) return `one of ${listOf(branch.enum)}`;
  if (branch.const !== undefined) return quote(branch.const);
  const types = branch.type === undefined ? [] : Array.isArray(branch.type) ? branch.type : [branch.type];
  if (types.length === 1 && types[0] === 'array' && isSchemaNode(branch.items) && typeof branch.items.type === 'string')
    return `an array of ${branch.items.type}s`;
  if (types.length > 0) return types.map((t) => (t === 'null' ? 'null' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`)).join(' or ');
  return 'a matching value';
}

function unionFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  const branches = Array.isArray(error.schema) ? error.schema : [];
  return {
    code: `schema/${error.keyword}`,
    severity: 'error',
    message: `"${describe(target.display(path))}" must be ${branches.map(describeBranch).join(', or ')}.`,
    range: locateNearest(target, path, 'value'),
  };
}

const BY_KEYWORD: Readonly<Record<string, (error: ErrorObject, path: ValuePath, target: Target) => ServiceFinding>> = {
  type: typeFinding,
  enum: enumFinding,
  additionalProperties: unknownKeyFinding,
  required: requiredFinding,
  minimum: boundFinding,
  maximum: boundFinding,
  exclusiveMinimum: boundFinding,
  exclusiveMaximum: boundFinding,
  const: constFinding,
  anyOf: unionFinding,
  oneOf: unionFinding,
};

function genericFinding(error: ErrorObject, path: ValuePath, target: Target): ServiceFinding {
  return {
    code: `schema/${error.keyword}`,
    severity: 'error',
    message: `"${describe(target.display(path))}" ${error.message ?? 'is not valid'}.`,
    range: locateNearest(target, path, 'value'),
  };
}

/** Drops what would repeat another error: `if` wrappers, and branch errors under a reported anyOf/oneOf. */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath + '/');
  return errors.filter((e) => e.keyword !== 'if' && !unions.some((prefix) => e.schemaPath.startsWith(prefix)));
}

function run(
  validate: ValidateFunction,
  data: unknown,
  target: Target,
  skip: (path: ValuePath, error: ErrorObject) => boolean,
): ServiceFinding[] {
  if (validate(data)) return [];
  const findings: ServiceFinding[] = [];
  const seen = new Set<string>();
  const errors = relevantErrors(validate.errors ?? []);
  for (const [index, error] of errors.entries()) {
    if (findings.length === MAX_SCHEMA_FINDINGS) {
      findings.push({
        code: 'schema/too-many',
        severity: 'warning',
        message: `${errors.length - index} more schema problems are not shown. Fix the ones above first.`,
        range: target.fallback,
      });
      break;
    }
    const path = pathOf(error.instancePath, data);
    if (skip(path, error)) continue;
    const finding = (BY_KEYWORD[error.keyword] ?? genericFinding)(error, path, target);
    const identity = `${finding.code} ${JSON.stringify(finding.range)} ${finding.message}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    findings.push(finding);
  }
  return findings;
}

function jsonFindings(store: SchemaStore, doc: ParsedDocument): ServiceFinding[] {
  const file = FILE_SCHEMA[doc.kind];
  const validate = file ? store.validator(file) : undefined;
  if (!validate || doc.documentValue === undefined) return [];
  const target: Target = {
    locate: (path, part) => doc.rangeOf(undefined, path, part),
    siteKey(path) {
      for (const [index, sitePath] of doc.sitePaths.entries()) {
        const key = path[sitePath.length];
        if (path.length === sitePath.length + 1 && typeof key === 'string' && sitePath.every((segment, i) => path[i] === segment))
          return { site: doc.sites[index], key };
      }
      return undefined;
    },
    fallback: doc.lines.range(0, 0),
    display(path) {
      const sitePath = doc.sitePaths.find((prefix) => prefix.length < path.length && prefix.every((segment, i) => path[i] === segment));
      return sitePath ? path.slice(sitePath.length) : path;
    },
  };
  return run(validate, doc.documentValue, target, () => false);
}

function pythonFindings(store: SchemaStore, doc: ParsedDocument, site: ConfigSite): ServiceFinding[] {
  const file = siteSchemaFile(site);
  const validate = file ? store.validator(file) : undefined;
  if (!validate) return [];
  const instance: { [key: string]: LiteralValue } = {};
  const unknownValues = new Set<string>();
  for (const entry of site.entries) {
    if (entry.value === undefined) unknownValues.add(entry.key);
    else instance[entry.key] = entry.value;
  }
  const target: Target = {
    locate: (path, part) => (path.length === 0 ? site.range : doc.rangeOf(site, path, part)),
    siteKey: (path) => (path.length === 1 && typeof path[0] === 'string' ? { site, key: path[0] } : undefined),
    fallback: site.anchorRange,
    display: (path) => path,
  };
  // A key given a non-literal value, or hidden in **kwargs, may well be there: never call it missing.
  const skip = (path: ValuePath, error: ErrorObject): boolean =>
    error.keyword === 'required' &&
    path.length === 0 &&
    (site.incomplete === true || unknownValues.has(String(error.params.missingProperty)));
  return run(validate, instance, target, skip);
}

/** Schema findings for a parsed document: the whole file for JSON kinds, each call for Python. */
export function schemaFindings(store: SchemaStore, doc: ParsedDocument): ServiceFinding[] {
  if (doc.kind !== 'python') return jsonFindings(store, doc);
  return doc.sites.flatMap((site) => pythonFindings(store, doc, site));
}
