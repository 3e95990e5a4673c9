// The RoPE settings of a config.json as transformers 5.23 reads them (PreTrainedConfig.standardize_rope_params
// and modeling_rope_utils.py): `rope_scaling` (legacy) or `rope_parameters`, the top-level `rope_theta` and
// `partial_rotary_factor`, the defaults of each type, and every field a type needs, checked here so a model
// never runs with a setting silently ignored. The engine computes the frequencies (native/src/runtime/rope.cc).

import { Json, fail } from './modelConfig';

export const ROPE_TYPES = ['default', 'linear', 'dynamic', 'yarn', 'longrope', 'llama3'] as const;
export type RopeType = (typeof ROPE_TYPES)[number];

export interface RopeSettings {
  type: RopeType;
  theta: number;
  /** head_dim × partial_rotary_factor, truncated: the rotated part of each head. */
  rotaryDim: number;
  /** linear, dynamic, yarn, llama3; yarn and longrope: 0 = max_position_embeddings / original. */
  factor: number;
  originalMaxPositions: number;
  maxPositions: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  /** yarn, longrope: 0 = the type's default. */
  attentionFactor: number;
  betaFast: number;
  betaSlow: number;
  mscale: number;
  mscaleAllDim: number;
  truncate: boolean;
  shortFactor: number[];
  longFactor: number[];
}

function positive(v: unknown, file: string, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(file, field, `must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

function optionalPositive(v: unknown, file: string, field: string, fallback: number): number {
  return v === undefined || v === null ? fallback : positive(v, file, field);
}

function factors(v: unknown, file: string, field: string, count: number): number[] {
  if (!Array.isArray(v) || v.length !== count || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) {
    fail(file, field, `must list ${count} positive numbers (rotary dimension / 2), got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return v as number[];
}

/** The RoPE settings of a Llama-family config.json whose heads are headDim wide. */
export function parseRope(cfg: Json, file: string, headDim: number): RopeSettings {
  // transformers: `rope_scaling or rope_parameters`, then the top-level values as defaults.
  const legacy = cfg.rope_scaling !== undefined && cfg.rope_scaling !== null && Object.keys(cfg.rope_scaling as Json).length > 0;
  const field = legacy ? 'rope_scaling' : 'rope_parameters';
  const raw = (legacy ? cfg.rope_scaling : cfg.rope_parameters) ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) fail(file, field, `must be an object, got ${JSON.stringify(raw)}`);
  const p = raw as Json;
  const type = p.rope_type ?? p.type ?? 'default';
  if (!(ROPE_TYPES as readonly unknown[]).includes(type)) {
    const nested = ['full_attention', 'sliding_attention'].some((k) => k in p);
    fail(
      file,
      nested ? field : `${field}.rope_type`,
      nested
        ? 'holds one RoPE per layer type; the runtime supports one RoPE for every layer'
        : `is "${String(type)}"; the runtime supports ${ROPE_TYPES.join(', ')}`,
    );
  }
  const theta = positive(p.rope_theta ?? cfg.rope_theta ?? 10000, file, p.rope_theta !== undefined ? `${field}.rope_theta` : 'rope_theta');
  const partial = optionalPositive(p.partial_rotary_factor ?? cfg.partial_rotary_factor, file, 'partial_rotary_factor', 1);
  const rotaryDim = Math.trunc(headDim * partial);
  if (partial > 1 || rotaryDim < 2 || rotaryDim % 2 !== 0) {
    fail(
      file,
      'partial_rotary_factor',
      `(${partial}) must leave an even rotary dimension of at most head_dim ${headDim}, got ${rotaryDim}`,
    );
  }
  const maxPositions = optionalPositive(cfg.max_position_embeddings, file, 'max_position_embeddings', 2048);
  // Phi-3 keeps the pretraining length at the top level, and transformers prefers it there.
  const originalMaxPositions =
    type === 'llama3' || type === 'yarn' || type === 'longrope'
      ? positive(
          cfg.original_max_position_embeddings ?? p.original_max_position_embeddings ?? maxPositions,
          file,
          cfg.original_max_position_embeddings !== undefined
            ? 'original_max_position_embeddings'
            : `${field}.original_max_position_embeddings`,
        )
      : 0;
  const need = (key: string) => positive(p[key], file, `${field}.${key}`);
  const settings: RopeSettings = {
    type: type as RopeType,
    theta,
    rotaryDim,
    factor: 1,
    originalMaxPositions,
    maxPositions,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    attentionFactor: 0,
    betaFast: 32,
    betaSlow: 1,
    mscale: 0,
    mscaleAllDim: 0,
    truncate: true,
    shortFactor: [],
    longFactor: [],
  };
  switch (settings.type) {
    case 'linear':
    case 'dynamic':
      settings.factor = need('factor');
      break;
    case 'llama3':
      settings.factor = need('factor');
      settings.lowFreqFactor = need('low_freq_factor');
      settings.highFreqFactor = need('high_freq_factor');
      if (settings.highFreqFactor <= settings.lowFreqFactor) fail(file, `${field}.high_freq_factor`, 'must be larger than low_freq_factor');
      break;
    case 'yarn':
      settings.factor = optionalPositive(p.factor, file, `${field}.factor`, 0);
      settings.attentionFactor = optionalPositive(p.attention_factor, file, `${field}.attention_factor`, 0);
      // `or 32` / `or 1` in transformers: a 0 or null keeps the default.
      settings.betaFast = p.beta_fast ? positive(p.beta_fast, file, `${field}.beta_fast`) : 32;
      settings.betaSlow = p.beta_slow ? positive(p.beta_slow, file, `${field}.beta_slow`) : 1;
      settings.mscale = p.mscale ? positive(p.mscale, file, `${field}.mscale`) : 0;
      settings.mscaleAllDim = p.mscale_all_dim ? positive(p.mscale_all_dim, file, `${field}.mscale_all_dim`) : 0;
      settings.truncate = p.truncate !== false;
      break;
    case 'longrope':
      settings.factor = optionalPositive(p.factor, file, `${field}.factor`, 0);
      settings.attentionFactor = optionalPositive(p.attention_factor, file, `${field}.attention_factor`, 0);
      settings.shortFactor = factors(p.short_factor, file, `${field}.short_factor`, rotaryDim / 2);
      settings.longFactor = factors(p.long_factor, file, `${field}.long_factor`, rotaryDim / 2);
      break;
    default:
      break;
  }
  return settings;
}
