// Entry point VS Code calls inside its extension host (--extensionTestsPath): runs every scenario in
// order and rejects when any failed, which makes test-electron exit non-zero. The same suite also runs
// in code-server's extension host (test/e2e/api.test.mjs), which reads these lines from the console.
import { scenarios } from './scenarios';

/** Last line of a run: "<SUMMARY_PREFIX> <passed> passed, <failed> failed". */
export const SUMMARY_PREFIX = 'quantstudio-suite:';

export async function run(): Promise<void> {
  const all = scenarios();
  const failures: string[] = [];
  for (const [name, body] of all) {
    try {
      await body();
      console.log(`ok - ${name}`);
    } catch (error) {
      console.error(`not ok - ${name}\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      failures.push(name);
    }
  }
  console.log(`${SUMMARY_PREFIX} ${all.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length > 0) throw new Error(`${failures.length} scenario(s) failed: ${failures.join('; ')}`);
}
