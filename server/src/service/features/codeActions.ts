// Quick fixes: each diagnostic carries its abstract fixes (data.fixes); here they become WorkspaceEdits
// in the document's own syntax. Comments and trailing commas (which json.load rejects) are simply deleted.
import { CodeActionKind } from 'vscode-languageserver-types';
import type { CodeAction, Diagnostic, Range } from 'vscode-languageserver-types';
import { fixTitle, fixToEdits } from '../fixes';
import type { ConfigSite } from '../model';
import type { ParsedDocument } from '../parse/document';
import type { Fix } from '../rules/rule';
import { comparePositions, rangesOverlap } from '../text';

const FIX_KINDS = new Set(['setValue', 'renameKey', 'removeKey', 'addKey']);

/** Fixes from a diagnostic that came back over the protocol: untrusted JSON, so checked field by field. */
export function fixesOf(diagnostic: Diagnostic): Fix[] {
  const data: unknown = diagnostic.data;
  const fixes: unknown = typeof data === 'object' && data !== null ? (data as { fixes?: unknown }).fixes : undefined;
  if (!Array.isArray(fixes)) return [];
  return fixes.filter((fix): fix is Fix => {
    if (typeof fix !== 'object' || fix === null) return false;
    const { kind, key, newKey } = fix as { kind?: unknown; key?: unknown; newKey?: unknown };
    return (
      typeof kind === 'string' && FIX_KINDS.has(kind) && typeof key === 'string' && (kind !== 'renameKey' || typeof newKey === 'string')
    );
  });
}

/** The innermost site that holds a range. */
function siteAt(doc: ParsedDocument, range: Range): ConfigSite | undefined {
  const holding = doc.sites.filter(
    (site) => comparePositions(site.range.start, range.start) <= 0 && comparePositions(range.end, site.range.end) <= 0,
  );
  return holding.sort((a, b) => comparePositions(b.range.start, a.range.start))[0] ?? (doc.sites.length === 1 ? doc.sites[0] : undefined);
}

/** Findings about the file's JSON that a deletion fixes: what to call the action. */
const DELETION_FIXES: Readonly<Record<string, string>> = {
  'json/comment': 'Remove the comment',
  'json/trailing-comma': 'Remove the trailing comma',
};

/** The range itself, or its whole line(s) when nothing else stands on them (a comment on its own line). */
function deletionRange(doc: ParsedDocument, range: Range): Range {
  const text = doc.lines.text;
  let start = doc.lines.offsetAt(range.start);
  let end = doc.lines.offsetAt(range.end);
  let lineStart = start;
  while (lineStart > 0 && (text[lineStart - 1] === ' ' || text[lineStart - 1] === '\t')) lineStart--;
  let lineEnd = end;
  while (lineEnd < text.length && (text[lineEnd] === ' ' || text[lineEnd] === '\t')) lineEnd++;
  const aloneOnLine =
    (lineStart === 0 || text[lineStart - 1] === '\n') && (lineEnd === text.length || text[lineEnd] === '\n' || text[lineEnd] === '\r');
  if (aloneOnLine) {
    start = lineStart;
    end = text.startsWith('\r\n', lineEnd) ? lineEnd + 2 : Math.min(text.length, lineEnd + 1);
  }
  return doc.lines.range(start, end);
}

export function codeActions(doc: ParsedDocument, uri: string, range: Range, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
    if (!rangesOverlap(diagnostic.range, range)) continue;
    const deletion = typeof diagnostic.code === 'string' ? DELETION_FIXES[diagnostic.code] : undefined;
    if (deletion) {
      const edit = { range: deletionRange(doc, diagnostic.range), newText: '' };
      actions.push({
        title: deletion,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: true,
        edit: { changes: { [uri]: [edit] } },
      });
      continue;
    }
    const fixes = fixesOf(diagnostic);
    const site = fixes.length > 0 ? siteAt(doc, diagnostic.range) : undefined;
    if (!site) continue;
    for (const fix of fixes) {
      const edits = fixToEdits(site, fix, doc.lines);
      if (edits.length === 0) continue;
      actions.push({
        title: fixTitle(fix, site),
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: fixes.length === 1,
        edit: { changes: { [uri]: edits } },
      });
    }
  }
  return actions;
}
