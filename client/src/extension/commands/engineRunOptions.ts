// The engine's run options of the editor's Generate, Evaluate Perplexity and Benchmark runs, from the settings: the
// KV cache, the lm_head and a LoRA adapter folder (resolved against the workspace folder, as a job file's paths are
// against the file).
import * as path from 'path';
import * as vscode from 'vscode';
import type { JsonObject } from '../../../../native/worker/protocol';
import type { QuantStudioSettings } from '../settings';

export function engineRunOptions(engine: QuantStudioSettings['engine']): JsonObject {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  return {
    kvCache: engine.kvCache,
    lmHead: engine.lmHead,
    ...(engine.adapter === '' ? {} : { adapter: path.resolve(base, engine.adapter) }),
  };
}
