// The job worker process: forked by the runner (client/src/jobs/runner.ts), it receives one job over IPC,
// validates it, loads the native engine and runs the job's handler, reporting progress, tokens and logs,
// and ends with a `result` or an `error` message. It is, besides tests, the only place the addon is loaded,
// so a native crash costs this process and never the editor.
import { randomUUID } from 'crypto';
import { Addon, loadAddon } from '../lib';
import { JobContext, JobHandler } from './context';
import { environment } from './environment';
import { runBenchmark } from './handlers/benchmark';
import { MeasureMessage, isMeasureMessage } from './handlers/benchmark/messages';
import { runMeasureChild } from './handlers/benchmark/measureChild';
import { runGenerate } from './handlers/generate';
import { runPerplexity } from './handlers/perplexity';
import { runQuantize } from './handlers/quantize';
import { runServing } from './handlers/serving';
import { JobFailure, errorInfo } from './jobFailure';
import { readModelInfo } from './modelInfo';
import { dieWithParent } from './parentWatch';
import { JobKind, RunResult, RunnerMessage, WorkerMessage } from './protocol';
import { jobModelFolder } from './jobModel';
import { checkJobMemory } from './memoryCheck';
import { humanBytes } from '../model';
import { validateJob } from './validateJob';

const HANDLERS: Record<JobKind, JobHandler> = {
  perplexity: runPerplexity,
  generate: runGenerate,
  quantize: runQuantize,
  benchmark: runBenchmark,
  serving: runServing,
};

const controller = new AbortController();
let started = false;

function post(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function openEngine(): Addon {
  try {
    return loadAddon();
  } catch (error) {
    throw new JobFailure(
      'ENGINE_ERROR',
      `the native engine could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function run(raw: unknown): Promise<RunResult> {
  const startedAt = new Date();
  const clock = process.hrtime.bigint();
  const job = validateJob(raw);
  // A serving job's model lives on its server: there is no folder to resolve, read or fit into memory here.
  const local = job.kind !== 'serving';
  const modelFolder = local
    ? await jobModelFolder(job.model, {
        signal: controller.signal,
        onDownload: (d) => void post({ type: 'progress', phase: 'download', current: d.bytesDone, total: d.bytesTotal, message: d.file }),
        log: (text) => void post({ type: 'log', level: 'info', text }),
      })
    : '';
  const modelInfo = local ? await readModelInfo(modelFolder) : {};
  const memory = local ? await checkJobMemory(job, modelFolder) : undefined; // before any work: a job that cannot fit fails now
  const addon = openEngine();
  const ctx: JobContext = {
    job,
    modelFolder,
    addon,
    signal: controller.signal,
    progress: (phase, current, total, extra = {}) => void post({ type: 'progress', phase, current, total, ...extra }),
    token: (text) => void post({ type: 'token', text }),
    log: (level, text) => void post({ type: 'log', level, text }),
  };
  ctx.log('info', `${job.kind} on ${modelFolder || job.model}`);
  if (memory)
    ctx.log('info', `memory: about ${humanBytes(memory.needed)} needed at the peak, ${humanBytes(memory.available.bytes)} available`);
  const out = await HANDLERS[job.kind](ctx);
  if (controller.signal.aborted) throw new JobFailure('CANCELLED', 'the job was cancelled');
  const finishedAt = new Date();
  const metrics = Object.fromEntries(Object.entries(out.metrics).filter(([, v]) => v !== undefined && Number.isFinite(v)));
  return {
    schemaVersion: 1,
    id: randomUUID(),
    kind: job.kind,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: Number(process.hrtime.bigint() - clock) / 1e9,
    model: { ref: job.model, ...(local ? { path: modelFolder } : {}), ...modelInfo, ...out.model },
    ...(job.config === undefined ? {} : { config: job.config }),
    options: job.options,
    environment: environment(addon),
    metrics,
    ...(out.backend === undefined ? {} : { backend: out.backend }),
    ...(out.rows === undefined ? {} : { rows: out.rows }),
    ...(out.layers === undefined ? {} : { layers: out.layers }),
    ...(out.allocation === undefined ? {} : { allocation: out.allocation }),
    ...(out.endpoint === undefined ? {} : { endpoint: out.endpoint }),
    ...(out.serving === undefined ? {} : { serving: out.serving }),
    ...(out.text === undefined ? {} : { text: out.text }),
    ...(out.output === undefined ? {} : { output: out.output }),
    ...(out.adapter === undefined ? {} : { adapter: out.adapter }),
  };
}

async function runAndReport(raw: unknown): Promise<void> {
  let code = 0;
  try {
    await post({ type: 'result', result: await run(raw) });
  } catch (error) {
    code = 1;
    await post({ type: 'error', error: errorInfo(error, controller.signal.aborted) });
  }
  // The engine's thread pool would keep the process alive; the job is over either way.
  process.exit(code);
}

if (!process.send) {
  process.stderr.write('this is the QuantStudio job worker; it is started by the job runner (child_process.fork), not by hand\n');
  process.exit(2);
}
// A runner that goes away takes its job with it, even while the engine computes or the event loop is blocked.
dieWithParent(loadAddon);

process.on('message', (message: RunnerMessage | MeasureMessage) => {
  if (message.type === 'cancel') controller.abort();
  else if (message.type === 'run' && !started) {
    started = true;
    void runAndReport(message.job);
  } else if (isMeasureMessage(message) && !started) {
    // A benchmark job forks this worker to measure one variant in a process of its own.
    started = true;
    void runMeasureChild(message.request, controller.signal);
  }
});
