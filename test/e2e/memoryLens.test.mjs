// The memory-estimate code lens in a real VS Code: a job file's lens is the CPU engine's estimate (the target
// the job runs on) with the default context capped at the model's max_position_embeddings; a config the
// estimate cannot take (bits 5) says why on the lens instead of showing none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openFile } from './editor.mjs';
import { e2eSkipReason, REPO_ROOT } from './prerequisites.mjs';
import { openSession } from './session.mjs';

const skip = e2eSkipReason();
const MODEL = path.join(REPO_ROOT, 'examples', 'tiny-llama');
let s;

const job = (bits) =>
  `${JSON.stringify({ model: MODEL, quantization_config: { quant_method: 'gptq', bits, group_size: 128 } }, null, 2)}\n`;

before(async () => {
  if (skip) return;
  s = await openSession(
    'memory-lens',
    { extensionDir: REPO_ROOT },
    {
      prepare: (workspace) => {
        fs.mkdirSync(path.join(workspace, 'lens'));
        fs.writeFileSync(path.join(workspace, 'lens', 'four.quant.json'), job(4));
        fs.writeFileSync(path.join(workspace, 'lens', 'five.quant.json'), job(5));
      },
    },
  );
});
after(async () => {
  await s?.close();
});

/** The code lens titles of the active editor once one matches `pattern`. */
async function lensTitles(pattern) {
  const lens = s.page.locator('.codelens-decoration', { hasText: pattern }).first();
  await lens.waitFor({ timeout: 30_000 });
  return s.page.locator('.codelens-decoration').allInnerTexts();
}

// the estimate (weights, bits per weight, peak at the model's context), then the quantize run's own peak and time
const JOB_LENS = new RegExp(
  [
    String.raw`^≈ \d+\.\d MiB weights \(\d\.\d\d bits/weight\) · \d+\.\d MiB peak RSS on the CPU engine @ bs1, 512 \(model max\) ctx`,
    String.raw` · quantizing: ≈ \d+\.\d MiB peak RSS · ≈ \d+(\.\d)? (s|min) on \d+ threads?$`,
  ].join(''),
);

test("a job file's lens: the CPU engine's peak at the model's 512 positions, then its own quantize run's peak and time", { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, 'lens/four.quant.json');
    const titles = await lensTitles(/peak RSS on the CPU engine/);
    await s.shot('01-job-file-lens');
    assert.ok(
      titles.some((text) => JOB_LENS.test(text.trim())),
      JSON.stringify(titles),
    );
  }),
);

test('bits 5: the lens says why there is no estimate', { skip }, (t) =>
  s.step(t, async () => {
    await openFile(s.page, 'lens/five.quant.json');
    const titles = await lensTitles(/No memory estimate/);
    await s.shot('02-no-estimate-lens');
    assert.ok(
      titles.some((text) => text.trim() === 'No memory estimate: GPTQ with 5 bits (use bits 2, 3, 4 or 8)'),
      JSON.stringify(titles),
    );
  }),
);
