// Hover on a key of GPTQModel's `dynamic` (JSON files): the modules of the resolved model it matches, grouped by layer
// pattern, how many it decides (GPTQModel 7.7: the first matching key, "-:" keys first), and the settings they get.
import type { Hover, Position } from 'vscode-languageserver-types';
import { dynamicRules, gptqModuleSettings, quantSettingsOf } from '../../../../native/model';
import type { JsonObject } from '../../../../native/model';
import { groupedModules, modulesByRule } from '../modelAware/dynamicModules';
import type { ModelView } from '../modelAware/modelView';
import { configObjectOf } from '../modelAware/estimateFor';
import type { ParsedDocument } from '../parse/document';

export function dynamicHover(doc: ParsedDocument, view: ModelView, position: Position): Hover | null {
  const at = doc.pathAt?.(doc.lines.offsetAt(position));
  if (!at?.onKey) return null;
  const index = doc.sitePaths.findIndex(
    (p) => at.path.length === p.length + 2 && p.every((s, i) => at.path[i] === s) && at.path[p.length] === 'dynamic',
  );
  if (index < 0) return null;
  const key = at.path[at.path.length - 1];
  const config = configObjectOf(doc.sites[index]);
  const rules = dynamicRules(config['dynamic']);
  const mine = modulesByRule(view, rules).find((r) => r.rule.key === key);
  if (!mine) return null;
  const lines = [
    `**dynamic ${JSON.stringify(key)}** on \`${view.model.ref}\`: matches ${mine.matched.length} module${mine.matched.length === 1 ? '' : 's'}` +
      (mine.matched.length > 0 ? ` (${groupedModules(mine.matched)})` : ''),
  ];
  if (mine.decided.length < mine.matched.length)
    lines.push(
      '',
      `Decides ${mine.decided.length} of them; an earlier key decides the rest (GPTQModel 7.7: the first matching key wins, "-:" keys first).`,
    );
  if (mine.decided.length > 0) lines.push('', `The modules it decides: ${resultingSettings(config, mine.rule.key)}.`);
  return { contents: { kind: 'markdown', value: lines.join('\n') }, range: doc.rangeOf(undefined, at.path, 'key') };
}

/** What the decided modules are quantized with: the config's settings under the key's overrides. */
function resultingSettings(config: JsonObject, key: string): string {
  const settings = quantSettingsOf(config, 'quantization config');
  if (!settings.ok || settings.value.method !== 'gptq') return 'settings not known (the config itself has an error)';
  const rule = settings.value.dynamic?.find((r) => r.key === key);
  const own = gptqModuleSettings(settings.value, rule);
  if (!own) return 'left unquantized (stored as in the source model)';
  const group = own.groupSize === -1 ? 'per-column' : `group size ${own.groupSize}`;
  return `GPTQ ${own.bits}-bit, ${group}${own.descAct ? ', act-order' : ''}`;
}
