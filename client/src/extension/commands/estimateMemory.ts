// "QuantStudio: Estimate Memory": the memory-estimate lens's command. From the palette (no argument) it
// takes the estimate of the active config from the language server's lens, so both show the same figure.
import * as vscode from 'vscode';
import { COMMANDS } from '../../../../server/src/protocol';
import type { ShowEstimateArgs } from '../../../../server/src/protocol';
import { showEstimate } from './showEstimate';

function isSiteEstimate(value: unknown): value is ShowEstimateArgs {
  return typeof value === 'object' && value !== null && 'estimate' in value && 'model' in value;
}

export async function estimateMemory(arg?: unknown): Promise<void> {
  if (isSiteEstimate(arg)) return showEstimate(arg);
  const document = vscode.window.activeTextEditor?.document;
  if (document) {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[] | undefined>('vscode.executeCodeLensProvider', document.uri);
    const argument = lenses?.find((l) => l.command?.command === COMMANDS.showEstimate)?.command?.arguments?.[0];
    if (isSiteEstimate(argument)) return showEstimate(argument);
  }
  return showEstimate(undefined);
}
