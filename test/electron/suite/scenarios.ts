// The e2e scenarios through the vscode API (the code-server suite drives the same ones through the UI):
// the extension activates, each fixture file gets exactly the expected diagnostics, hover shows the
// schema doc, the quick fix edits the file and the problem goes away, the workspace command counts, and
// the quantstudio.* settings reach the server, and a Benchmark run started through the command saves its
// RunResult.
import * as assert from 'assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { loadExpectations, repoRoot, type ExpectedDiagnostic, type ExpectedFile } from '../expectations';

const EXTENSION_ID = 'quantstudio.quantstudio';
const TIMEOUT_MS = 20_000;
const SEVERITY: Record<ExpectedDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

type Scenario = [name: string, body: () => Promise<void>];

function workspaceUri(relative: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'VS Code was started without the fixture workspace');
  return vscode.Uri.joinPath(folder.uri, relative);
}

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'quantstudio');
}

/** Waits until the server's diagnostics for uri satisfy `done` (they arrive asynchronously after open/edit). */
async function diagnosticsWhere(uri: vscode.Uri, done: (d: vscode.Diagnostic[]) => boolean): Promise<vscode.Diagnostic[]> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!done(ours(uri))) {
    if (Date.now() > deadline) return ours(uri);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return ours(uri);
}

function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' ? String(d.code.value) : String(d.code);
}

function diagnosticsScenario(file: ExpectedFile): Scenario {
  return [
    `${file.path}: diagnostics`,
    async () => {
      const uri = workspaceUri(file.path);
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const got = await diagnosticsWhere(uri, (d) => d.length >= file.diagnostics.length && d.length > 0);
      assert.deepEqual(
        got.map((d) => ({
          message: d.message,
          code: codeOf(d),
          severity: d.severity,
          line: d.range.start.line + 1,
          column: d.range.start.character + 1,
        })),
        file.diagnostics.map((e) => ({ message: e.message, code: e.code, severity: SEVERITY[e.severity], line: e.line, column: e.column })),
      );
    },
  ];
}

function hoverScenario(file: ExpectedFile, hover: NonNullable<ExpectedFile['hover']>): Scenario {
  return [
    `${file.path}: hover at ${hover.line}:${hover.column}`,
    async () => {
      const uri = workspaceUri(file.path);
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        uri,
        new vscode.Position(hover.line - 1, hover.column - 1),
      );
      const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      assert.ok(text.includes(hover.contains), `hover text does not contain "${hover.contains}":\n${text}`);
    },
  ];
}

function quickFixScenario(file: ExpectedFile, fix: NonNullable<ExpectedFile['quickFix']>): Scenario {
  return [
    `${file.path}: quick fix "${fix.title}"`,
    async () => {
      const uri = workspaceUri(file.path);
      const at = new vscode.Position(fix.line - 1, fix.column - 1);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        uri,
        new vscode.Range(at, at),
        vscode.CodeActionKind.QuickFix.value,
      );
      const action = actions.find((a) => a.title === fix.title);
      assert.ok(action?.edit, `no quick fix "${fix.title}" with an edit among ${JSON.stringify(actions.map((a) => a.title))}`);
      assert.ok(await vscode.workspace.applyEdit(action.edit), 'the workspace edit was rejected');
      const document = await vscode.workspace.openTextDocument(uri);
      assert.equal(document.lineAt(fix.line - 1).text, fix.lineAfter);
      const remaining = await diagnosticsWhere(uri, (d) => !d.some((x) => x.range.start.line === fix.line - 1));
      assert.deepEqual(
        remaining.filter((d) => d.range.start.line === fix.line - 1).map((d) => d.message),
        [],
      );
      await document.save();
    },
  ];
}

export function scenarios(): Scenario[] {
  const expectations = loadExpectations(repoRoot(__dirname));
  const list: Scenario[] = [
    [
      'the extension activates',
      async () => {
        const extension = vscode.extensions.getExtension(EXTENSION_ID);
        assert.ok(extension, `${EXTENSION_ID} is not installed in this VS Code`);
        await extension.activate();
        assert.equal(extension.isActive, true);
      },
    ],
    [
      'the workspace validation command finds every config',
      async () => {
        const summary = await vscode.commands.executeCommand<{ files: number; errors: number }>('quantstudio.validateWorkspace');
        const expectedErrors = expectations.files.flatMap((f) => f.diagnostics).filter((d) => d.severity === 'error').length;
        assert.deepEqual({ files: summary.files, errors: summary.errors }, { files: expectations.files.length, errors: expectedErrors });
      },
    ],
    [
      'turning quantstudio.validation.enable off clears the diagnostics, on brings them back',
      async () => {
        const file = expectations.files.find((f) => f.diagnostics.length > 0);
        assert.ok(file, 'expectations.json has no file with diagnostics');
        const uri = workspaceUri(file.path);
        await vscode.workspace.openTextDocument(uri);
        const config = () => vscode.workspace.getConfiguration('quantstudio');
        assert.equal((await diagnosticsWhere(uri, (d) => d.length > 0)).length, file.diagnostics.length);
        await config().update('validation.enable', false, vscode.ConfigurationTarget.Global);
        try {
          assert.deepEqual(
            (await diagnosticsWhere(uri, (d) => d.length === 0)).map((d) => d.message),
            [],
          );
        } finally {
          await config().update('validation.enable', undefined, vscode.ConfigurationTarget.Global);
        }
        assert.equal((await diagnosticsWhere(uri, (d) => d.length > 0)).length, file.diagnostics.length);
      },
    ],
    [
      'Benchmark with a model argument measures it at the configured batch sizes and saves the run',
      async () => {
        const config = () => vscode.workspace.getConfiguration('quantstudio');
        const runs = workspaceUri('.quantstudio/runs').fsPath;
        const saved = (): string[] => (fs.existsSync(runs) ? fs.readdirSync(runs).filter((f) => f.endsWith('-benchmark.json')) : []);
        const before = saved();
        await config().update('benchmark.batchSizes', [1, 2], vscode.ConfigurationTarget.Global);
        try {
          await vscode.commands.executeCommand('quantstudio.benchmark', {
            model: path.join(repoRoot(__dirname), 'examples', 'tiny-llama'),
          });
        } finally {
          await config().update('benchmark.batchSizes', undefined, vscode.ConfigurationTarget.Global);
        }
        const added = saved().filter((f) => !before.includes(f));
        assert.equal(added.length, 1, `new benchmark runs in ${runs}: ${JSON.stringify(added)}`);
        const run = JSON.parse(fs.readFileSync(path.join(runs, added[0]), 'utf8')) as {
          rows: Array<{ variant: string; phase: string; batch: number; perplexityDelta: number }>;
        };
        // the baseline alone; tiny-llama's 512 positions leave room for 30 new tokens after the 30-token prompt
        assert.deepEqual(
          run.rows.map((r) => [r.variant, r.phase, r.batch, r.perplexityDelta]),
          [
            ['fp16', 'forward', 1, 0],
            ['fp16', 'generate', 1, 0],
            ['fp16', 'forward', 2, 0],
            ['fp16', 'generate', 2, 0],
          ],
        );
      },
    ],
  ];
  for (const file of expectations.files) {
    list.push(diagnosticsScenario(file));
    if (file.hover) list.push(hoverScenario(file, file.hover));
    if (file.quickFix) list.push(quickFixScenario(file, file.quickFix));
  }
  return list;
}
