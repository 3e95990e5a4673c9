// The model a document is checked against, among its candidate references (reference.ts): the first
// candidate that is not an empty own folder. `current` answers at once from what is resolved; `settled`
// waits for resolution.
import type { ModelReference } from './reference';
import type { ModelResolver, ModelState } from './resolver';

export interface DocumentModel {
  reference: ModelReference;
  state: Exclude<ModelState, { status: 'resolving' } | { status: 'absent' }>;
}

export interface CurrentModel {
  model: DocumentModel | undefined;
  /** Set while a candidate is still resolving: true once a model (or an error to report) is known, false when none is. */
  pending: Promise<boolean> | undefined;
}

export function currentModel(resolver: ModelResolver, candidates: readonly ModelReference[]): CurrentModel {
  for (const reference of candidates) {
    const state = resolver.peek(reference);
    if (state.status === 'absent') continue;
    if (state.status === 'resolving')
      return { model: undefined, pending: settledModel(resolver, candidates).then((found) => found !== undefined) };
    return { model: { reference, state }, pending: undefined };
  }
  return { model: undefined, pending: undefined };
}

export async function settledModel(resolver: ModelResolver, candidates: readonly ModelReference[]): Promise<DocumentModel | undefined> {
  for (const reference of candidates) {
    const state = await resolver.resolve(reference);
    if (state.status === 'absent' || state.status === 'resolving') continue;
    return { reference, state };
  }
  return undefined;
}
