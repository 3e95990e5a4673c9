// For a GPTQConfig(...) / AwqConfig(...) / BitsAndBytesConfig(...) call: the model it is applied to, i.e.
// the first argument of the `X.from_pretrained(model, quantization_config=...)` call that receives it —
// directly, or through a variable the config call was assigned to. A model argument that is a variable
// is followed to its last plain string assignment in the file. The file's calls and assignments are indexed
// once per tree, so a file with hundreds of config calls costs one walk, not one per call.
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
    if (arg.type === 'keyword_argument' && arg.childForFieldName('name')?.text === keyword)
      return arg.childForFieldName('value') ?? undefined;
  }
  return undefined;
}

/** The from_pretrained calls and assignments of one tree, indexed on first use. */
export class ModelTargets {
  private receivers?: Map<string, Node>;
  private assignments?: Map<string, Node[]>;

  constructor(private readonly root: Node) {}

  /** The first from_pretrained call whose quantization_config= is the variable `name`. */
  receiverOf(name: string): Node | undefined {
    if (!this.receivers) {
      this.receivers = new Map();
      for (const call of this.root.descendantsOfType('call')) {
        const value = call && isFromPretrained(call) ? keywordValue(call, 'quantization_config')?.text : undefined;
        if (call && value !== undefined && !this.receivers.has(value)) this.receivers.set(value, call);
      }
    }
    return this.receivers.get(name);
  }

  /** The last `name = "..."` before `before` in the file. */
  stringAssignedTo(name: string, before: Node): string | undefined {
    if (!this.assignments) {
      this.assignments = new Map();
      for (const assignment of this.root.descendantsOfType('assignment')) {
        const left = assignment?.childForFieldName('left')?.text;
        if (!assignment || left === undefined) continue;
        const list = this.assignments.get(left) ?? [];
        list.push(assignment);
        this.assignments.set(left, list);
      }
    }
    const list = this.assignments.get(name) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].startIndex > before.startIndex) continue;
      const right = list[i].childForFieldName('right');
      const value = right ? pythonLiteral(right) : undefined;
      if (typeof value === 'string') return value;
    }
    return undefined;
  }
}

/** The from_pretrained call whose quantization_config= is this config call, or a variable holding it. */
function receivingCall(configCall: Node, targets: ModelTargets): Node | undefined {
  const keyword = configCall.parent;
  const call =
    keyword?.type === 'keyword_argument' && keyword.childForFieldName('name')?.text === 'quantization_config'
      ? keyword.parent?.parent
      : undefined;
  if (call?.type === 'call' && isFromPretrained(call)) return call;
  const assignment = configCall.parent;
  const variable =
    assignment?.type === 'assignment' && assignment.childForFieldName('right')?.id === configCall.id
      ? assignment.childForFieldName('left')
      : undefined;
  if (variable?.type !== 'identifier') return undefined;
  return targets.receiverOf(variable.text);
}

export function pythonModelTarget(configCall: Node, targets: ModelTargets): PythonModelTarget | undefined {
  const call = receivingCall(configCall, targets);
  const args = call?.childForFieldName('arguments');
  const first = args?.type === 'argument_list' ? namedChildrenOf(args)[0] : undefined;
  if (!first || first.type === 'keyword_argument') return undefined;
  if (first.type === 'identifier') {
    const ref = targets.stringAssignedTo(first.text, first);
    return ref ? { ref, node: first } : undefined;
  }
  const value = pythonLiteral(first);
  return typeof value === 'string' && value !== '' ? { ref: value, node: first } : undefined;
}
