// Gemma 2 and Gemma 3 (text) config.json as transformers 5.23 reads them (Gemma2Config, Gemma3TextConfig and
// their modeling files): the class defaults where a key is absent, the layer types (Gemma 2 alternates sliding
// and full attention; Gemma 3 slides on five of every six layers), and Gemma 3's two RoPEs (full-attention
// layers: rope_theta, default 1e6, with rope_scaling; sliding layers: rope_local_base_freq, default 1e4).
import type { RuntimeConfig } from './runtimeConfig';
import { Json, decoderShape, fail } from './modelConfig';
import { RopeSettings, parseRope } from './ropeConfig';

/** A positive number, the class default when absent, 0 when null (the feature off). */
function optional(cfg: Json, file: string, field: string, fallback: number | null): number {
  const v = field in cfg ? cfg[field] : fallback;
  if (v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    fail(file, field, `must be a positive number or null, got ${JSON.stringify(v)}`);
  return v;
}

const DEFAULTS = {
  Gemma2ForCausalLM: { attentionSoftcap: 50, finalSoftcap: 30, maxPositions: 8192, pattern: 2, qkNorm: false },
  Gemma3ForCausalLM: { attentionSoftcap: null, finalSoftcap: null, maxPositions: 131072, pattern: 6, qkNorm: true },
} as const;

function layerWindows(cfg: Json, file: string, layers: number, pattern: number): number[] {
  const window = optional(cfg, file, 'sliding_window', 4096);
  const types = Array.isArray(cfg.layer_types)
    ? cfg.layer_types
    : Array.from({ length: layers }, (_, i) =>
        (i + 1) % (typeof cfg.sliding_window_pattern === 'number' ? cfg.sliding_window_pattern : pattern)
          ? 'sliding_attention'
          : 'full_attention',
      );
  if (types.length !== layers) fail(file, 'layer_types', `lists ${types.length} layers; num_hidden_layers is ${layers}`);
  return types.map((t, i) => {
    if (t !== 'sliding_attention' && t !== 'full_attention')
      fail(file, `layer_types[${i}]`, `is ${JSON.stringify(t)}; expected "full_attention" or "sliding_attention"`);
    return t === 'sliding_attention' ? window : 0;
  });
}

/** Gemma 3's RoPE per layer type: nested rope_parameters, or the legacy top-level keys. */
function gemma3Ropes(cfg: Json, file: string, headDim: number): { full: RopeSettings; sliding: RopeSettings } {
  const nested = cfg.rope_parameters as Json | undefined;
  const legacyScaling = cfg.rope_scaling as Json | null | undefined;
  const full: Json = { rope_type: 'default', ...((nested?.full_attention as Json) ?? {}), ...(legacyScaling ?? {}) };
  full.rope_theta ??= cfg.rope_theta ?? 1_000_000;
  const sliding: Json = { rope_type: 'default', ...((nested?.sliding_attention as Json) ?? {}) };
  sliding.rope_theta ??= cfg.rope_local_base_freq ?? 10_000;
  const at = (p: Json) => parseRope({ ...cfg, rope_scaling: undefined, rope_theta: undefined, rope_parameters: p }, file, headDim);
  return { full: at(full), sliding: at(sliding) };
}

export function gemmaConfig(cfg: Json, file: string, architecture: string): Omit<RuntimeConfig, 'eosTokenIds' | 'gptqV2Zeros'> {
  const d = DEFAULTS[architecture as keyof typeof DEFAULTS];
  if (!d) fail(file, 'architectures', `names "${architecture}"; Gemma support covers Gemma2ForCausalLM and Gemma3ForCausalLM`);
  const act = cfg.hidden_activation ?? cfg.hidden_act ?? 'gelu_pytorch_tanh';
  if (act !== 'gelu_pytorch_tanh') fail(file, 'hidden_activation', `is "${String(act)}"; ${architecture} runs "gelu_pytorch_tanh"`);
  if (cfg.use_bidirectional_attention === true) fail(file, 'use_bidirectional_attention', 'is true; the runtime runs causal decoders');
  const shape = decoderShape(cfg, file, { headDim: 256, maxPositions: d.maxPositions });
  const { headDim, layers } = shape;
  const ropes = architecture === 'Gemma3ForCausalLM' ? gemma3Ropes(cfg, file, headDim) : undefined;
  const rope = ropes?.full ?? parseRope(cfg, file, headDim);
  for (const r of [rope, ropes?.sliding]) {
    if (r && r.rotaryDim !== headDim)
      fail(file, 'partial_rotary_factor', `rotates ${r.rotaryDim} of ${headDim} head dimensions; ${architecture} rotates the whole head`);
  }
  return {
    family: 'llama',
    architecture,
    ...shape,
    normEps: optional(cfg, file, 'rms_norm_eps', 1e-6),
    rope,
    slidingRope: ropes?.sliding,
    qkNorm: d.qkNorm,
    normOffset: true,
    sandwichNorms: true,
    geluTanh: true,
    scaleEmbeddings: true,
    attentionScale: optional(cfg, file, 'query_pre_attn_scalar', 256) ** -0.5,
    attentionSoftcap: optional(cfg, file, 'attn_logit_softcapping', d.attentionSoftcap),
    finalSoftcap: optional(cfg, file, 'final_logit_softcapping', d.finalSoftcap),
    tieWordEmbeddings: cfg.tie_word_embeddings !== false,
    layerNormBefore: true,
    finalLayerNorm: true,
    wordEmbedProjDim: 0,
    layerWindows: layerWindows(cfg, file, layers, d.pattern),
  };
}
