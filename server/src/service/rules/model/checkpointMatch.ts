// A config.json (or quantize_config.json / quant_config.json) beside quantized weights must describe those
// weights: transformers 5.23 builds the quantized Linears from the config and then loads the tensors into
// them, so a wrong bits / group_size / method fails with shape mismatches (or loads garbage).
// Expected shapes come from the same layout functions as the memory estimate.
import { dynamicRuleFor, QUANT_DEFAULTS, quantizedLinearLayout } from '../../../../../native/model';
import type { DynamicRule, TensorMeta } from '../../../../../native/model';
import type { ConfigEntry, ConfigSite } from '../../model';
import { dynamicOf } from '../gptqDynamic';
import { booleanOf, effective, numberOf, stringOf } from '../values';
import type { ModelRule, ModelRuleContext } from './rule';

const GPTQ_BITS = [2, 3, 4, 8] as const;

function describe(t: TensorMeta): string {
  return `${t.name} is [${t.shape.join(', ')}] ${t.dtype}`;
}

/** The first quantized module no `dynamic` key decides (it has the config's own bits and group size): its qweight and the tensors beside it. */
function firstPacked(
  ctx: ModelRuleContext,
  dynamic: readonly DynamicRule[] = [],
): { qweight: TensorMeta; scales?: TensorMeta; gIdx?: TensorMeta } | undefined {
  const qweight = ctx.view.model.tensors.find(
    (t) => t.name.endsWith('.qweight') && dynamicRuleFor(dynamic, t.name.slice(0, -'.qweight'.length)) === undefined,
  );
  if (!qweight) return undefined;
  const base = qweight.name.slice(0, -'qweight'.length);
  return { qweight, scales: ctx.view.tensorsByName.get(`${base}scales`), gIdx: ctx.view.tensorsByName.get(`${base}g_idx`) };
}

function reportMissing(site: ConfigSite, ctx: ModelRuleContext, method: string, expected: string): void {
  const example = ctx.view.linears[0];
  ctx.report({
    at: effective(site, 'quant_method'),
    message:
      `quant_method is ${method}, but the safetensors in this folder hold no ${expected} tensors${example ? ` (they hold unquantized weights such as ${example.module}.weight)` : ''}: ` +
      `transformers 5.23 cannot load them as a ${method} checkpoint. Quantize the model first, or remove quantization_config to load it unquantized.`,
  });
}

function checkGptq(site: ConfigSite, ctx: ModelRuleContext): void {
  if (!firstPacked(ctx)) return reportMissing(site, ctx, 'gptq', '*.qweight');
  // GPTQModel 7.7's `dynamic` gives some modules other bits and group sizes: those are not compared with the config's.
  const packed = firstPacked(ctx, dynamicOf(site)?.rules);
  if (!packed) return;
  const { qweight, scales, gIdx } = packed;
  if (!gIdx || !scales || scales.shape.length !== 2) return;
  const inFeatures = gIdx.shape[0];
  const out = scales.shape[1];
  const bitsEntry = effective(site, 'bits');
  const bits = numberOf(bitsEntry) ?? QUANT_DEFAULTS.gptq.bits;
  const groupEntry = effective(site, 'group_size');
  const groupSize = numberOf(groupEntry) ?? QUANT_DEFAULTS.gptq.group_size;
  const bytesFor = (b: (typeof GPTQ_BITS)[number], g: number): Map<string, number> =>
    new Map(
      quantizedLinearLayout({ method: 'gptq', bits: b, groupSize: g, descAct: false, skip: [] }, out, inFeatures, 'float16').map((p) => [
        p.suffix,
        p.bytes,
      ]),
    );
  const configured = GPTQ_BITS.find((b) => b === bits);
  if (configured !== undefined && bytesFor(configured, groupSize).get('qweight') !== qweight.bytes) {
    const implied = GPTQ_BITS.find((b) => bytesFor(b, groupSize).get('qweight') === qweight.bytes);
    ctx.report({
      at: bitsEntry,
      message:
        `bits is ${bits}, but ${describe(qweight)}, ${implied ? `the packing of ${implied}-bit weights` : `which no GPTQ bit width packs to`} (${bits}-bit would take ` +
        `${bytesFor(configured, groupSize).get('qweight')} bytes, it holds ${qweight.bytes}): transformers 5.23 fails to load it with a shape mismatch.${implied ? ` Set bits to ${implied}.` : ''}`,
      fixes: implied && bitsEntry ? [{ kind: 'setValue', key: 'bits', value: implied, title: `Set bits to ${implied}` }] : undefined,
    });
    return;
  }
  if (configured !== undefined && bytesFor(configured, groupSize).get('scales') !== scales.bytes) {
    const groups = scales.shape[0];
    const implied = groups === 1 ? -1 : inFeatures % groups === 0 ? inFeatures / groups : undefined;
    ctx.report({
      at: groupEntry,
      message:
        `group_size is ${groupSize}, but ${describe(scales)}: ` +
        `${groups} group${groups === 1 ? '' : 's'} over in_features ${inFeatures}${implied !== undefined ? `, i.e. group_size ${implied}` : ''}. ` +
        `transformers 5.23 fails to load it with a shape mismatch.${implied !== undefined ? ` Set group_size to ${implied}.` : ''}`,
      fixes:
        implied !== undefined && groupEntry
          ? [{ kind: 'setValue', key: 'group_size', value: implied, title: `Set group_size to ${implied}` }]
          : undefined,
    });
  }
}

function checkAwq(site: ConfigSite, ctx: ModelRuleContext): void {
  const packed = firstPacked(ctx);
  if (!packed) return reportMissing(site, ctx, 'awq', '*.qweight');
  const { qweight, scales } = packed;
  if (!scales || scales.shape.length !== 2 || qweight.shape.length !== 2) return;
  const groupEntry = effective(site, 'group_size', 'q_group_size');
  const groupSize = numberOf(groupEntry) ?? QUANT_DEFAULTS.awq.group_size;
  const gemv = stringOf(effective(site, 'version'))?.toLowerCase() === 'gemv';
  if (gemv || groupSize <= 0) return; // GEMV pads its group words: the GEMM check below does not apply
  const inFeatures = qweight.shape[0];
  const out = scales.shape[1];
  const expected = quantizedLinearLayout({ method: 'awq', bits: 4, groupSize, version: 'gemm', skip: [] }, out, inFeatures, 'float16').find(
    (p) => p.suffix === 'scales',
  )?.bytes;
  if (expected === scales.bytes) return;
  const groups = scales.shape[0];
  const implied = inFeatures % groups === 0 ? inFeatures / groups : undefined;
  ctx.report({
    at: groupEntry,
    message:
      `${groupEntry?.key ?? 'group_size'} is ${groupSize}, but ${describe(scales)}: ` +
      `${groups} groups over in_features ${inFeatures}${implied !== undefined ? `, i.e. group size ${implied}` : ''}. AutoAWQ 0.2 / transformers 5.23 fail to load it with a shape mismatch.`,
    fixes:
      implied !== undefined && groupEntry
        ? [{ kind: 'setValue', key: groupEntry.key, value: implied, title: `Set ${groupEntry.key} to ${implied}` }]
        : undefined,
  });
}

function checkBitsandbytes(site: ConfigSite, ctx: ModelRuleContext): void {
  const names = ctx.view.model.tensors.map((t) => t.name);
  const int8 = names.find((n) => n.endsWith('.SCB'));
  const state = names.find((n) => /\.weight\.quant_state\.bitsandbytes__(nf4|fp4)$/.test(n));
  const load4: ConfigEntry | undefined = effective(site, 'load_in_4bit');
  const load8: ConfigEntry | undefined = effective(site, 'load_in_8bit');
  if (booleanOf(load4) === true && int8 && !state) {
    ctx.report({
      at: load4,
      message: `load_in_4bit is true, but this folder holds LLM.int8 weights (${int8}): bitsandbytes 0.50 cannot read 8-bit tensors as 4-bit ones. Set load_in_8bit to true and load_in_4bit to false.`,
    });
  } else if (booleanOf(load8) === true && state && !int8) {
    ctx.report({
      at: load8,
      message: `load_in_8bit is true, but this folder holds 4-bit weights (${state}): bitsandbytes 0.50 cannot read 4-bit tensors as 8-bit ones. Set load_in_4bit to true and load_in_8bit to false.`,
    });
  } else if (booleanOf(load4) === true && state) {
    const stored = state.slice(state.lastIndexOf('__') + 2);
    const typeEntry = effective(site, 'bnb_4bit_quant_type');
    const configured = stringOf(typeEntry) ?? QUANT_DEFAULTS.bitsandbytes.bnb_4bit_quant_type;
    if (configured !== stored) {
      ctx.report({
        at: typeEntry ?? load4,
        message:
          `bnb_4bit_quant_type is ${JSON.stringify(configured)}${typeEntry ? '' : ' (the default)'}, but the weights were stored as ${stored} (${state}): ` +
          `bitsandbytes 0.50 would dequantize them with the wrong code book. Set bnb_4bit_quant_type to ${JSON.stringify(stored)}.`,
        fixes: [
          {
            kind: typeEntry ? 'setValue' : 'addKey',
            key: 'bnb_4bit_quant_type',
            value: stored,
            title: `Set bnb_4bit_quant_type to "${stored}"`,
          },
        ],
      });
    }
  }
}

export const checkpointMatchRule: ModelRule = {
  id: 'model/checkpoint-mismatch',
  methods: ['gptq', 'awq', 'bitsandbytes'],
  defaultSeverity: 'error',
  description:
    "A config beside quantized weights matches them: method, bits, group size and 4-bit type as the tensors' shapes and names show (transformers 5.23).",
  check(site, ctx) {
    if (!ctx.ownCheckpoint) return;
    if (site.method === 'gptq') checkGptq(site, ctx);
    else if (site.method === 'awq') checkAwq(site, ctx);
    else checkBitsandbytes(site, ctx);
  },
};
