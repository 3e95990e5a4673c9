// Picks a model: the workspace's model folders, the bundled demo model, the complete models in the Hugging
// Face cache (as their Hub ids), any folder ("Browse…") or a Hub id typed in (the job downloads it).
import * as path from 'path';
import * as vscode from 'vscode';
import { defaultHubCacheDir, parseHubRef } from '../../../../native/model';
import { cachedHubModels } from './hfCacheModels';
import { modelFolders, type ModelFolder } from './modelFolders';

const DEMO_MODEL = path.join('examples', 'tiny-llama');
const BROWSE = 'Browse…';
const ENTER_HUB_ID = 'Enter a Hugging Face model id…';
/** As documents.ts's EXCLUDED_FOLDERS, but .quantstudio stays in: quantized outputs are written under .quantstudio/models. */
const MODEL_SEARCH_EXCLUDE = '**/{node_modules,.git,out,dist,.venv,venv,__pycache__}/**';

export interface PickModelOptions {
  title: string;
  /** Only full-precision models (quantize, benchmark baseline) or only quantized checkpoints. */
  only?: 'full-precision' | 'quantized';
}

/** The demo model shipped with the extension (examples/tiny-llama), when it is there. */
export function demoModel(context: vscode.ExtensionContext): string {
  return context.asAbsolutePath(DEMO_MODEL);
}

export async function findModelFolders(context: vscode.ExtensionContext): Promise<ModelFolder[]> {
  const configs = await vscode.workspace.findFiles('**/config.json', MODEL_SEARCH_EXCLUDE, 500);
  return modelFolders(
    configs.map((u) => u.fsPath),
    [demoModel(context)],
  );
}

function describe(m: ModelFolder, demo: string): string {
  const kind = m.quantMethod ? `${m.quantMethod} checkpoint` : 'full precision';
  return path.resolve(m.folder) === path.resolve(demo) ? `${kind} · demo model (in the extension)` : kind;
}

/** A typed Hub id: `org/name`, optionally `@revision`. */
async function enterHubId(title: string): Promise<string | undefined> {
  const id = await vscode.window.showInputBox({
    title,
    prompt: 'A model on the Hugging Face Hub; the job downloads its config, safetensors weights and tokenizer into the Hugging Face cache',
    placeHolder: 'org/name or org/name@revision',
    ignoreFocusOut: true,
    validateInput: (text) => (parseHubRef(text.trim()) ? undefined : 'Enter a model id like org/name (optionally @branch, tag or commit).'),
  });
  return id?.trim() || undefined;
}

export async function pickModel(context: vscode.ExtensionContext, options: PickModelOptions): Promise<string | undefined> {
  const demo = demoModel(context);
  const wanted = (quantMethod: string | undefined): boolean =>
    options.only === undefined || (options.only === 'quantized') === (quantMethod !== undefined);
  const found = (await findModelFolders(context)).filter((m) => wanted(m.quantMethod));
  const items: Array<vscode.QuickPickItem & { model?: string; hubId?: boolean }> = found.map((m) => ({
    label: path.basename(m.folder),
    description: describe(m, demo),
    detail: vscode.workspace.asRelativePath(m.folder),
    model: m.folder,
  }));
  for (const m of cachedHubModels(defaultHubCacheDir()).filter((c) => wanted(c.quantMethod))) {
    items.push({ label: m.ref, description: 'Hugging Face cache', detail: m.folder, model: m.ref });
  }
  items.push({ label: BROWSE, description: 'a folder with config.json and *.safetensors' });
  items.push({ label: ENTER_HUB_ID, description: 'downloaded into the Hugging Face cache when the job runs', hubId: true });
  const picked = await vscode.window.showQuickPick(items, { title: options.title, placeHolder: 'Pick the model' });
  if (!picked) return undefined;
  if (picked.model) return picked.model;
  if (picked.hubId) return enterHubId(options.title);
  const chosen = await vscode.window.showOpenDialog({
    title: options.title,
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use this model',
  });
  return chosen?.[0]?.fsPath;
}
