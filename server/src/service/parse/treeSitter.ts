// Loads tree-sitter (web-tree-sitter runtime) and its Python grammar from @vscode/tree-sitter-wasm once
// per process. The wasm files sit beside the bundled server in dist/, or in node_modules when run from out/.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Language, Parser } from '@vscode/tree-sitter-wasm';

function wasmFile(name: string): string {
  const besideBundle = join(__dirname, name);
  if (existsSync(besideBundle)) return besideBundle;
  // Resolved at run time (not by the bundler): only the unbundled build in out/ gets here.
  return join(dirname(createRequire(__filename).resolve('@vscode/tree-sitter-wasm')), name);
}

let pythonParser: Promise<Parser> | undefined;

/** The shared Python parser; the first call loads the wasm runtime and grammar (tens of milliseconds). */
export function loadPythonParser(): Promise<Parser> {
  pythonParser ??= (async () => {
    await Parser.init({ locateFile: (file: string) => wasmFile(file) });
    const language = await Language.load(wasmFile('tree-sitter-python.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return pythonParser;
}
