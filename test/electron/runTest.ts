// Runs the scenarios of suite/ inside VS Code desktop with @vscode/test-electron:
//   npm run test:electron
// It downloads VS Code from update.code.visualstudio.com unless VSCODE_EXECUTABLE points at an
// installed one; where neither works (no route to Microsoft's servers) use the code-server suite
// in test/e2e, which covers the same scenarios.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';
import { FIXTURES, repoRoot } from './expectations';

async function main(): Promise<number> {
  const root = repoRoot(__dirname);
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-electron-'));
  fs.cpSync(path.join(FIXTURES(root), 'workspace'), workspace, { recursive: true });
  try {
    return await runTests({
      version: process.env.VSCODE_VERSION ?? '1.100.3',
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome'],
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`test:electron could not run VS Code: ${error instanceof Error ? error.message : String(error)}`);
    console.error('Set VSCODE_EXECUTABLE to an installed VS Code, or run the code-server suite: node --test test/e2e/');
    process.exit(1);
  },
);
