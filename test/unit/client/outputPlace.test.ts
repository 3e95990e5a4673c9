// The editor asks before a job writes outside the workspace: what counts as inside, with `..` and symlinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isInsideWorkspace } from '../../../client/src/extension/commands/outputPlace';

test('an output is inside only when it lies strictly within a workspace folder, symlinks followed', (t) => {
  const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-output-place-')));
  t.after(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const ws = path.join(scratch, 'repo');
  const elsewhere = path.join(scratch, 'home');
  fs.mkdirSync(ws);
  fs.mkdirSync(elsewhere);
  fs.symlinkSync(elsewhere, path.join(ws, 'models'));

  assert.equal(isInsideWorkspace(path.join(ws, '.quantstudio', 'models', 'q'), [ws]), true, 'a folder not created yet');
  assert.equal(isInsideWorkspace(path.join(ws, 'out', '..', 'q'), [ws]), true);
  assert.equal(isInsideWorkspace(path.join(ws, '..', 'home', 'q'), [ws]), false, '.. out of the workspace');
  assert.equal(isInsideWorkspace(path.join(ws, 'models', 'q'), [ws]), false, 'a symlink out of the workspace');
  assert.equal(isInsideWorkspace(ws, [ws]), false, 'the workspace folder itself would be replaced');
  assert.equal(isInsideWorkspace(path.join(scratch, 'repo-other', 'q'), [ws]), false, 'a sibling with the same prefix');
  assert.equal(isInsideWorkspace(path.join(elsewhere, 'q'), [ws, elsewhere]), true, 'any of the workspace folders');
  assert.equal(isInsideWorkspace(path.join(ws, 'q'), []), false, 'no workspace open');
});
