#!/usr/bin/env node
// Bundles the extension, the language server and the CLI with esbuild into dist/ (what the .vsix ships),
// and copies the runtime assets they load from disk (tree-sitter wasm grammars, the python backend's runner).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['vscode'],
  // ESM entry points first: jsonc-parser's UMD main requires './impl/*' at run time, which a bundle cannot resolve
  mainFields: ['module', 'main'],
};

await Promise.all([
  esbuild.build({ ...common, entryPoints: [join(root, 'client/src/extension/extension.ts')], outfile: join(dist, 'extension.js') }),
  esbuild.build({ ...common, entryPoints: [join(root, 'server/src/lsp/server.ts')], outfile: join(dist, 'server.js') }),
  // The job worker: the only bundle that loads the native addon (from native/build/Release at run time).
  esbuild.build({ ...common, entryPoints: [join(root, 'native/worker/main.ts')], outfile: join(dist, 'worker.js') }),
]);

// The python backend's runners and the module they share, beside the worker bundle that starts them
// (native/worker/pythonRunner.ts finds them there).
mkdirSync(join(dist, 'python'), { recursive: true });
for (const script of readdirSync(join(root, 'native/worker/python')).filter((f) => /^quantstudio_\w+\.py$/.test(f)))
  copyFileSync(join(root, 'native/worker/python', script), join(dist, 'python', script));

const wasmDir = dirname(require.resolve('@vscode/tree-sitter-wasm/wasm/tree-sitter.wasm'));
for (const file of ['tree-sitter.wasm', 'tree-sitter-python.wasm']) copyFileSync(join(wasmDir, file), join(dist, file));
