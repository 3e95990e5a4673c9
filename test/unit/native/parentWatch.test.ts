// dieWithParent: a process whose parent is killed ends within a second, even while work it started runs on
// libuv's thread pool (as the engine's does) — process.exit would wait for that work to finish.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { isRunning } from '../../../native/model';

const watchModule = join(__dirname, '..', '..', '..', 'native', 'worker', 'parentWatch.js');
const temp = mkdtempSync(join(tmpdir(), 'qs-parent-watch-'));
after(() => rmSync(temp, { recursive: true, force: true }));

it('a child with long thread-pool work dies within a second of its parent being killed', async () => {
  const child = join(temp, 'child.js');
  const parent = join(temp, 'parent.js');
  // pbkdf2 with a huge iteration count: minutes of work on a thread-pool thread, like a quantization layer
  writeFileSync(
    child,
    `require(${JSON.stringify(watchModule)}).dieWithParent();
require('crypto').pbkdf2('p', 's', 1e9, 32, 'sha512', () => {});
process.send(process.pid);
`,
  );
  writeFileSync(
    parent,
    `const c = require('child_process').fork(${JSON.stringify(child)});
c.on('message', (pid) => console.log(pid));
`,
  );
  const p = spawn(process.execPath, [parent], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(isRunning(pid), 'the child runs while its parent does');
  p.kill('SIGKILL');
  const killedAt = Date.now();
  while (isRunning(pid) && Date.now() - killedAt < 5000) await new Promise((r) => setTimeout(r, 50));
  const took = Date.now() - killedAt;
  if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  assert.ok(took < 1000, `the child ended ${took} ms after its parent`);
});
