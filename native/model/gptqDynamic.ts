// GPTQModel's per-module overrides, `dynamic`: a dict from regex to overrides, as GPTQModel 7.7 reads it
// (gptqmodel/quantization/config.py). A key is "-:regex" (skip: the module stays unquantized), "+:regex" or a bare
// regex (positive: its overrides replace the config's values for that module). The full module name
// (model.layers.0.mlp.down_proj, lm_head) is matched with PCRE2's match(), anchored at the start only
// (_resolve_dynamic_override, through pypcre). __post_init__ moves every key starting with "-" before the others,
// each group in file order, and the first key that matches decides: its overrides alone, or the skip.
// vLLM reads the same dict in file order without that move (quantization/utils/gptq_utils.py get_dynamic_override).
import type { JsonObject, JsonValue } from './types';

export interface DynamicRule {
  /** The key as written, prefix included. */
  key: string;
  skip: boolean;
  /** The regex without its prefix. */
  pattern: string;
  overrides: JsonObject;
}

const isObject = (v: JsonValue | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The keys GPTQModel 7.7 reads per module for GPTQ: looper/gptq_processor.py, utils/model.py make_quant, looper/eora_processor.py. */
export const GPTQ_DYNAMIC_KEYS: readonly string[] = [
  'bits',
  'group_size',
  'desc_act',
  'sym',
  'pack_dtype',
  'mse',
  'act_group_aware',
  'damp_percent',
  'static_groups',
  'fallback',
  'hessian',
  'gptaq',
  'foem',
  'adapter',
];

/** The overrides QuantStudio's quantize pipeline applies per module (native/lib/gptqDynamicPlan.ts); GPTQModel reads more. */
export const ENGINE_DYNAMIC_KEYS: readonly string[] = ['bits', 'group_size', 'desc_act', 'sym'];

/** The rules of a `dynamic` value in GPTQModel 7.7's order of precedence (keys starting with "-" first); none for null. */
export function dynamicRules(dynamic: JsonValue | undefined): DynamicRule[] {
  if (!isObject(dynamic)) return [];
  const rules = Object.entries(dynamic).map(([key, value]) => ({
    key,
    skip: key.startsWith('-:'),
    pattern: key.startsWith('-:') || key.startsWith('+:') ? key.slice(2) : key,
    overrides: isObject(value) ? value : {},
  }));
  return [...rules.filter((r) => r.key.startsWith('-')), ...rules.filter((r) => !r.key.startsWith('-'))];
}

export type CompiledPattern =
  | { ok: true; regex: RegExp }
  | { ok: false; error: string }
  /** PCRE2 syntax JavaScript has no equivalent for: neither checked nor matched. */
  | { ok: 'unsupported'; construct: string };

// PCRE2 constructs with no JavaScript equivalent: atomic groups, possessive quantifiers, recursion, branch reset,
// \Q…\E quoting, Unicode properties (JavaScript needs the u flag, which changes other escapes), POSIX classes.
const UNSUPPORTED: ReadonlyArray<[RegExp, string]> = [
  [/\(\?>/, 'atomic group (?>…)'],
  [/(?<!\\)[*+?}]\+/, 'possessive quantifier'],
  [/\(\?(R|[+-]?\d|&|P>)/, 'recursion'],
  [/\(\?\|/, 'branch reset (?|…)'],
  [/\(\?#/, 'comment (?#…)'],
  [/\\[QEpPXRhHvVKGg]/, 'PCRE2 escape'],
  [/\[:\^?[a-z]+:\]/, 'POSIX class [:…:]'],
];

/**
 * The pattern as a JavaScript RegExp with PCRE2's meaning for the syntax both share, plus Python's spellings that PCRE2
 * also takes: (?P<name>…) and (?P=name) groups, \A, \Z and \z anchors, leading inline flags (?i) (?m) (?s). A pattern JavaScript
 * rejects is reported with its reason; one JavaScript accepts and PCRE2 rejects (a lookbehind of variable length) is not caught.
 */
export function compileDynamicPattern(pattern: string): CompiledPattern {
  for (const [construct, name] of UNSUPPORTED) if (construct.test(pattern)) return { ok: 'unsupported', construct: name };
  let body = pattern;
  let flags = 'y'; // sticky: a match must start at index 0, like PCRE2's match()
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(body);
  if (inline) {
    if (!/^[ims]+$/.test(inline[1])) return { ok: 'unsupported', construct: `inline flags (?${inline[1]})` };
    flags += [...new Set(inline[1])].join('');
    body = body.slice(inline[0].length);
  }
  // Groups JavaScript shares; any other "(?" left is a flag group ((?i:…), (?-i)) whose scope JavaScript cannot say.
  const groupsKnown = body.replace(/\(\?(?:[:=!]|<[=!]|P?<[A-Za-z_]\w*>|P=\w+\))/g, '');
  if (/(?<!\\)\(\?[-a-zA-Z]/.test(groupsKnown)) return { ok: 'unsupported', construct: 'inline flags inside the pattern' };
  body = translateEscapes(body);
  try {
    return { ok: true, regex: new RegExp(body, flags) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') };
  }
}

/** Python / PCRE2 spellings with a JavaScript twin; a `]` right after `[` or `[^` is a literal in PCRE2. */
function translateEscapes(body: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      const next = body[i + 1] ?? '';
      out += inClass ? `\\${next}` : ({ A: '(?<![\\s\\S])', Z: '(?=\\n?(?![\\s\\S]))', z: '(?![\\s\\S])' }[next] ?? `\\${next}`);
      i++;
    } else if (inClass) {
      out += c;
      if (c === ']') inClass = false;
    } else if (c === '[') {
      const negated = body[i + 1] === '^';
      out += negated ? '[^' : '[';
      i += negated ? 1 : 0;
      if (body[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      inClass = true;
    } else if (body.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
    } else if (body.startsWith('(?P=', i)) {
      const end = body.indexOf(')', i);
      out += end < 0 ? body.slice(i) : `\\k<${body.slice(i + 4, end)}>`;
      i = end < 0 ? body.length : end;
    } else out += c;
  }
  return out;
}

/** What decides a module: the first rule (in precedence order) whose regex matches its full name; undefined when none does. */
export function dynamicRuleFor(rules: readonly DynamicRule[], module: string): DynamicRule | undefined {
  return rules.find((r) => dynamicRuleMatches(r, module));
}

const compiled = new Map<string, CompiledPattern>();

/** Whether the rule's regex matches the module name from its start (a pattern we cannot check matches nothing). */
export function dynamicRuleMatches(rule: DynamicRule, module: string): boolean {
  let c = compiled.get(rule.pattern);
  if (!c) {
    c = compileDynamicPattern(rule.pattern);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(rule.pattern, c);
  }
  if (c.ok !== true) return false;
  c.regex.lastIndex = 0;
  return c.regex.test(module);
}
