// The serving half of `quantstudio benchmark`: with --endpoint (or a job file whose benchmark section names an
// endpoint) it measures a running OpenAI-compatible server instead of variants, and prints one line per
// concurrency level. QUANTSTUDIO_SERVING_API_KEY goes to the endpoint QUANTSTUDIO_SERVING_ENDPOINT names, else to
// the one given with --endpoint on this command line; never to an endpoint a job file names on its own.
import { SERVING_ENDPOINT_ENV, SERVING_KEY_ENV } from '../../../../native/model';
import type { TokenGrant } from '../../../../native/model';
import type { Job, RunResult } from '../../jobs';
import { integerList, positiveInteger } from '../flags';
import type { ParsedFlags } from '../flags';

export const SERVING_FLAGS = ['--endpoint', '--concurrency', '--requests', '--prompt-words', '--max-tokens'] as const;
export const SERVING_SWITCHES = ['--ignore-eos'] as const;
export const SERVING_USAGE =
  'quantstudio benchmark --endpoint <api base> --model <served name> [--concurrency 1,2,4,8,16] [--requests N] ' +
  '[--prompt-words N] [--max-tokens N] [--ignore-eos] [--json]';

/** The serving flags given, as job options, or an error string. */
export function servingFlagOptions(flags: ParsedFlags): Record<string, unknown> | string {
  const concurrency = integerList(flags, '--concurrency');
  const requests = positiveInteger(flags, '--requests');
  const promptWords = positiveInteger(flags, '--prompt-words');
  const maxTokens = positiveInteger(flags, '--max-tokens');
  for (const v of [concurrency, requests, promptWords, maxTokens]) if (typeof v === 'string') return v;
  return {
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(requests === undefined ? {} : { requests }),
    ...(promptWords === undefined ? {} : { promptWords }),
    ...(maxTokens === undefined ? {} : { maxTokens }),
    ...(flags.switches.has('--ignore-eos') ? { ignoreEos: true } : {}),
  };
}

/** --endpoint with --model: a serving job, or an error string. */
export function servingJobFromFlags(flags: ParsedFlags, options: Record<string, unknown>): Job | string {
  const endpoint = flags.values.get('--endpoint')!;
  const model = flags.values.get('--model');
  if (!model) return '--endpoint needs --model: the model name the server serves';
  return { kind: 'serving', model, options: { endpoint, ...options } };
}

/** The key from the environment and the endpoint the user named for it: the environment's, else --endpoint's. */
export function cliServingGrant(flags: ParsedFlags, env: NodeJS.ProcessEnv = process.env): TokenGrant | undefined {
  const token = env[SERVING_KEY_ENV]?.trim();
  const endpoint = env[SERVING_ENDPOINT_ENV]?.trim() || flags.values.get('--endpoint');
  return token && endpoint ? { token, endpoint } : undefined;
}

const ms = (v: number): string => v.toFixed(v >= 100 ? 0 : 1);

export function servingTable(run: RunResult): string {
  const header = [
    'concurrency',
    'done',
    'failed',
    'req/s',
    'out tok/s',
    'TTFT ms',
    'p90',
    'TPOT ms',
    'p90',
    'ITL ms',
    'latency ms',
    'prompt',
    'output',
  ];
  const body = (run.serving ?? []).map((l) => [
    String(l.concurrency),
    String(l.completed),
    String(l.failed),
    l.requestsPerSecond.toFixed(2),
    l.outputTokensPerSecond.toFixed(1),
    ms(l.timeToFirstTokenMs.median),
    ms(l.timeToFirstTokenMs.p90),
    ms(l.timePerOutputTokenMs.median),
    ms(l.timePerOutputTokenMs.p90),
    ms(l.interTokenLatencyMs.median),
    ms(l.requestLatencyMs.median),
    l.meanPromptTokens === null ? '—' : l.meanPromptTokens.toFixed(0),
    l.meanOutputTokens.toFixed(1),
  ]);
  const lines = [header, ...body];
  const widths = header.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  const text = lines.map((l) => l.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
  const e = run.endpoint;
  const server = e?.server ? ` (${e.server})` : '';
  const counted = e?.tokenCount === 'usage' ? 'tokens as the server counted them' : 'tokens counted as streamed chunks';
  const title = `serving benchmark of ${run.model.ref} at ${e?.url ?? '?'}${server} in ${run.durationSeconds.toFixed(1)} s`;
  const note =
    'medians per level (p90 beside); TTFT: to the first text; TPOT: per output token after the first; ' +
    `ITL: between streamed chunks; ${counted}`;
  return `${title}\n${text.join('\n')}\n${note}\n`;
}
