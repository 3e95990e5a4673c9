// Where the config calls of a Python file are, found without parsing it: each window runs from the start of
// `name = Config(` (or of the qualified call) to its closing parenthesis, so it parses on its own.
const CALL = /\b(?:GPTQConfig|AwqConfig|BitsAndBytesConfig)\s*\(/g;

export interface CallWindow {
  start: number;
  end: number;
  /** Offset of the class name. */
  name: number;
  /** False when the window ends before the call's closing parenthesis (too long, or never closed). */
  closed: boolean;
}

/** Start of `q = transformers.GPTQConfig(` when the call is the value of a plain assignment, else of the call. */
function windowStart(text: string, at: number): number {
  let start = at;
  while (start > 0 && /[\w.]/.test(text[start - 1])) start--;
  const lineStart = start === 0 ? 0 : text.lastIndexOf('\n', start - 1) + 1;
  const prefix = text.slice(lineStart, start);
  if (!/^[ \t]*(?:[A-Za-z_]\w*[ \t]*=[ \t]*)?$/.test(prefix)) return start;
  return lineStart + prefix.length - prefix.trimStart().length;
}

/** Just past the parenthesis that closes the one at `open - 1` (strings and comments skipped), or `limit`. */
function callEnd(text: string, open: number, limit: number): { end: number; closed: boolean } {
  let depth = 1;
  for (let i = open; i < limit; i++) {
    const c = text[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (--depth === 0) return { end: i + 1, closed: true };
    } else if (c === '#') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? limit : eol;
    } else if (c === '"' || c === "'") {
      const quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      let j = i + quote.length;
      while (j < limit && !text.startsWith(quote, j) && (quote.length === 3 || text[j] !== '\n')) j += text[j] === '\\' ? 2 : 1;
      i = j + quote.length - 1;
    }
  }
  return { end: limit, closed: false };
}

/** Up to `max` windows, in file order, each at most `maxLength` long. */
export function configCallWindows(text: string, max: number, maxLength: number): CallWindow[] {
  const windows: CallWindow[] = [];
  for (const match of text.matchAll(CALL)) {
    const previous = windows[windows.length - 1];
    if (previous && match.index < previous.end) continue; // nested in the previous call: parsed with it
    if (windows.length === max) break;
    const start = windowStart(text, match.index);
    const { end, closed } = callEnd(text, match.index + match[0].length, Math.min(text.length, start + maxLength));
    windows.push({ start, end, name: match.index, closed });
  }
  return windows;
}
