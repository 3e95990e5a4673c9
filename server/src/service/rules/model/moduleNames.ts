// Module lists must name modules the model has. transformers 5.23 matches modules_to_not_convert /
// llm_int8_skip_modules by name, prefix or suffix and silently ignores a name that matches nothing (so the
// module gets quantized after all); GPTQModel 7.7 looks modules_in_block_to_quantize up inside each block
// and block_name_to_quantize at the model root.
import type { ConfigEntry, LiteralValue, Method } from '../../model';
import { didYouMean } from '../../didYouMean';
import { moduleExists } from '../../modelAware/modelView';
import type { ModelView } from '../../modelAware/modelView';
import type { ModelRule } from './rule';

interface ListKey {
  key: string;
  methods: readonly Method[];
  consequence: string;
}

const LIST_KEYS: readonly ListKey[] = [
  {
    key: 'modules_to_not_convert',
    methods: ['gptq', 'awq', 'bitsandbytes'],
    consequence: 'transformers 5.23 matches nothing and quantizes the module after all',
  },
  {
    key: 'llm_int8_skip_modules',
    methods: ['bitsandbytes'],
    consequence: 'transformers 5.23 (bitsandbytes 0.50) matches nothing and converts the module after all',
  },
  {
    key: 'modules_in_block_to_quantize',
    methods: ['gptq'],
    consequence: 'GPTQModel 7.7 finds no such module in the blocks and fails to quantize',
  },
  { key: 'block_name_to_quantize', methods: ['gptq'], consequence: 'GPTQModel 7.7 finds no such block and fails to quantize' },
];

/** Module names always known to transformers even when no tensor holds them (lm_head of tied embeddings). */
const IMPLICIT = new Set(['lm_head']);

/** Projections Phi-3 (and Phi-3.5 / Phi-4-mini) fuse into one Linear: the name to skip there instead. */
const FUSED_INTO: Readonly<Record<string, string>> = {
  q_proj: 'qkv_proj',
  k_proj: 'qkv_proj',
  v_proj: 'qkv_proj',
  gate_proj: 'gate_up_proj',
  up_proj: 'gate_up_proj',
};

/** `self_attn.q_proj` → `self_attn.qkv_proj` when the model has that fused module; spelling mistakes are didYouMean's. */
function fusedName(name: string, view: ModelView): { name: string; part: string; fused: string } | undefined {
  const part = name.split('.').pop() ?? name;
  const fused = FUSED_INTO[part];
  const candidate = fused && `${name.slice(0, name.length - part.length)}${fused}`;
  return candidate && moduleExists(view, candidate) ? { name: candidate, part, fused } : undefined;
}

/** Every string inside the value with its path (lists may nest: modules_in_block_to_quantize). */
function namesIn(value: LiteralValue | undefined, path: Array<string | number>): Array<{ name: string; path: Array<string | number> }> {
  if (typeof value === 'string') return [{ name: value, path }];
  if (Array.isArray(value)) return value.flatMap((v, i) => namesIn(v, [...path, i]));
  return [];
}

function replaced(value: LiteralValue, path: ReadonlyArray<string | number>, by: string): LiteralValue {
  if (path.length === 0) return by;
  if (!Array.isArray(value)) return value;
  const [head, ...rest] = path;
  return value.map((v, i) => (i === head ? replaced(v, rest, by) : v));
}

export const moduleNamesRule: ModelRule = {
  id: 'model/unknown-module',
  methods: ['gptq', 'awq', 'bitsandbytes'],
  defaultSeverity: 'warning',
  description:
    'Module lists (modules_to_not_convert, llm_int8_skip_modules, modules_in_block_to_quantize, block_name_to_quantize) name modules the model has.',
  check(site, ctx) {
    const method = site.method as Method;
    for (const list of LIST_KEYS) {
      if (!list.methods.includes(method)) continue;
      const entry: ConfigEntry | undefined = site.entries.find((e) => e.key === list.key);
      if (!entry || entry.value === undefined) continue;
      for (const { name, path } of namesIn(entry.value, [])) {
        if (IMPLICIT.has(name) || moduleExists(ctx.view, name)) continue;
        const fused = fusedName(name, ctx.view);
        const suggestion = fused?.name ?? didYouMean(name, ctx.view.suggestions);
        const value = entry.value;
        const why = fused ? ` ${ctx.view.model.ref} fuses ${fused.part} into ${fused.fused}.` : '';
        ctx.report({
          at: entry,
          range: ctx.locate([entry.key, ...path]) ?? entry.valueRange,
          message:
            `${JSON.stringify(name)} in ${entry.key} names no module of ${ctx.view.model.ref}: ${list.consequence}.${why}` +
            (suggestion
              ? ` Did you mean ${JSON.stringify(suggestion)}?`
              : ' Use a module name from the model (e.g. lm_head, q_proj, mlp.down_proj).'),
          fixes: suggestion
            ? [
                {
                  kind: 'setValue',
                  key: entry.key,
                  value: replaced(value, path, suggestion),
                  title: `Replace ${JSON.stringify(name)} with ${JSON.stringify(suggestion)}`,
                },
              ]
            : undefined,
        });
      }
    }
  },
};
