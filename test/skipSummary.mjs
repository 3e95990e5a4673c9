// The end of `npm test`: which suites were skipped, why, and the command that installs what they need.
// `default` is a node:test reporter that writes one JSON line per skipped test; `skipSummary` turns those
// lines into the summary test/run.mjs prints last, so a skip is never buried in the scroll-back.

/** The command that installs a suite's prerequisites, for the suites that have one. */
export const INSTALL = {
  e2e: 'bash test/e2e/install.sh',
  reference: 'bash test/reference/setup.sh',
};

export default async function* skipReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' || !event.data.skip) continue;
    const { file, name, skip } = event.data;
    yield `${JSON.stringify({ file: file ?? '', name, reason: typeof skip === 'string' ? skip : 'skipped' })}\n`;
  }
}

/**
 * `skips`: the reporter's records; `suiteOf(file)`: the suite a test file belongs to (or its path).
 * Returns the summary's lines, none when nothing was skipped.
 */
export function skipSummary(skips, suiteOf) {
  if (skips.length === 0) return [];
  const suites = new Map();
  for (const { file, reason } of skips) {
    const suite = suiteOf(file);
    const entry = suites.get(suite) ?? { files: new Set(), tests: 0, reasons: new Set() };
    entry.files.add(file);
    entry.tests += 1;
    entry.reasons.add(reason);
    suites.set(suite, entry);
  }
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [`Skipped: ${plural(skips.length, 'test')} in ${plural(suites.size, 'suite')}.`];
  for (const [suite, { files, tests, reasons }] of suites) {
    lines.push(`  ${suite} (${plural(tests, 'test')} in ${plural(files.size, 'file')}): ${[...reasons].join('; ')}`);
    if (INSTALL[suite]) lines.push(`    install its prerequisites with: ${INSTALL[suite]}`);
  }
  return lines;
}
