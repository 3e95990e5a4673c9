// The Mixture-of-Experts keys of Mixtral, Qwen2-MoE and Qwen3-MoE config.json files with the class defaults of
// transformers 5.23 (MixtralConfig, Qwen2MoeConfig, Qwen3MoeConfig); a value the runtime cannot honour is an error
// naming the field.
import { Json, fail, int } from './modelConfig';

export interface MoeSettings {
  experts: number;
  /** num_experts_per_tok: the experts each token is routed to. */
  topK: number;
  /** Each routed expert's MLP width (Mixtral: intermediate_size; Qwen: moe_intermediate_size). */
  expertIntermediateSize: number;
  /** The top-k routing weights renormalised to sum to one (Mixtral always; Qwen: norm_topk_prob). */
  normTopkProb: boolean;
  /** Qwen2-MoE's shared expert width (its output scaled by sigmoid(shared_expert_gate)); 0 = none. */
  sharedExpertIntermediateSize: number;
  /** Mixtral names its block block_sparse_moe and its experts' linears w1 (gate), w3 (up), w2 (down). */
  mixtralNames: boolean;
  /** Per layer: a MoE block (true) or a dense MLP of intermediate_size (Qwen's mlp_only_layers, decoder_sparse_step). */
  sparseLayers: boolean[];
}

export const moeArchitectures = ['MixtralForCausalLM', 'Qwen2MoeForCausalLM', 'Qwen3MoeForCausalLM'];

function bool(cfg: Json, file: string, field: string, fallback: boolean): boolean {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'boolean') fail(file, field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

// Qwen's decoder layer is sparse unless listed in mlp_only_layers, when num_experts > 0 and (i + 1) % decoder_sparse_step == 0.
function qwenSparseLayers(cfg: Json, file: string, layers: number, experts: number): boolean[] {
  const step = int(cfg, file, 'decoder_sparse_step', 1);
  const only = cfg.mlp_only_layers ?? [];
  if (!Array.isArray(only) || !only.every((i) => typeof i === 'number' && Number.isInteger(i))) {
    fail(file, 'mlp_only_layers', `must be a list of layer indices, got ${JSON.stringify(only)}`);
  }
  return Array.from({ length: layers }, (_, i) => experts > 0 && !only.includes(i) && (i + 1) % step === 0);
}

// MixtralConfig and Qwen3MoeConfig map num_experts to num_local_experts (attribute_map: 5.23 saves the latter, the Hub's
// Qwen3 configs hold the former); Qwen2MoeConfig has num_experts only.
function expertCount(cfg: Json, file: string, architecture: string): number {
  if (architecture === 'Qwen2MoeForCausalLM') return int(cfg, file, 'num_experts', 60);
  const key = cfg.num_local_experts != null || cfg.num_experts == null ? 'num_local_experts' : 'num_experts';
  return int(cfg, file, key, architecture === 'MixtralForCausalLM' ? 8 : 128);
}

/** The MoE settings of a MoE architecture, undefined for any other. */
export function moeConfig(cfg: Json, file: string, architecture: string, layers: number): MoeSettings | undefined {
  if (!moeArchitectures.includes(architecture)) return undefined;
  const mixtral = architecture === 'MixtralForCausalLM';
  const experts = expertCount(cfg, file, architecture);
  const topK = int(cfg, file, 'num_experts_per_tok', mixtral ? 2 : architecture === 'Qwen2MoeForCausalLM' ? 4 : 8);
  if (topK > experts) fail(file, 'num_experts_per_tok', `(${topK}) exceeds the ${experts} experts`);
  return {
    experts,
    topK,
    expertIntermediateSize: mixtral
      ? int(cfg, file, 'intermediate_size')
      : int(cfg, file, 'moe_intermediate_size', architecture === 'Qwen2MoeForCausalLM' ? 1408 : 768),
    normTopkProb: mixtral ? true : bool(cfg, file, 'norm_topk_prob', false),
    sharedExpertIntermediateSize: architecture === 'Qwen2MoeForCausalLM' ? int(cfg, file, 'shared_expert_intermediate_size', 5632) : 0,
    mixtralNames: mixtral,
    sparseLayers: mixtral ? Array<boolean>(layers).fill(true) : qwenSparseLayers(cfg, file, layers, experts),
  };
}
