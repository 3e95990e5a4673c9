#!/usr/bin/env bash
# Starts code-server for manual poking / debugging a test, the same way the tests do.
#   bash test/e2e/run-code-server.sh WORKSPACE [--extension DIR]... [--vsix FILE]... [--port N] [--screenshot FILE]
# Prints the URL, then waits; Ctrl+C (or SIGTERM) stops code-server and removes its temp dir.
# With --screenshot FILE it instead opens the workbench in headless chromium, saves a
# screenshot, stops and exits (a smoke test: "does VS Code render here?").
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_RECIPE_DIR="$here" exec node --input-type=module - "$@" <<'EOF'
import fs from 'node:fs';
import path from 'node:path';
const here = process.env.E2E_RECIPE_DIR;
const { startCodeServer, launchBrowser, openWorkbench } = await import(path.join(here, 'codeServer.mjs'));
const argv = process.argv.slice(2);
// extensions are linked, not copied: the repository root has node_modules and out/ next to dist/
const opts = { extensions: [], vsix: [], linkExtensions: true };
let shot;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--extension') opts.extensions.push(argv[++i]);
  else if (a === '--vsix') opts.vsix.push(argv[++i]);
  else if (a === '--port') opts.port = Number(argv[++i]);
  else if (a === '--screenshot') shot = argv[++i];
  else if (a.startsWith('-')) { console.error(`unknown option ${a}`); process.exit(2); }
  else opts.workspace = a;
}
if (!opts.workspace) { console.error('usage: run-code-server.sh WORKSPACE [--extension DIR]... [--vsix FILE]... [--port N] [--screenshot FILE]'); process.exit(2); }
const cs = await startCodeServer(opts);
console.log(`code-server pid ${cs.pid} answered after ${cs.startMs} ms`);
console.log(`open ${cs.workbenchUrl}`);
console.log(`logs: ${cs.logFile} and ${cs.logsDir}`);
const stop = async () => { await cs.stop(); fs.rmSync(cs.tmpDir, { recursive: true, force: true }); };
if (shot) {
  const browser = await launchBrowser();
  try {
    const page = await openWorkbench(browser, cs);
    await page.waitForTimeout(1000);
    await page.screenshot({ path: shot });
    console.log(`screenshot: ${shot}`);
  } finally { await browser.close(); await stop(); }
} else {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => { await stop(); process.exit(0); });
  setInterval(() => {}, 1 << 30);
}
EOF
