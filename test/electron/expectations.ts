// The shared expectations of the e2e scenarios (test/e2e/fixtures/expectations.json): the same data the
// code-server suite asserts, so both harnesses check exactly the same user-visible behaviour.
import * as fs from 'fs';
import * as path from 'path';

export interface ExpectedDiagnostic {
  message: string;
  code: string;
  severity: 'error' | 'warning' | 'information' | 'hint';
  /** 1-based, as VS Code shows it. */
  line: number;
  column: number;
}

export interface ExpectedFile {
  /** Relative to the workspace folder. */
  path: string;
  diagnostics: ExpectedDiagnostic[];
  hover?: { line: number; column: number; contains: string };
  quickFix?: { line: number; column: number; title: string; lineAfter: string };
}

export interface Expectations {
  files: ExpectedFile[];
}

/** The repository root: the nearest folder above with a package.json (from out/test/electron/... or the sources). */
export function repoRoot(fromDir: string): string {
  let dir = fromDir;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fromDir}`);
    dir = parent;
  }
  return dir;
}

export const FIXTURES = (root: string): string => path.join(root, 'test', 'e2e', 'fixtures');

export function loadExpectations(root: string): Expectations {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES(root), 'expectations.json'), 'utf8')) as Expectations;
}
