// What the model-aware rules ask of a resolved model, computed once per model: its Linear shapes and
// its module names (for "does this module exist" and "did you mean").
import { isQuantizableLinear, isSkipped, moduleOf } from '../../../../native/model';
import type { ResolvedModel, TensorMeta } from '../../../../native/model';

export interface LinearShape {
  module: string;
  out: number;
  in: number;
}

export interface ModelView {
  model: ResolvedModel;
  /** Unquantized Linears inside decoder layers, the ones a quantizer would convert. */
  linears: LinearShape[];
  /** Every module that owns a tensor (model.layers.0.self_attn.q_proj, lm_head, model.norm, …). */
  modules: string[];
  /** Dotted suffixes of module names without layer indices (q_proj, self_attn.q_proj, model.embed_tokens, …). */
  suggestions: string[];
  tensorsByName: Map<string, TensorMeta>;
}

const views = new WeakMap<ResolvedModel, ModelView>();

/** Names a user may mean: dotted suffixes up to a layer index (past an expert's), and the block list before it (model.layers). */
function suffixesOf(module: string): string[] {
  const parts = module.split('.');
  const out: string[] = [];
  let i = parts.length - 1;
  for (; i >= 0 && !/^\d+$/.test(parts[i]); i--) out.push(parts.slice(i).join('.'));
  // An expert's index (…mlp.experts.3.w2): the names up to the layer index cover every expert ("experts", "mlp.experts").
  if (i > 0 && parts[i - 1] === 'experts') {
    const end = i;
    for (i -= 1; i >= 0 && !/^\d+$/.test(parts[i]); i--) out.push(parts.slice(i, end).join('.'));
  }
  if (i > 0) out.push(parts.slice(0, i).join('.'));
  return out;
}

export function modelView(model: ResolvedModel): ModelView {
  const known = views.get(model);
  if (known) return known;
  const modules = new Set<string>();
  const suggestions = new Set<string>();
  const linears: LinearShape[] = [];
  for (const t of model.tensors) {
    const module = moduleOf(t.name);
    if (!modules.has(module)) {
      modules.add(module);
      suffixesOf(module).forEach((s) => suggestions.add(s));
    }
    if (isQuantizableLinear(t)) linears.push({ module, out: t.shape[0], in: t.shape[1] });
  }
  const view: ModelView = {
    model,
    linears,
    modules: [...modules],
    suggestions: [...suggestions],
    tensorsByName: new Map(model.tensors.map((t) => [t.name, t])),
  };
  views.set(model, view);
  return view;
}

/** Whether a name in a skip list / block list matches a module, the way transformers matches them. */
export function moduleExists(view: ModelView, name: string): boolean {
  return view.modules.some((m) => isSkipped(m, [name]));
}

/** `model.layers.3.mlp.down_proj` → `model.layers.*.mlp.down_proj`: one name for the same Linear in every layer. */
export function layerPattern(module: string): string {
  return module.replace(/\.(\d+)\./g, '.*.');
}
