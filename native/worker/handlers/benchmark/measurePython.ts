// Measures one variant on the python backend: the measure runner (python/quantstudio_measure.py) loads the folder
// with transformers in the user's Python, on CUDA when torch sees a GPU, and takes the same figures from the same
// token ids as the engine's measuring child; its runs become the same PhaseMeasurements (median, fastest, slowest).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BackendRecord } from '../../protocol';
import { pythonBackendRecord, RunnerResult, runPythonRunner } from '../../pythonRunner';
import type { ChildRelay } from './childProcess';
import { MeasureReport, MeasureRequest, PhaseMeasurement, timingOf } from './messages';

/** A phase as the runner reports it: the seconds of each timed run rather than their statistics. */
type RunnerPhase = Omit<PhaseMeasurement, 'seconds' | 'secondsMin' | 'secondsMax' | 'runs'> & { runs: number[] };

interface RunnerReport {
  loadSeconds: number;
  kernel: string;
  phases: RunnerPhase[];
  perplexity: number | null;
}

export interface PythonMeasurement {
  report: MeasureReport;
  backend: BackendRecord;
}

function reportOf(result: RunnerResult): MeasureReport {
  const r = result.report as RunnerReport | undefined;
  if (!r || !Array.isArray(r.phases)) throw new Error('the measure runner returned no report');
  const phases = r.phases.map(({ runs, ...phase }) => ({ ...phase, ...timingOf(runs) }));
  return { loadSeconds: r.loadSeconds, kernel: r.kernel, phases, perplexity: r.perplexity };
}

/** The request without the engine's run options (the libraries keep the checkpoint's own KV cache and head). */
function runnerRequest(request: MeasureRequest): object {
  const { kvCache: _kvCache, lmHead: _lmHead, ...rest } = request;
  return rest;
}

export async function measureOnPython(
  request: MeasureRequest,
  python: string,
  relay: ChildRelay,
  signal: AbortSignal,
): Promise<PythonMeasurement> {
  // The libraries' side files (compile caches, offload folders) go to a scratch folder of this run alone.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'quantstudio-measure-'));
  try {
    const result = await runPythonRunner(python, 'measure', runnerRequest(request), {
      scratch,
      signal,
      log: relay.log,
      onReport: (r) => {
        if (r.type === 'progress') relay.progress(r.phase, r.current, r.total, r.message === undefined ? {} : { message: r.message });
      },
    });
    return {
      report: reportOf(result),
      backend: pythonBackendRecord(python, result),
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
