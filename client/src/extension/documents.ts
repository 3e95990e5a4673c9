// Which documents are quantization configs: the one table both the language client's document
// selector and the "validate workspace" file search are built from.
import type { DocumentSelector } from 'vscode-languageclient/node';

/** JSON files that are ours by name (a config.json is ours only when it has a quantization_config; the server decides). */
export const CONFIG_FILE_GLOBS = ['**/config.json', '**/quantize_config.json', '**/quant_config.json', '**/*.quant.json'] as const;

/** Python call sites the server validates; a Python file without any of them is skipped by the workspace scan. */
export const PYTHON_CONFIG_CALLS = /\b(GPTQConfig|AwqConfig|BitsAndBytesConfig)\s*\(/;

export const DOCUMENT_SELECTOR: DocumentSelector = [
  ...CONFIG_FILE_GLOBS.flatMap((pattern) => [
    { scheme: 'file', language: 'json', pattern },
    { scheme: 'file', language: 'jsonc', pattern },
  ]),
  { scheme: 'file', language: 'python' },
];

/** Folders never worth scanning (dependencies, build output, VCS, virtual environments). */
export const EXCLUDED_FOLDERS = '**/{node_modules,.git,out,dist,.venv,venv,__pycache__,.quantstudio}/**';
