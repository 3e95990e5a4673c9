// `quantstudio doctor <folder> [--json] [--fix]`: what a quantized checkpoint's tensors say against its
// configs, a NaN / Inf / fp16-overflow scan, and which loaders take it. Prints only; --fix writes the
// corrected configs (temp file + rename) and examines the folder again. Exit 1 while an error remains.
import {
  correctedConfigs,
  doctorFolder,
  formatDoctorReport,
  formatModelError,
  ModelErrorException,
  writeCorrectedConfigs,
} from '../../../../native/model';
import type { Command } from '../command';
import { usageError } from '../command';
import { parseFlags } from '../flags';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'examine a quantized folder: settings read from the tensors vs its configs, NaN/Inf scan, which loaders take it',
  usage: 'quantstudio doctor <folder> [--json] [--fix]',
  async run(args) {
    const flags = parseFlags(args, { values: [], switches: ['--json', '--fix'], positional: 1 });
    if (typeof flags === 'string') return usageError(this, flags);
    const folder = flags.positional[0];
    if (folder === undefined) return usageError(this, 'give the checkpoint folder');
    try {
      let report = await doctorFolder(folder);
      let written: string[] = [];
      if (flags.switches.has('--fix') && (await correctedConfigs(report)).size > 0) {
        written = await writeCorrectedConfigs(report);
        report = await doctorFolder(folder);
      }
      if (flags.switches.has('--json')) process.stdout.write(`${JSON.stringify({ ...report, written }, null, 2)}\n`);
      else process.stdout.write((written.length > 0 ? `wrote corrected ${written.join(', ')}\n` : '') + formatDoctorReport(report));
      return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
    } catch (error) {
      if (!(error instanceof ModelErrorException)) throw error;
      process.stderr.write(`quantstudio doctor: ${formatModelError(error.error)}\n`);
      return 1;
    }
  },
};
