// Runs one of QuantStudio's Python runners (python/quantstudio_{quantize,measure,generate}.py, shipped with the
// extension) in the user's interpreter: the job goes in as one JSON line on stdin, reports come back as JSON lines
// on stdout (python/quantstudio_common.py writes them). The
// runner lives in a process group of its own, so a cancel kills it and whatever it started at once; stdin
// stays open for its life, and the runner exits when it closes (this worker gone, even by SIGKILL).
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { JobFailure } from './jobFailure';
import type { BackendRecord, ErrorCode, LogLevel } from './protocol';

/** The runners (shipped beside the modules they share: quantstudio_common.py, quantstudio_models.py). */
export const RUNNER_SCRIPTS = {
  quantize: 'quantstudio_quantize.py',
  measure: 'quantstudio_measure.py',
  generate: 'quantstudio_generate.py',
} as const;
export type RunnerKind = keyof typeof RUNNER_SCRIPTS;

/** One line a runner prints (each runner's docstring lists its own). */
export type RunnerReport =
  | { type: 'phase'; phase: string; device: string }
  | { type: 'layer'; index: number; total: number; seconds: number }
  | { type: 'progress'; phase: string; current: number; total: number; message?: string }
  | { type: 'token'; id: number }
  | {
      type: 'result';
      device: string;
      /** The GPUs torch saw (CUDA runs). */
      gpus?: string[];
      libraries: Record<string, string>;
      seconds: number;
      peakRssBytes: number;
      cudaMaxAllocatedBytes?: number;
      /** The measure and generate runners' figures (measurePython.ts, generatePython.ts read them). */
      report?: unknown;
    }
  | { type: 'error'; code: string; message: string };

export type RunnerResult = Extract<RunnerReport, { type: 'result' }>;

/** The runner's error codes as the job's: a missing library is a prerequisite, not an engine fault. */
const ERROR_CODES: Record<string, ErrorCode> = {
  MISSING_LIBRARY: 'NOT_AVAILABLE',
  BAD_CONFIG: 'INVALID_JOB',
  UNSUPPORTED_DEVICE: 'NOT_AVAILABLE',
  OUT_OF_MEMORY: 'NOT_ENOUGH_MEMORY',
  CUDA_ERROR: 'ENGINE_ERROR',
  LIBRARY_ERROR: 'ENGINE_ERROR',
};
const STDERR_TAIL = 12;

/** A runner script: beside the bundle (dist/python in the .vsix) or in the sources (from out/native/worker). */
/** What a run on the python backend records: the interpreter, where the runner ran and what it imported. */
export function pythonBackendRecord(python: string, result: RunnerResult): BackendRecord {
  return {
    name: 'python',
    interpreter: python,
    device: result.device,
    ...(result.gpus && result.gpus.length > 0 ? { gpus: result.gpus } : {}),
    libraries: result.libraries,
  };
}

export function runnerScriptPath(kind: RunnerKind): string {
  const script = RUNNER_SCRIPTS[kind];
  const candidates = [path.join(__dirname, 'python', script), path.join(__dirname, '..', '..', '..', 'native', 'worker', 'python', script)];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new JobFailure('ENGINE_ERROR', `the python backend's runner is missing (looked for ${candidates.join(', ')})`);
  return found;
}

export interface RunnerCallbacks {
  /** The runner's working and temp folder: the libraries write there what they keep on the side (GPTQModel 7.7:
   *  `logs/` in the working folder, its offload folder under TMPDIR), never beside the user's files. */
  scratch: string;
  onReport(report: RunnerReport): void;
  log(level: LogLevel, text: string): void;
  signal: AbortSignal;
}

function lines(onLine: (line: string) => void): (chunk: string) => void {
  let pending = '';
  return (chunk) => {
    const parts = (pending + chunk).split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') onLine(line);
  };
}

/** Runs the `kind` runner on `job` in `python`; resolves with its result, rejects with a JobFailure naming what went wrong. */
export function runPythonRunner(python: string, kind: RunnerKind, job: object, callbacks: RunnerCallbacks): Promise<RunnerResult> {
  const { signal } = callbacks;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new JobFailure('CANCELLED', 'the job was cancelled'));
    const child = spawn(python, [runnerScriptPath(kind)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, killed whole on cancel
      cwd: callbacks.scratch,
      env: {
        ...process.env,
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        TOKENIZERS_PARALLELISM: 'false',
        TMPDIR: callbacks.scratch,
      },
    });
    const stderrTail: string[] = [];
    let result: RunnerResult | undefined;
    let failure: JobFailure | undefined;
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    signal.addEventListener('abort', kill, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on(
      'data',
      lines((line) => {
        let report: RunnerReport;
        try {
          report = JSON.parse(line) as RunnerReport;
        } catch {
          callbacks.log('info', line);
          return;
        }
        if (report.type === 'result') result = report;
        else if (report.type === 'error')
          failure = new JobFailure(ERROR_CODES[report.code] ?? 'ENGINE_ERROR', `python backend: ${report.message}`);
        else callbacks.onReport(report);
      }),
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on(
      'data',
      lines((line) => {
        stderrTail.push(line);
        if (stderrTail.length > STDERR_TAIL) stderrTail.shift();
        callbacks.log('debug', line);
      }),
    );
    child.stdin.on('error', () => undefined); // a runner that died early: its exit says why
    child.on('error', (error: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', kill);
      reject(
        new JobFailure(
          'NOT_AVAILABLE',
          error.code === 'ENOENT'
            ? `the Python interpreter "${python}" was not found; install Python 3, or choose one (the Python extension's environment, the quantstudio.python setting, or --python)`
            : `the Python interpreter "${python}" could not be started: ${error.message}`,
          'python',
        ),
      );
    });
    child.on('exit', (code, exitSignal) => {
      signal.removeEventListener('abort', kill);
      if (signal.aborted) reject(new JobFailure('CANCELLED', 'the job was cancelled'));
      else if (failure) reject(failure);
      else if (result && code === 0) resolve(result);
      else
        reject(
          new JobFailure(
            'ENGINE_ERROR',
            `python backend: ${python} exited with ${exitSignal ?? `code ${code}`} before finishing:\n${stderrTail.join('\n')}`,
          ),
        );
    });
    child.stdin.write(`${JSON.stringify(job)}\n`);
  });
}
