// What the python backend asks each library for, from a job's plan: the config classes and their keyword arguments,
// key for key (GPTQModel 7.7's QuantizeConfig, transformers 5.23's BitsAndBytesConfig, llm-compressor 0.14's
// modifiers with compressed-tensors 0.19's scheme). One source: the worker sends these calls to the runner, which
// makes them as given (native/worker/python/quantstudio_quantize.py), and the job file's hover shows them.
import type { PipelinePlan } from './pipelinePlan';
import type { JsonObject, JsonValue } from './types';

export interface LibraryCall {
  /** The module the class is imported from. */
  module: string;
  name: string;
  kwargs: JsonObject;
}

export interface PythonBackendRecipe {
  /** The library that quantizes, with the release its mapping follows. */
  library: string;
  calls: LibraryCall[];
  /** What is done with the calls, for a reader. */
  then: string;
}

/** The compressed-tensors format (llm-compressor) instead of the method's own. */
export const COMPRESSED_TENSORS = 'compressed-tensors';

function escapeRegex(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

/** Modules kept in float as GPTQModel's negative `dynamic` rules (matched against full module names), then the
 *  config's own per-module overrides as written. */
function gptqmodelDynamic(plan: PipelinePlan): JsonObject | undefined {
  const dynamic: JsonObject = {};
  for (const m of plan.skipModules) if (m !== 'lm_head') dynamic[`-:^${escapeRegex(m)}$`] = {};
  if (plan.dynamicJson) Object.assign(dynamic, JSON.parse(plan.dynamicJson) as JsonObject);
  return Object.keys(dynamic).length > 0 ? dynamic : undefined;
}

const withDynamic = (kwargs: JsonObject, plan: PipelinePlan): JsonObject => {
  const dynamic = gptqmodelDynamic(plan);
  return dynamic ? { ...kwargs, dynamic } : kwargs;
};

function gptqmodel(plan: PipelinePlan, config: JsonObject): PythonBackendRecipe {
  const kwargs: JsonObject =
    plan.method === 'awq'
      ? {
          bits: plan.bits!,
          group_size: plan.groupSize!,
          sym: !plan.zeroPoint,
          quant_method: 'awq',
          // the layout ("awq-gemm", "awq-gemv") as GPTQModel's FORMAT
          format: plan.layout.replace(/^awq-/, ''),
        }
      : {
          bits: plan.bits!,
          group_size: plan.groupSize!,
          sym: plan.sym!,
          desc_act: plan.descAct!,
          static_groups: plan.staticGroups!,
          damp_percent: plan.dampPercent!,
          damp_auto_increment: plan.dampAutoIncrement!,
          true_sequential: plan.trueSequential!,
          format: plan.checkpointFormat ?? plan.layout,
          ...(plan.mse ? { mse: plan.mse } : {}),
          ...(plan.gptaqAlpha ? { gptaq: { alpha: plan.gptaqAlpha } } : {}),
          // GPTQConfig and QuantizeConfig share act_group_aware and its default: only a value the job sets is passed
          ...(config.act_group_aware === undefined ? {} : { act_group_aware: config.act_group_aware as JsonValue }),
        };
  return {
    library: 'GPTQModel 7.7',
    calls: [{ module: 'gptqmodel', name: 'QuantizeConfig', kwargs: withDynamic(kwargs, plan) }],
    then: 'GPTQModel.load(model, quantize_config) → quantize(calibration windows) → save(out)',
  };
}

function bitsandbytes(plan: PipelinePlan): PythonBackendRecipe {
  const kwargs: JsonObject =
    plan.method === 'int8'
      ? { load_in_8bit: true, llm_int8_threshold: plan.threshold! }
      : {
          load_in_4bit: true,
          bnb_4bit_quant_type: plan.method,
          bnb_4bit_use_double_quant: plan.doubleQuant!,
          bnb_4bit_compute_dtype: plan.computeDtype!,
        };
  if (plan.skipModules.length > 0) kwargs.llm_int8_skip_modules = plan.skipModules;
  return {
    library: 'transformers 5.23 + bitsandbytes 0.50',
    calls: [{ module: 'transformers', name: 'BitsAndBytesConfig', kwargs }],
    then: 'AutoModelForCausalLM.from_pretrained(model, quantization_config=…) → save_pretrained(out)',
  };
}

function llmCompressor(plan: PipelinePlan): PythonBackendRecipe {
  const perChannel = plan.groupSize === -1;
  const weights: JsonObject = {
    num_bits: plan.bits!,
    type: 'int',
    symmetric: plan.method === 'gptq' ? plan.sym! : !plan.zeroPoint,
    strategy: perChannel ? 'channel' : 'group',
    ...(perChannel ? {} : { group_size: plan.groupSize! }),
  };
  const scheme: JsonObject = {
    config_groups: { group_0: { targets: ['Linear'], weights } },
    ignore: ['lm_head', ...plan.skipModules.filter((m) => m !== 'lm_head').map((m) => `re:^${escapeRegex(m)}$`)],
  };
  const calls: LibraryCall[] =
    plan.method === 'gptq'
      ? // actorder None is GPTQConfig's desc_act=false order (llm-compressor's own default reorders statically)
        [
          {
            module: 'llmcompressor.modifiers.quantization',
            name: 'GPTQModifier',
            kwargs: { ...scheme, dampening_frac: plan.dampPercent!, actorder: null },
          },
        ]
      : [
          { module: 'llmcompressor.modifiers.transform.awq', name: 'AWQModifier', kwargs: {} },
          { module: 'llmcompressor.modifiers.quantization', name: 'QuantizationModifier', kwargs: scheme },
        ];
  return {
    library: 'llm-compressor 0.14',
    calls,
    then: 'oneshot(model, recipe=[…], dataset=calibration windows, pipeline="sequential") → save_pretrained(out, save_compressed=True)',
  };
}

/** The recipe for a plan the python backend runs (the caller has refused the others). */
export function pythonBackendRecipe(plan: PipelinePlan, config: JsonObject, format?: string): PythonBackendRecipe {
  if (format === COMPRESSED_TENSORS) return llmCompressor(plan);
  if (plan.method === 'nf4' || plan.method === 'fp4' || plan.method === 'int8') return bitsandbytes(plan);
  return gptqmodel(plan, config);
}

function pythonValue(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string' || typeof value === 'number') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonValue).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}: ${pythonValue(v)}`)
    .join(', ')}}`;
}

/** The calls as Python source, one import and one call per class. */
export function recipeSource(recipe: PythonBackendRecipe): string {
  const imports = recipe.calls.map((c) => `from ${c.module} import ${c.name}`);
  const calls = recipe.calls.map((c) => {
    const args = Object.entries(c.kwargs).map(([k, v]) => `    ${k}=${pythonValue(v)},`);
    return args.length === 0 ? `${c.name}()` : `${c.name}(\n${args.join('\n')}\n)`;
  });
  return [...new Set(imports), '', ...calls].join('\n');
}
