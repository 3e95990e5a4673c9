// GPTQModel 7.7's per-module overrides (`dynamic`, gptqmodel/quantization/config.py) as the quantize pipeline takes
// them: each key's regex in GPTQModel's precedence ("-:" keys first), translated from Python's and PCRE2's spellings
// (native/model/gptqDynamic.ts), with the overrides the engine honours per module — bits, group_size, desc_act, sym.
// The engine matches each module's written name from its start and writes the object back into the checkpoint's
// configs, so GPTQModel and vLLM read the same rules.
import { compileDynamicPattern, dynamicRules, ENGINE_DYNAMIC_KEYS } from './gptqDynamic';

/** One rule as the engine reads it; a missing override keeps the config's value. */
export interface DynamicPlanRule {
  key: string;
  /** ECMAScript source (anchored at the start by the engine). */
  pattern: string;
  ignoreCase: boolean;
  skip: boolean;
  bits?: number;
  groupSize?: number;
  descAct?: boolean;
  sym?: boolean;
}

export interface DynamicPlan {
  dynamic: DynamicPlanRule[];
  /** The `dynamic` object as given, written into config.json and quantize_config.json. */
  dynamicJson: string;
}

/** The plan's `dynamic`, undefined when the config has none; throws (via `refuse`) naming the key that cannot run. */
export function dynamicPlan(value: unknown, gptqLayout: boolean, refuse: (message: string) => Error): DynamicPlan | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw refuse(`quantization_config.dynamic: must be an object from regex to overrides (got ${JSON.stringify(value)})`);
  const rules = dynamicRules(value as never);
  if (rules.length === 0) return undefined;
  if (!gptqLayout)
    throw refuse(
      'quantization_config.dynamic: per-module overrides are GPTQModel 7.7 GPTQ settings; the engine honours them for GPTQ ' +
        '(and RTN into the GPTQ layout): remove dynamic for this method',
    );
  const dynamic = rules.map((rule): DynamicPlanRule => {
    const where = `quantization_config.dynamic[${JSON.stringify(rule.key)}]`;
    const compiled = compileDynamicPattern(rule.pattern);
    if (compiled.ok === 'unsupported')
      throw refuse(`${where}: the regex uses PCRE2's ${compiled.construct}, which the engine cannot match`);
    if (compiled.ok === false) throw refuse(`${where}: the regex does not compile (${compiled.error})`);
    const plan: DynamicPlanRule = {
      key: rule.key,
      pattern: compiled.regex.source,
      ignoreCase: compiled.regex.flags.includes('i'),
      skip: rule.skip,
    };
    // A "-:" key's overrides are never applied (GPTQModel skips the module).
    for (const [key, v] of rule.skip ? [] : Object.entries(rule.overrides)) {
      if (!ENGINE_DYNAMIC_KEYS.includes(key))
        throw refuse(
          `${where}.${key}: the engine honours ${ENGINE_DYNAMIC_KEYS.join(', ')} per module; remove ${key} or quantize with GPTQModel 7.7`,
        );
      if (key === 'bits') {
        if (v !== 2 && v !== 3 && v !== 4 && v !== 8) throw refuse(`${where}.bits: must be 2, 3, 4 or 8 (got ${JSON.stringify(v)})`);
        plan.bits = v;
      } else if (key === 'group_size') {
        if (typeof v !== 'number' || !Number.isInteger(v) || (v !== -1 && v <= 0))
          throw refuse(`${where}.group_size: must be -1 or a positive integer (got ${JSON.stringify(v)})`);
        plan.groupSize = v;
      } else {
        if (typeof v !== 'boolean') throw refuse(`${where}.${key}: must be true or false (got ${JSON.stringify(v)})`);
        if (key === 'desc_act') plan.descAct = v;
        else plan.sym = v;
      }
    }
    return plan;
  });
  return { dynamic, dynamicJson: JSON.stringify(value) };
}
