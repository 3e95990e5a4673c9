// Rules that hold for every method: how the file itself states its keys.
import type { ConfigEntry } from '../model';
import type { Rule } from './rule';

const duplicateKey: Rule = {
  id: 'common/duplicate-key',
  methods: ['gptq', 'awq', 'bitsandbytes'],
  defaultSeverity: 'warning',
  description:
    'A key given twice: Python json.load keeps only the last value; a repeated keyword argument is a SyntaxError (Python 3.12 json and call syntax).',
  check(site, ctx) {
    const byKey = new Map<string, ConfigEntry[]>();
    for (const e of site.entries) {
      const list = byKey.get(e.key);
      if (list) list.push(e);
      else byKey.set(e.key, [e]);
    }
    for (const [key, occurrences] of byKey) {
      const count = occurrences.length;
      if (count < 2) continue;
      if (site.style.syntax === 'python') {
        // Python rejects the call outright at the second keyword.
        for (const e of occurrences.slice(1)) {
          ctx.report({
            severity: 'error',
            at: e,
            on: 'key',
            message: `Keyword argument '${key}' is repeated: Python raises "SyntaxError: keyword argument repeated". Keep one of them.`,
          });
        }
      } else {
        const last = occurrences[occurrences.length - 1];
        for (const e of occurrences.slice(0, -1)) {
          ctx.report({
            at: e,
            on: 'key',
            message: `'${key}' is given ${count} times; json.load keeps only the last value (line ${last.keyRange.start.line + 1}), so this one is ignored. Remove the duplicate.`,
          });
        }
      }
    }
  },
};

export const commonRules: readonly Rule[] = [duplicateKey];
