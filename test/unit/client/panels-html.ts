// Test helpers for the panels' HTML: the cells of a table found by its data-testid, the attributes of the SVG
// elements of a chart, unescaped text. Regular expressions suffice because the builders' markup is regular.
import * as fs from 'fs';
import * as path from 'path';
import type { RunResult } from '../../../client/src/jobs/runner';

export const FIXTURES = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'panels');

/** test/fixtures/panels/<name>.run.json: one hand-made run per kind (named by kind) and measured ones. */
export function fixtureRun(name: string): RunResult {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.run.json`), 'utf8')) as RunResult;
}

export function unescape(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The element with this data-testid up to its closing tag (elements of one name are not nested in panels). */
export function byTestId(html: string, testId: string): string {
  const open = new RegExp(`<(\\w+)[^>]*data-testid="${testId}"[^>]*>`).exec(html);
  if (!open) throw new Error(`no element with data-testid="${testId}"`);
  const close = html.indexOf(`</${open[1]}>`, open.index);
  return html.slice(open.index, close + open[1].length + 3);
}

/** Each row's cells (th and td) as text, header rows included. */
export function tableCells(table: string): string[][] {
  return [...table.matchAll(/<tr>(.*?)<\/tr>/gs)].map((row) =>
    [...row[1].matchAll(/<t[hd][^>]*>(.*?)<\/t[hd]>/gs)].map((c) => unescape(c[1])),
  );
}

export function attributes(element: string): Record<string, string> {
  return Object.fromEntries([...element.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1], unescape(m[2])]));
}

/** The <rect class="bar …"> elements of an SVG with their attributes. */
export function bars(svg: string): Array<Record<string, string>> {
  return [...svg.matchAll(/<rect class="bar[^>]*>/g)].map((m) => attributes(m[0]));
}

/** The text of every <text class="CLASS"> element, in document order. */
export function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>(.*?)</text>`, 'g'))].map((m) => unescape(m[1]));
}
