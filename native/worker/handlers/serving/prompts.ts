// The prompts of a serving benchmark: stretches of the WikiText-2 test text (the corpus every other benchmark
// reads), `words` words each, a different stretch for every request so no server-side prefix cache serves one
// request from another's prompt.
import * as fs from 'fs';
import { wikitext2TestPath } from '../../../lib';
import { JobFailure } from '../../jobFailure';

export function servingPrompts(count: number, words: number, text = fs.readFileSync(wikitext2TestPath(), 'utf8')): string[] {
  const all = text.split(/\s+/).filter((w) => w !== '');
  if (all.length < count * words) {
    throw new JobFailure(
      'INVALID_JOB',
      `${count} prompts of ${words} words need ${count * words} words of WikiText-2 test text; it has ${all.length}. Lower requests or promptWords`,
      'options.promptWords',
    );
  }
  return Array.from({ length: count }, (_, i) => all.slice(i * words, (i + 1) * words).join(' '));
}
