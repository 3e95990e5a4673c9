// A big model's config.json for the language-server latency bench, padded to a line count with per-layer
// entries (as deeper models' configs have).
/** A big model's config.json (Qwen3-style, per-layer attention types) with a GPTQ quantization_config. */
export function bigConfig(targetLines) {
  const layers = 64;
  const config = {
    architectures: ['Qwen3ForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 151643,
    eos_token_id: 151645,
    head_dim: 128,
    hidden_act: 'silu',
    hidden_size: 5120,
    initializer_range: 0.02,
    intermediate_size: 25600,
    max_position_embeddings: 40960,
    max_window_layers: layers,
    model_type: 'qwen3',
    num_attention_heads: 64,
    num_hidden_layers: layers,
    num_key_value_heads: 8,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000,
    sliding_window: null,
    tie_word_embeddings: false,
    torch_dtype: 'float16',
    transformers_version: '5.23.0',
    use_cache: true,
    use_sliding_window: false,
    vocab_size: 151936,
    layer_types: Array.from({ length: layers }, () => 'full_attention'),
    quantization_config: {
      quant_method: 'gptq',
      bits: 4,
      group_size: 128,
      damp_percent: 0.01,
      desc_act: false,
      sym: true,
      true_sequential: true,
      static_groups: false,
      lm_head: false,
      checkpoint_format: 'gptq',
      backend: 'auto',
      dataset: 'c4',
      model_seqlen: 4096,
      batch_size: 1,
      cache_block_outputs: true,
      pack_dtype: 'int32',
      block_name_to_quantize: 'model.layers',
      modules_in_block_to_quantize: [
        ['self_attn.k_proj', 'self_attn.v_proj', 'self_attn.q_proj'],
        ['self_attn.o_proj'],
        ['mlp.up_proj', 'mlp.gate_proj'],
        ['mlp.down_proj'],
      ],
      meta: {
        quantizer: ['gptqmodel:7.7.0'],
        uri: 'https://github.com/modelcloud/gptqmodel',
        damp_percent: 0.01,
        damp_auto_increment: 0.0025,
      },
    },
  };
  // Each further layer_types entry is one more line.
  const lines = JSON.stringify(config, null, 2).split('\n').length;
  for (let i = lines; i < targetLines; i++) config.layer_types.push('full_attention');
  const text = JSON.stringify(config, null, 2);
  return text + '\n';
}
