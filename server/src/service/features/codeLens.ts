// Code lens on each quantization config: the memory estimate's total for the target model. Its command
// (quantstudio.showEstimate) carries the whole estimate, so a client can show the breakdown.
import type { CodeLens } from 'vscode-languageserver-types';
import type { ConfigSite, Range } from '../model';
import type { ParsedDocument } from '../parse/document';
import type { SiteEstimate } from '../modelAware/estimateFor';
import { lensTitle } from '../modelAware/estimateFor';

export const SHOW_ESTIMATE_COMMAND = 'quantstudio.showEstimate';

/** Where a site's lens and estimate hover sit: the quantization_config key, else the object's brace / the call's class name. */
export function estimateAnchor(doc: ParsedDocument, site: ConfigSite): Range {
  if (doc.kind === 'model-config' || doc.kind === 'job') return doc.rangeOf(undefined, ['quantization_config'], 'key') ?? site.anchorRange;
  return site.anchorRange;
}

export function codeLenses(doc: ParsedDocument, estimates: ReadonlyArray<{ site: ConfigSite; estimate: SiteEstimate }>): CodeLens[] {
  return estimates.map(({ site, estimate }) => ({
    range: estimateAnchor(doc, site),
    command: { title: lensTitle(estimate), command: SHOW_ESTIMATE_COMMAND, arguments: [estimate] },
  }));
}
