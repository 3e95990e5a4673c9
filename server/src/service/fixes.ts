// Abstract quick fixes (rules/rule.ts Fix: set/rename/remove/add a key) → text edits in the file's own
// syntax: JSON (`true`, `null`, `"x"`, `"key": value`) or Python (`True`, `None`, 'x' or "x" as the file
// quotes, `key=value`).
import type { TextEdit } from 'vscode-languageserver-types';
import type { ConfigSite, LiteralValue } from './model';
import type { Fix } from './rules/rule';
import type { LineIndex } from './text';

function pythonString(value: string, quote: '"' | "'"): string {
  const json = JSON.stringify(value); // escapes backslashes, control characters and double quotes
  if (quote === '"') return json;
  return `'${json.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}

/** A literal value written in the site's syntax. */
export function formatLiteral(value: LiteralValue, site: Pick<ConfigSite, 'style'>): string {
  const { syntax, quote = '"' } = site.style;
  if (syntax === 'json') return JSON.stringify(value);
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : value > 0 ? "float('inf')" : value < 0 ? "float('-inf')" : "float('nan')";
  if (typeof value === 'string') return pythonString(value, quote);
  if (Array.isArray(value)) return `[${value.map((item) => formatLiteral(item, site)).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${pythonString(key, quote)}: ${formatLiteral(item, site)}`)
    .join(', ')}}`;
}

/** `"key": value` or `key=value`. */
export function formatEntry(key: string, value: LiteralValue, site: Pick<ConfigSite, 'style'>): string {
  return site.style.syntax === 'json' ? `${JSON.stringify(key)}: ${formatLiteral(value, site)}` : `${key}=${formatLiteral(value, site)}`;
}

function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r';
}

/** Removes an entry with its separating comma, keeping the neighbours' layout. */
function removeEntryEdit(site: ConfigSite, key: string, lines: LineIndex): TextEdit | undefined {
  const entry = site.entries.find((e) => e.key === key);
  if (!entry) return undefined;
  const text = lines.text;
  const start = lines.offsetAt(entry.range.start);
  const end = lines.offsetAt(entry.range.end);
  let after = end;
  while (isSpace(text[after])) after++;
  if (text[after] === ',') {
    // Followed by a comma: take the comma and the space up to the next entry (or the closing bracket's line).
    let next = after + 1;
    while (isSpace(text[next])) next++;
    const closing = text[next] === '}' || text[next] === ')';
    if (!closing) return { range: lines.range(start, next), newText: '' };
    let before = start;
    while (before > 0 && isSpace(text[before - 1])) before--;
    return { range: lines.range(before, after + 1), newText: '' };
  }
  // The last entry: take the comma before it, if any.
  let before = start;
  while (before > 0 && isSpace(text[before - 1])) before--;
  if (text[before - 1] === ',') return { range: lines.range(before - 1, end), newText: '' };
  return { range: lines.range(start, end), newText: '' };
}

function addEntryEdit(site: ConfigSite, key: string, value: LiteralValue, lines: LineIndex): TextEdit {
  const at = lines.offsetAt(site.insertAt);
  let before = at;
  while (before > 0 && isSpace(lines.text[before - 1])) before--;
  const opening = lines.text[before - 1];
  const first = opening === '{' || opening === '(';
  const separator = site.style.indent ? `\n${site.style.indent}` : first ? '' : ' ';
  return { range: lines.range(at, at), newText: `${first ? '' : ','}${separator}${formatEntry(key, value, site)}` };
}

/** The text edits that apply one fix to one site; empty when the fix no longer applies (key gone). */
export function fixToEdits(site: ConfigSite, fix: Fix, lines: LineIndex): TextEdit[] {
  const entry = site.entries.find((e) => e.key === fix.key);
  switch (fix.kind) {
    case 'setValue':
      return entry
        ? [{ range: entry.valueRange, newText: formatLiteral(fix.value, site) }]
        : [addEntryEdit(site, fix.key, fix.value, lines)];
    case 'renameKey':
      return entry ? [{ range: entry.keyRange, newText: site.style.syntax === 'json' ? JSON.stringify(fix.newKey) : fix.newKey }] : [];
    case 'removeKey': {
      const edit = removeEntryEdit(site, fix.key, lines);
      return edit ? [edit] : [];
    }
    case 'addKey':
      return entry
        ? [{ range: entry.valueRange, newText: formatLiteral(fix.value, site) }]
        : [addEntryEdit(site, fix.key, fix.value, lines)];
  }
}

/** What a fix's code action is called when the rule gave it no title. */
export function fixTitle(fix: Fix, site: Pick<ConfigSite, 'style'>): string {
  if (fix.title) return fix.title;
  switch (fix.kind) {
    case 'setValue':
      return `Set "${fix.key}" to ${formatLiteral(fix.value, site)}`;
    case 'renameKey':
      return `Rename "${fix.key}" to "${fix.newKey}"`;
    case 'removeKey':
      return `Remove "${fix.key}"`;
    case 'addKey':
      return `Add ${formatEntry(fix.key, fix.value, site)}`;
  }
}
