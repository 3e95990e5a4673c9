// Hover on a job file's "backend" or "format": what the python backend asks its library for — the config classes
// and their arguments exactly as its runner makes them (native/model/pythonBackendRecipe.ts), from the job's
// quantization_config with every default filled in from the schemas.
import type { Position } from 'vscode-languageserver-types';
import { planFromConfig, pythonBackendRecipe, QuantizeConfigError, recipeSource } from '../../../../native/model';
import type { JsonObject, QuantAlgorithm } from '../../../../native/model';
import type { ParsedDocument } from '../parse/document';

const KEYS = ['backend', 'format'];

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The markdown for a hover on the job's top-level backend or format, else undefined. */
export function pythonBackendMarkdown(doc: ParsedDocument, position: Position): string | undefined {
  if (doc.kind !== 'job' || !isObject(doc.documentValue)) return undefined;
  const at = doc.pathAt?.(doc.lines.offsetAt(position));
  if (!at || at.path.length !== 1 || !KEYS.includes(String(at.path[0]))) return undefined;
  const job = doc.documentValue;
  if (!isObject(job.quantization_config)) return undefined;
  const format = typeof job.format === 'string' ? job.format : undefined;
  const algorithm = typeof job.algorithm === 'string' ? (job.algorithm as QuantAlgorithm) : undefined;
  let plan;
  try {
    plan = planFromConfig(job.quantization_config, algorithm);
  } catch (error) {
    if (error instanceof QuantizeConfigError) return `**On the python backend:** not runnable as written: ${error.message}`;
    throw error;
  }
  if (plan.method === 'rtn') return '**On the python backend:** algorithm `rtn` runs on the engine only.';
  const recipe = pythonBackendRecipe(plan, job.quantization_config, format);
  const where = job.backend === 'python' ? 'This job runs on the python backend' : 'With `"backend": "python"` this job would run';
  return [`**${where}:** ${recipe.library} quantizes with`, '```python', recipeSource(recipe), '```', `then ${recipe.then}.`].join('\n');
}
