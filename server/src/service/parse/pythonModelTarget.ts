// For a GPTQConfig(...) / AwqConfig(...) / BitsAndBytesConfig(...) call: the model it is applied to, i.e.
// the first argument of the `X.from_pretrained(model, quantization_config=...)` call that receives it —
// directly, or through a variable the config call was assigned to. A model argument that is a variable
// is followed to its last plain string assignment in the file.
import type { Node } from '@vscode/tree-sitter-wasm';
import { namedChildrenOf, pythonLiteral } from './pythonLiteral';

export interface PythonModelTarget {
  ref: string;
  /** The model argument of from_pretrained (the string, or the variable naming it). */
  node: Node;
}

function isFromPretrained(call: Node): boolean {
  const callee = call.childForFieldName('function');
  return callee?.type === 'attribute' && callee.childForFieldName('attribute')?.text === 'from_pretrained';
}

function keywordValue(call: Node, keyword: string): Node | undefined {
  const args = call.childForFieldName('arguments');
  if (args?.type !== 'argument_list') return undefined;
  for (const arg of namedChildrenOf(args)) {
    if (arg.type === 'keyword_argument' && arg.childForFieldName('name')?.text === keyword) return arg.childForFieldName('value') ?? undefined;
  }
  return undefined;
}

/** The from_pretrained call whose quantization_config= is this config call, or a variable holding it. */
function receivingCall(configCall: Node, root: Node): Node | undefined {
  const keyword = configCall.parent;
  const call = keyword?.type === 'keyword_argument' && keyword.childForFieldName('name')?.text === 'quantization_config' ? keyword.parent?.parent : undefined;
  if (call?.type === 'call' && isFromPretrained(call)) return call;
  const assignment = configCall.parent;
  const variable = assignment?.type === 'assignment' && assignment.childForFieldName('right')?.id === configCall.id ? assignment.childForFieldName('left') : undefined;
  if (variable?.type !== 'identifier') return undefined;
  return root.descendantsOfType('call').find((c): c is Node => c !== null && isFromPretrained(c) && keywordValue(c, 'quantization_config')?.text === variable.text);
}

/** The last `name = "..."` before `before` in the file. */
function stringAssignedTo(name: string, before: Node, root: Node): string | undefined {
  let found: string | undefined;
  for (const assignment of root.descendantsOfType('assignment')) {
    if (!assignment || assignment.startIndex > before.startIndex || assignment.childForFieldName('left')?.text !== name) continue;
    const right = assignment.childForFieldName('right');
    const value = right ? pythonLiteral(right) : undefined;
    if (typeof value === 'string') found = value;
  }
  return found;
}

export function pythonModelTarget(configCall: Node, root: Node): PythonModelTarget | undefined {
  const call = receivingCall(configCall, root);
  const args = call?.childForFieldName('arguments');
  const first = args?.type === 'argument_list' ? namedChildrenOf(args)[0] : undefined;
  if (!first || first.type === 'keyword_argument') return undefined;
  if (first.type === 'identifier') {
    const ref = stringAssignedTo(first.text, first, root);
    return ref ? { ref, node: first } : undefined;
  }
  const value = pythonLiteral(first);
  return typeof value === 'string' && value !== '' ? { ref: value, node: first } : undefined;
}
