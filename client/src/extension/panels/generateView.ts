// The Generate panel's parts: the prompt, the (streamed) text, tokens/s and the sampling settings.
import type { RunResult } from '../../jobs';
import { escapeHtml } from './page';
import { DASH, fixedOr } from './format';

/** What the Generate command asked for: from the run's options, or (runs saved before options were recorded) the panel's state. */
export interface GenerateSettings {
  prompt?: string;
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

const SETTING_ROWS: Array<[keyof GenerateSettings, string]> = [
  ['maxTokens', 'Max new tokens'],
  ['temperature', 'Temperature'],
  ['topK', 'Top-k'],
  ['topP', 'Top-p'],
  ['seed', 'Seed'],
];

export function promptSection(settings: GenerateSettings | undefined): string {
  const prompt = settings?.prompt;
  return prompt === undefined
    ? `<p data-testid="generate-prompt" class="muted">The prompt is not recorded in the run file.</p>`
    : `<h2>Prompt</h2>\n<pre data-testid="generate-prompt">${escapeHtml(prompt)}</pre>`;
}

export function settingsTable(settings: GenerateSettings | undefined, metrics: RunResult['metrics'] = {}): string {
  const rows = SETTING_ROWS.map(([key, label]) => {
    const value = settings?.[key];
    return [label, typeof value === 'number' ? String(value) : 'engine default'];
  });
  if (metrics.promptTokens !== undefined) rows.push(['Prompt tokens', String(metrics.promptTokens)]);
  if (metrics.tokens !== undefined) rows.push(['Generated tokens', String(metrics.tokens)]);
  if (metrics.prefillTokensPerSecond !== undefined) rows.push(['Prefill', `${fixedOr(metrics.prefillTokensPerSecond, 1)} tokens/s`]);
  if (metrics.loadSeconds !== undefined) rows.push(['Load time', `${fixedOr(metrics.loadSeconds, 2)} s`]);
  const body = rows.map(
    ([label, value]) => `<tr><th scope="row">${escapeHtml(label)}</th><td class="number">${escapeHtml(value)}</td></tr>`,
  );
  return `<table data-testid="generate-settings">\n<caption>Sampling settings</caption>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

/** The rate above the text (a long text would push it out of view), then the text; ids let the live script update them. */
export function streamSection(text: string, rate: string, tokens: string): string {
  return `<h2>Generated text</h2>
<p data-testid="generate-rate">Tokens: <span id="token-count" data-testid="token-count">${escapeHtml(tokens)}</span> ·
<span id="tokens-per-second" data-testid="tokens-per-second">${escapeHtml(rate)}</span></p>
<pre id="generate-text" data-testid="generate-text">${escapeHtml(text)}</pre>`;
}

/** The settings a run recorded in its options, over what the panel remembered. */
export function runSettings(run: RunResult, remembered: GenerateSettings | undefined): GenerateSettings {
  const o = run.options ?? {};
  const pick = <K extends keyof GenerateSettings>(key: K, type: 'string' | 'number'): GenerateSettings[K] =>
    (typeof o[key] === type ? o[key] : remembered?.[key]) as GenerateSettings[K];
  return {
    prompt: pick('prompt', 'string'),
    maxTokens: pick('maxTokens', 'number'),
    temperature: pick('temperature', 'number'),
    topK: pick('topK', 'number'),
    topP: pick('topP', 'number'),
    seed: pick('seed', 'number'),
  };
}

export function generateBody(run: RunResult, remembered: GenerateSettings | undefined): string {
  const m = run.metrics;
  const settings = runSettings(run, remembered);
  const rate = m.tokensPerSecond === undefined ? DASH : `${m.tokensPerSecond.toFixed(1)} tokens/s`;
  return [
    promptSection(settings),
    streamSection(run.text ?? '', rate, m.tokens === undefined ? DASH : String(m.tokens)),
    settingsTable(settings, m),
  ].join('\n');
}
