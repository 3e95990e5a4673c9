// "QuantStudio: Set Serving API Key…": the endpoint (prefilled from the active job file's benchmark.endpoint.url)
// and the key it may receive, stored in secret storage (servingKeys.ts). An empty key removes it. Never logged.
import * as vscode from 'vscode';
import { benchmarkJobFromJobFile } from '../../jobs';
import { storeServingKey } from '../servingKeys';

function activeEndpoint(): string | undefined {
  const file = vscode.window.activeTextEditor?.document.uri;
  if (!file || file.scheme !== 'file' || !file.fsPath.endsWith('.quant.json')) return undefined;
  const job = benchmarkJobFromJobFile(file.fsPath);
  return typeof job === 'object' && job.kind === 'serving' ? String(job.options.endpoint) : undefined;
}

export async function setServingApiKey(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<void> {
  const endpoint = await vscode.window.showInputBox({
    title: 'Serving API Key (1/2): endpoint',
    prompt: 'The API base the key is for, exactly (https, or http on this machine); only requests to it carry the key.',
    value: activeEndpoint() ?? 'http://127.0.0.1:8000/v1',
    ignoreFocusOut: true,
  });
  if (endpoint === undefined) return;
  const key = await vscode.window.showInputBox({
    title: 'Serving API Key (2/2): key',
    prompt: `The key for ${endpoint}, as the server was started with (vllm serve --api-key, llama-server --api-key…); kept in VS Code's secret storage. Leave empty to remove it.`,
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  if (!(await storeServingKey(context, endpoint, key.trim()))) {
    void vscode.window.showErrorMessage(`QuantStudio: ${endpoint} is not an http(s) URL without credentials, query or fragment.`);
    return;
  }
  const what = key.trim() === '' ? `API key for ${endpoint} removed` : `API key for ${endpoint} stored`;
  output.info(`${what}.`);
  void vscode.window.showInformationMessage(`QuantStudio: ${what}.`);
}
