// `quantstudio validate <file|dir>... [--model <dir|hub id>] [--json]`: the language service's diagnostics for
// config files, like a compiler: `path:line:col: error code: message`. Exit 1 when any error-severity
// diagnostic, else 0. The target model is resolved as the language server resolves it (the config's own
// folder, the model it names, else --model in place of the quantstudio.model setting), so the model-aware
// findings the editor shows are reported here too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLanguageService, fileKindOf } from '../../../../server/src/service';
import type { LanguageService, ServiceDiagnostic } from '../../../../server/src/service';
import type { Command } from '../command';
import { usageError } from '../command';
import { parseFlags } from '../flags';

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);
const SEVERITY_NAME = ['', 'error', 'warning', 'info', 'hint'] as const;

interface FileReport {
  file: string;
  diagnostics: ServiceDiagnostic[];
  /** Why the file was not checked (not a quantization config), when it was not. */
  skipped?: string;
}

/** Config files below a directory, in a stable order. */
function walk(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      if (!SKIPPED_DIRECTORIES.has(name)) found.push(...walk(full));
    } else if (stat?.isFile() && fileKindOf(name) !== undefined) found.push(full);
  }
  return found;
}

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function formatHuman(reports: readonly FileReport[]): string {
  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  for (const report of reports) {
    if (report.skipped) {
      lines.push(`${report.file}: skipped (${report.skipped})`);
      continue;
    }
    for (const d of report.diagnostics) {
      if (d.severity === 1) errors++;
      if (d.severity === 2) warnings++;
      lines.push(
        `${report.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${SEVERITY_NAME[d.severity]} ${d.code}: ${d.message}`,
      );
    }
  }
  const checked = reports.filter((r) => !r.skipped).length;
  const skipped = reports.length - checked;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  lines.push(
    `${plural(checked, 'file')} checked${skipped ? `, ${skipped} skipped` : ''}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}.`,
  );
  return lines.join('\n') + '\n';
}

/** The diagnostics the language server publishes last: once the target model is resolved, they include its findings. */
async function settledDiagnostics(service: LanguageService, uri: string, text: string): Promise<ServiceDiagnostic[] | undefined> {
  let analysis = await service.analyze({ uri, text });
  if (analysis.modelPending && (await analysis.modelPending)) analysis = await service.analyze({ uri, text });
  return analysis.ours ? analysis.diagnostics : undefined;
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check quantization configs (config.json, quantize_config.json, quant_config.json, *.quant.json, *.py)',
  usage: 'quantstudio validate <file|dir>... [--model <dir|hub id>] [--json]',
  async run(args) {
    const flags = parseFlags(args, { values: ['--model'], switches: ['--json'], positional: Infinity });
    if (typeof flags === 'string') return usageError(this, flags);
    const json = flags.switches.has('--json');
    const targets = flags.positional;
    if (targets.length === 0) return usageError(this, 'name at least one file or directory');

    const files: Array<{ path: string; explicit: boolean }> = [];
    for (const target of targets) {
      const stat = statSync(target, { throwIfNoEntry: false });
      if (!stat) return usageError(this, `${target}: no such file or directory`);
      if (stat.isDirectory()) files.push(...walk(target).map((path) => ({ path, explicit: false })));
      else files.push({ path: target, explicit: true });
    }

    // --model stands in for the quantstudio.model setting, relative to the current folder as to the workspace
    const service = createLanguageService({ models: { model: flags.values.get('--model') ?? '', workspaceDir: process.cwd() } });
    const reports: FileReport[] = [];
    for (const { path } of files) {
      const file = display(path);
      if (fileKindOf(path) === undefined) {
        reports.push({ file, diagnostics: [], skipped: 'not a quantization config file name' });
        continue;
      }
      const diagnostics = await settledDiagnostics(service, pathToFileURL(path).href, readFileSync(path, 'utf8'));
      if (diagnostics === undefined) reports.push({ file, diagnostics: [], skipped: 'no quantization config in it' });
      else reports.push({ file, diagnostics });
    }

    process.stdout.write(json ? JSON.stringify(reports, null, 2) + '\n' : formatHuman(reports));
    return reports.some((r) => r.diagnostics.some((d) => d.severity === 1)) ? 1 : 0;
  },
};
