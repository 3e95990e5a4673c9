// Calibration data for GPTQ and AWQ: the built-in WikiText-2 validation text, a user text or JSONL file,
// or a list of strings, turned into `nsamples` windows of `seqlen` token ids.
//
// Sampling (as upstream GPTQ's get_wikitext2 does for its training split): the texts are tokenized
// (no special tokens) and concatenated with "\n\n" between them; each window starts at an offset drawn
// uniformly from [0, tokens − seqlen] by a seeded PRNG (mulberry32), so the same dataset, sizes and
// seed always give the same windows. Windows may overlap.
import * as fs from 'fs';
import { calibrationDefaults } from '../model';
import { bundledDataPath } from './bundledData';
import { TextTokenizer } from './tokenizer';

import type { CalibrationDataset } from '../model';

export type { CalibrationDataset };

export interface CalibrationOptions {
  dataset?: CalibrationDataset;
  /** Windows; default 128. */
  nsamples?: number;
  /** Tokens per window; default 256. */
  seqlen?: number;
  /** Default 0. */
  seed?: number;
  /** Already tokenized text to draw the windows from, instead of `dataset`. */
  tokens?: ArrayLike<number>;
}

export interface CalibrationWindows {
  /** nsamples × seqlen ids, row-major. */
  ids: Int32Array;
  nsamples: number;
  seqlen: number;
  /** Tokens in the whole calibration text. */
  sourceTokens: number;
  /** What the windows came from, for reports. */
  source: string;
}

// One source with the estimate's (native/model/quantizeJobEstimate.ts), which the language server reads too.
export { calibrationDefaults };

/** The WikiText-2 validation text shipped in examples/data (the built-in `wikitext2` dataset). */
export function wikitext2ValidPath(): string {
  return bundledDataPath('wikitext2-valid.txt', 'WikiText-2 validation text');
}

function readJsonl(file: string): string[] {
  const texts: string[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message}); each line must be {"text": "..."}`);
      }
      const text = row && typeof row === 'object' ? (row as Record<string, unknown>).text : undefined;
      if (typeof text !== 'string') throw new Error(`${file}:${i + 1}: has no string "text" field; each line must be {"text": "..."}`);
      texts.push(text);
    });
  return texts;
}

/** The texts of a dataset and a short description of where they came from. */
export function calibrationTexts(dataset: CalibrationDataset): { texts: string[]; source: string } {
  if (Array.isArray(dataset)) {
    if (dataset.length === 0 || dataset.some((t) => typeof t !== 'string')) {
      throw new Error('calibration dataset: a list must hold at least one string');
    }
    return { texts: dataset, source: `${dataset.length} texts from the config` };
  }
  if (dataset === 'wikitext2')
    return { texts: [fs.readFileSync(wikitext2ValidPath(), 'utf8')], source: 'wikitext2 (validation split, bundled)' };
  if (!fs.existsSync(dataset)) {
    throw new Error(
      `calibration dataset "${dataset}": neither the built-in "wikitext2" nor an existing file; ` +
        'give "wikitext2", a .txt or .jsonl file path, or a list of strings',
    );
  }
  if (dataset.endsWith('.jsonl')) return { texts: readJsonl(dataset), source: dataset };
  return { texts: [fs.readFileSync(dataset, 'utf8')], source: dataset };
}

/** mulberry32: a small, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`calibration ${what} must be a positive integer (got ${value})`);
  return value;
}

/** Draws the windows from already tokenized text. */
export function sampleWindows(tokens: ArrayLike<number>, nsamples: number, seqlen: number, seed: number): Int32Array {
  positiveInteger(nsamples, 'nsamples');
  positiveInteger(seqlen, 'seqlen');
  if (tokens.length < seqlen) {
    throw new Error(`the calibration text has ${tokens.length} tokens, fewer than seqlen ${seqlen}; give more text or a smaller seqlen`);
  }
  const random = seededRandom(seed);
  const ids = new Int32Array(nsamples * seqlen);
  const starts = tokens.length - seqlen + 1;
  for (let s = 0; s < nsamples; s++) {
    const start = Math.floor(random() * starts);
    for (let i = 0; i < seqlen; i++) ids[s * seqlen + i] = tokens[start + i];
  }
  return ids;
}

/** Tokenizes the dataset with the model's tokenizer (or takes options.tokens) and draws the windows. */
export function calibrationWindows(tokenizer: TextTokenizer | undefined, options: CalibrationOptions = {}): CalibrationWindows {
  const nsamples = options.nsamples ?? calibrationDefaults.nsamples;
  const seqlen = options.seqlen ?? calibrationDefaults.seqlen;
  if (options.tokens) {
    const ids = sampleWindows(options.tokens, nsamples, seqlen, options.seed ?? calibrationDefaults.seed);
    return { ids, nsamples, seqlen, sourceTokens: options.tokens.length, source: 'token ids' };
  }
  const { texts, source } = calibrationTexts(options.dataset ?? calibrationDefaults.dataset);
  if (!tokenizer) throw new Error("calibration from text needs the model's tokenizer (tokenizer.json)");
  const tokens = tokenizer.encode(texts.join('\n\n'), { addSpecialTokens: false });
  return {
    ids: sampleWindows(tokens, nsamples, seqlen, options.seed ?? calibrationDefaults.seed),
    nsamples,
    seqlen,
    sourceTokens: tokens.length,
    source,
  };
}
