// Which backend runs a quantize or benchmark job: the native engine unless options.backend says `python`, whose
// interpreter the runner's user chose (options.python: a setting or a CLI flag, never a job file).
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
