// Which backend runs a quantize, benchmark or generate job: the native engine unless options.backend says
// `python`, whose interpreter the runner's user chose (options.python: a setting or a CLI flag, never a job file);
// and which options only one of them reads.
import { JobFailure } from './jobFailure';
import { BACKENDS, BackendName, JsonObject } from './protocol';

export type JobBackend = { name: 'engine' } | { name: 'python'; python: string };

export function jobBackend(o: JsonObject): JobBackend {
  const name = o.backend ?? 'engine';
  if (!BACKENDS.includes(name as BackendName))
    throw new JobFailure(
      'INVALID_JOB',
      `options.backend must be one of ${BACKENDS.join(', ')} (got ${JSON.stringify(name)})`,
      'options.backend',
    );
  if (name === 'engine') return { name };
  return { name: 'python', python: typeof o.python === 'string' && o.python.trim() !== '' ? o.python : 'python3' };
}

/** The engine's run options mean nothing to the libraries (they keep the checkpoint's own KV cache and head), and
 *  GPTQModel's kernel nothing to the engine: a job that sets one for the other backend is refused. */
export function checkBackendOptions(o: JsonObject, backend: JobBackend): void {
  const refuse = (key: string, why: string): never => {
    throw new JobFailure('INVALID_JOB', `options.${key} ${why}`, `options.${key}`);
  };
  if (backend.name === 'engine') {
    if (o.format !== undefined)
      refuse(
        'format',
        `"${String(o.format)}" is written by llm-compressor on the python backend; the engine writes the method's own format (remove it, or use backend "python")`,
      );
    if (o.kernel !== undefined && o.kernel !== 'auto')
      refuse('kernel', `picks GPTQModel's kernel on the python backend; the engine picks its own (remove it, or use backend "python")`);
    return;
  }
  if (o.adapter !== undefined)
    refuse('adapter', 'is applied by the engine; the python backend does not load adapters (remove it, or use backend "engine")');
  if (o.mixedPrecision !== undefined)
    refuse(
      'mixedPrecision',
      'is measured and allocated by the engine; GPTQModel 7.7 takes widths only as written in dynamic (remove it, or use backend "engine")',
    );
  if (o.signRound !== undefined)
    refuse(
      'signRound',
      'is the engine\'s learned rounding; GPTQModel 7.7 runs GPTQ\'s error feedback (remove it, or use backend "engine")',
    );
  for (const [key, engineDefault] of [
    ['kvCache', 'fp32'],
    ['lmHead', 'stored'],
  ] as const)
    if (o[key] !== undefined && o[key] !== engineDefault)
      refuse(
        key,
        `is a run option of the engine; the python backend runs the checkpoint as transformers loads it (remove it, or use backend "engine")`,
      );
}
