// quantstudio.showEstimate, the command of the memory-estimate code lens: the lens carries the whole
// estimate as its argument, and this shows its breakdown in a modal information message.
import * as vscode from 'vscode';
import type { SiteEstimate, SiteEstimateResult } from '../../../../server/src/service';
import { contextLabel, humanBytes } from '../../../../native/model';

/** The message (headline) and detail (one line per breakdown entry) for an estimate. */
export function estimateSummary(e: SiteEstimate): { message: string; detail: string } {
  const peak = e.target === 'cpu' ? 'peak RSS on the CPU engine' : 'peak';
  const context = e.seqNote ? `${contextLabel(e.seq)} (${e.seqNote})` : contextLabel(e.seq);
  const assumed = e.assumed.length > 0 ? `; assumed ${e.assumed.join(', ')}` : '';
  const message = `${e.estimate.method} for ${e.model}: ≈ ${humanBytes(e.estimate.weightsBytes)} weights, ${humanBytes(e.estimate.peakBytes)} ${peak} @ batch ${e.batch}, ${context} context${assumed}`;
  const lines = e.estimate.breakdown.map((l) => `${l.label}: ${humanBytes(l.bytes)}`);
  const methods = e.methods.map(
    (m) => `${m.label}: ${humanBytes(m.estimate.weightsBytes)} weights, ${humanBytes(m.estimate.peakBytes)} peak`,
  );
  return { message, detail: [...lines, '', 'Across methods:', ...methods].join('\n') };
}

export async function showEstimate(estimate: SiteEstimateResult | undefined): Promise<void> {
  if (estimate && 'reason' in estimate) {
    void vscode.window.showInformationMessage(`No memory estimate for ${estimate.model}: ${estimate.reason}`);
    return;
  }
  if (!estimate?.estimate) {
    void vscode.window.showInformationMessage('No memory estimate here: open a quantization config whose model QuantStudio can resolve.');
    return;
  }
  const { message, detail } = estimateSummary(estimate);
  await vscode.window.showInformationMessage(message, { modal: true, detail });
}
