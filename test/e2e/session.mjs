// One code-server + one browser page per test file (a start costs ~10 s), on a throw-away copy of
// fixtures/workspace, with screenshots and VS Code's logs kept under screenshots/ for inspection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, listFiles, openWorkbench, startCodeServer } from './codeServer.mjs';
import { REPO_ROOT } from './prerequisites.mjs';

export const EXTENSION_ID = 'quantstudio.quantstudio';
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS || path.join(REPO_ROOT, 'test', 'e2e', 'screenshots');
const FIXTURE_WORKSPACE = path.join(REPO_ROOT, 'test', 'e2e', 'fixtures', 'workspace');

/**
 * Starts VS Code on a copy of the fixture workspace. `install` picks how the extension gets in:
 * { extensionDir } links the unpacked repository (package.json + dist/; a link, so node_modules and
 * out/ are not copied), { vsix } installs a packaged .vsix. Options: `fixture`, another workspace folder
 * to copy; `prepare(workspace)`, run on the copy before VS Code opens it; `settings` (user settings),
 * `machineSettings`, `env` and `workspaceTrust` as startCodeServer takes them.
 */
export async function openSession(
  name,
  install,
  { fixture = FIXTURE_WORKSPACE, prepare, settings, machineSettings, env, workspaceTrust } = {},
) {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), `qs-e2e-${name}-`));
  fs.cpSync(fixture, workspace, { recursive: true });
  prepare?.(workspace); // e.g. write absolute paths into the copy before VS Code sees it
  const cs = await startCodeServer({
    workspace,
    settings,
    machineSettings,
    env,
    workspaceTrust,
    ...(install.vsix ? { vsix: [install.vsix] } : { extensions: [install.extensionDir], linkExtensions: true }),
  });
  if (install.vsix) cs.extensionIds.push(EXTENSION_ID); // openWorkbench waits for the activation of these
  const browser = await launchBrowser();
  let page;
  try {
    page = await openWorkbench(browser, cs);
  } catch (error) {
    await browser.close();
    await cs.stop();
    throw error;
  }
  const shots = path.join(SCREENSHOTS, name);
  fs.rmSync(shots, { recursive: true, force: true }); // only this run's pictures and logs
  fs.mkdirSync(shots, { recursive: true });
  return {
    cs,
    browser,
    page,
    workspace,
    /** Saves a screenshot of the whole workbench as screenshots/<name>/<file>.png. */
    shot: (file) => page.screenshot({ path: path.join(shots, `${file}.png`) }),
    /** Runs a test body; on failure saves a screenshot named after the test before rethrowing. */
    async step(t, body) {
      try {
        await body();
      } catch (error) {
        await page.screenshot({ path: path.join(shots, `FAILED-${t.name.replace(/[^\w.-]+/g, '_')}.png`) }).catch(() => undefined);
        throw error;
      }
    },
    async close() {
      // VS Code's logs are the first thing to read when a test fails: keep them next to the screenshots
      for (const f of listFiles(cs.logsDir)) {
        const dest = path.join(shots, 'logs', path.relative(cs.logsDir, f));
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.copyFileSync(f, dest);
      }
      if (fs.existsSync(cs.logFile)) fs.copyFileSync(cs.logFile, path.join(shots, 'logs', 'code-server.log'));
      await browser.close();
      await cs.stop();
      fs.rmSync(workspace, { recursive: true, force: true });
      fs.rmSync(cs.tmpDir, { recursive: true, force: true });
    },
  };
}
