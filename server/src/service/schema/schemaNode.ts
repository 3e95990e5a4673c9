// The parts of a JSON Schema (draft-07, plus VS Code's and our own annotation keywords) that the
// service reads for validation messages, completion and hover.
export interface SchemaNode {
  $id?: string;
  $ref?: string;
  title?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  description?: string;
  markdownDescription?: string;
  deprecationMessage?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode | SchemaNode[];
  additionalProperties?: boolean | SchemaNode;
  allOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  if?: SchemaNode;
  then?: SchemaNode;
  else?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  'x-library'?: string;
  [keyword: string]: unknown;
}

/** A schema node together with the $id of the document it came from (to resolve relative $refs). */
export interface LocatedSchema {
  node: SchemaNode;
  base: string;
}

export function isSchemaNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Types a schema allows, looking through anyOf/oneOf branches ('integer' reads as a number too). */
export function schemaTypes(node: SchemaNode): string[] {
  const own = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  const branches = [...(node.anyOf ?? []), ...(node.oneOf ?? [])].flatMap((branch) => schemaTypes(branch));
  return [...new Set([...own, ...branches])];
}
