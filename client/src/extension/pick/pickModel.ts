// Picks a model folder: the workspace's model folders, the bundled demo model, or any folder ("Browse…").
import * as path from 'path';
import * as vscode from 'vscode';
import { modelFolders, type ModelFolder } from './modelFolders';

const DEMO_MODEL = path.join('examples', 'tiny-llama');
const BROWSE = 'Browse…';
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
  return modelFolders(configs.map((u) => u.fsPath), [demoModel(context)]);
}

function describe(m: ModelFolder, demo: string): string {
  const kind = m.quantMethod ? `${m.quantMethod} checkpoint` : 'full precision';
  return path.resolve(m.folder) === path.resolve(demo) ? `${kind} · demo model` : kind;
}

export async function pickModel(context: vscode.ExtensionContext, options: PickModelOptions): Promise<string | undefined> {
  const demo = demoModel(context);
  const found = (await findModelFolders(context)).filter(
    (m) => options.only === undefined || (options.only === 'quantized') === (m.quantMethod !== undefined),
  );
  const items: Array<vscode.QuickPickItem & { folder?: string }> = found.map((m) => ({
    label: path.basename(m.folder),
    description: describe(m, demo),
    detail: vscode.workspace.asRelativePath(m.folder),
    folder: m.folder,
  }));
  items.push({ label: BROWSE, description: 'a folder with config.json and *.safetensors' });
  const picked = await vscode.window.showQuickPick(items, { title: options.title, placeHolder: 'Pick the model folder' });
  if (!picked) return undefined;
  if (picked.folder) return picked.folder;
  const chosen = await vscode.window.showOpenDialog({ title: options.title, canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use this model' });
  return chosen?.[0]?.fsPath;
}
