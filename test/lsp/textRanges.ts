// Ranges of snippets inside a fixture text, so tests state "the diagnostic is on this `"4"`" exactly.
import type { Position, Range } from 'vscode-languageserver-protocol';

export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** Range of the n-th (0-based) occurrence of `snippet`; throws when the fixture lacks it. */
export function rangeOf(text: string, snippet: string, occurrence = 0): Range {
  let index = -1;
  for (let i = 0; i <= occurrence; i++) {
    index = text.indexOf(snippet, index + 1);
    if (index < 0) throw new Error(`fixture has no occurrence ${occurrence} of ${JSON.stringify(snippet)}`);
  }
  return { start: positionAt(text, index), end: positionAt(text, index + snippet.length) };
}

/** Position right after the n-th occurrence of `snippet`. */
export function after(text: string, snippet: string, occurrence = 0): Position {
  return rangeOf(text, snippet, occurrence).end;
}
