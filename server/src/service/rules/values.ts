// Typed lookups over a ConfigSite's entries, shared by the rule tables. Rules never look at syntax, only at
// entries and their literal values; a non-literal value (a Python variable) reads as "unknown" and is skipped.
import type { ConfigEntry, ConfigSite, LiteralValue } from '../model';

/**
 * The entry that takes effect for `key` (or any of its spellings): the LAST occurrence, because Python's
 * json.load keeps the last duplicate (and a repeated Python keyword is a syntax error anyway).
 */
export function effective(site: ConfigSite, ...keys: string[]): ConfigEntry | undefined {
  for (let i = site.entries.length - 1; i >= 0; i--) {
    if (keys.includes(site.entries[i].key)) return site.entries[i];
  }
  return undefined;
}

export function numberOf(e: ConfigEntry | undefined): number | undefined {
  return typeof e?.value === 'number' ? e.value : undefined;
}

export function stringOf(e: ConfigEntry | undefined): string | undefined {
  return typeof e?.value === 'string' ? e.value : undefined;
}

export function booleanOf(e: ConfigEntry | undefined): boolean | undefined {
  return typeof e?.value === 'boolean' ? e.value : undefined;
}

/** True when the entry is present with a literal value that is explicitly `true`. */
export function isTrue(site: ConfigSite, key: string): boolean {
  return booleanOf(effective(site, key)) === true;
}

/** Whether the value was written as an integer literal (`6`, not `6.0`): Python's json and call syntax keep that distinction. */
export function writtenAsInteger(e: ConfigEntry): boolean {
  return typeof e.value === 'number' && /^[+-]?\d+$/.test(e.valueText.trim());
}

export function show(v: LiteralValue | undefined): string {
  return v === undefined ? '(not a literal)' : JSON.stringify(v);
}

/** Closest candidate by edit distance, for "did you mean" messages; undefined when nothing is close. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
