// Editor helpers on top of codeServer.mjs: cursor placement, hover and quick fixes, all through
// commands (keyboard shortcuts differ between the browser and desktop; palette labels do not).
import { runCommand } from './codeServer.mjs';

/** Opens a workspace file by its relative path via Quick Open and waits for its editor tab. Quick Open's list
 *  re-sorts while file search results stream in, and other files match the same query fuzzily (the examples'
 *  tiny-llama-gptq-*.quant.json for tiny-llama-gptq.quant.json): a click can land on a row that moved, so a wrong
 *  or missing tab is retried. */
export async function openFile(page, relativePath, attempts = 3) {
  const base = relativePath.split('/').pop();
  const dir = relativePath.split('/').slice(0, -1).join('/');
  const tab = page.locator('.tabs-container .tab.active', { hasText: base });
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relativePath);
    // a row shows the name and, separately, its folder: wait for the row of exactly this file
    const row = page
      .locator('.quick-input-widget .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${base.replace(/\./g, '\\.')}$`) }) })
      .filter({ hasText: dir })
      .first();
    await row.waitFor({ state: 'visible' });
    await page.waitForTimeout(200); // let the list finish re-sorting before the click
    await row.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    try {
      await tab.first().waitFor({ timeout: 10_000 });
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

/** Moves the cursor of the active editor to a 1-based line and column (Quick Open's ":line:column") and waits
 *  until the status bar shows that position (the line picker can swallow an early Enter: it is typed again). */
export async function goTo(page, line, column, attempts = 3) {
  const position = page.locator('.statusbar-item', { hasText: new RegExp(`^Ln ${line}, Col ${column}$`) });
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}:${column}`);
    await page.waitForTimeout(300); // the line picker re-filters after typing
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    try {
      await position.first().waitFor({ state: 'visible', timeout: 5000 });
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

/**
 * Shows the hover at the cursor and returns its text once it contains `expect`. The hover can open before
 * the language server answers, and closes when the editor re-lays out (a code lens arriving): its text is read
 * as soon as it is there, and the hover is reopened until it is.
 */
export async function hoverAt(page, line, column, expect, attempts = 5) {
  const hovers = page.locator('.monaco-hover:not(.hidden)');
  let shown = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await goTo(page, line, column);
    await runCommand(page, 'Show or Focus Hover');
    for (const deadline = Date.now() + 8000; Date.now() < deadline; await page.waitForTimeout(100)) {
      shown = await hovers.allInnerTexts();
      const match = shown.find((text) => text.includes(expect));
      if (match !== undefined) return match;
    }
    await page.keyboard.press('Escape');
  }
  throw new Error(`no hover containing "${expect}" at ${line}:${column} after ${attempts} tries; visible hovers: ${JSON.stringify(shown)}`);
}

/** Opens "Quick Fix..." at a position and returns the titles it offers (the action widget stays open). */
export async function openQuickFixes(page, line, column, expectTitle) {
  await goTo(page, line, column);
  await runCommand(page, 'Quick Fix...');
  const rows = page.locator('.action-widget .monaco-list-row');
  await rows.filter({ hasText: expectTitle }).first().waitFor({ state: 'visible' });
  return rows.allInnerTexts();
}

/** Picks a quick fix from the open action widget by its title (keyboard: the widget acts on key presses). */
export async function applyQuickFix(page, title) {
  const rows = page.locator('.action-widget .monaco-list-row');
  const titles = (await rows.allInnerTexts()).map((t) => t.trim());
  const index = titles.indexOf(title);
  if (index < 0) throw new Error(`no quick fix "${title}" among ${JSON.stringify(titles)}`);
  // the first action is focused when the widget opens; headers ("Quick Fix") are not focusable rows
  for (let i = 0; (await page.locator('.action-widget .monaco-list-row.focused').innerText()).trim() !== title; i++) {
    if (i > titles.length) throw new Error(`could not focus the quick fix "${title}"`);
    await page.keyboard.press('ArrowDown');
  }
  await page.keyboard.press('Enter');
  await page.locator('.action-widget .monaco-list-row').first().waitFor({ state: 'hidden' });
}

/** The visible text of the active editor (Monaco renders only the visible lines: fine for short files). */
export async function editorText(page) {
  const lines = await page
    .locator('.editor-instance .monaco-editor .view-lines .view-line')
    .evaluateAll((els) => els.map((el) => ({ top: parseFloat(el.style.top) || 0, text: el.textContent.replace(/\u00a0/g, ' ') })));
  return lines
    .sort((a, b) => a.top - b.top)
    .map((l) => l.text)
    .join('\n');
}
