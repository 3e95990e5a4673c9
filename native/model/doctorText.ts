// The checkpoint doctor's report as plain text, shared by the CLI and the editor's view.
import type { DoctorReport } from './doctor';
import { humanBytes } from './units';

export function formatDoctorReport(r: DoctorReport): string {
  const lines: string[] = [`checkpoint: ${r.folder}`];
  const inf = r.inference;
  if (r.inferred) {
    const settings = Object.entries(r.inferred.values)
      .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
      .join(', ');
    lines.push(`tensors: ${r.inferred.layout}, ${inf.modules.length} quantized modules; ${settings}`);
  } else lines.push('tensors: no quantized module');
  const more = inf.unquantized.length > 6 ? `, and ${inf.unquantized.length - 6} more` : '';
  if (inf.unquantized.length > 0) lines.push(`kept in float: ${inf.unquantized.slice(0, 6).join(', ')}${more}`);
  lines.push(`configs: ${r.configFiles.length > 0 ? r.configFiles.join(', ') : 'none'}`);
  const c = r.scan.counts;
  lines.push(`scan: ${r.scan.tensors} float tensors, ${humanBytes(r.scan.bytes)}: ${c.nan} NaN, ${c.inf} Inf, ${c.overFp16} beyond fp16`);
  for (const t of r.targets)
    lines.push(`load: ${t.release}: ${t.loads === undefined ? 'not judged' : t.loads ? 'yes' : 'no'}, ${t.detail}`);
  for (const f of r.findings) lines.push(`${f.severity} ${f.code}: ${f.message}`);
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const fixable = r.findings.filter((f) => f.fix).length;
  const others = r.findings.length - errors;
  lines.push(
    `${errors} error${errors === 1 ? '' : 's'}, ${others} other finding${others === 1 ? '' : 's'}${fixable ? `; ${fixable} fixable with --fix` : ''}.`,
  );
  return lines.join('\n') + '\n';
}
