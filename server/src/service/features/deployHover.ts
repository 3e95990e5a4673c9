// The config hover's deployment part: for each chosen target, the kernel it picks per layer group (with the
// model known) or for the config as a whole, from the same tables as the deploy/target-kernel rule.
import { deploySettingsOf, isSkipped, kernelsPerGroup, TARGET_TABLES } from '../../../../native/model';
import type { DeploymentTarget, KernelChoice } from '../../../../native/model';
import type { ConfigSite } from '../model';
import { configObjectOf } from '../modelAware/estimateFor';
import type { ModelView } from '../modelAware/modelView';
import { skipListOf } from '../rules/model/skipList';

const PATH_LABEL: Record<KernelChoice['path'], string> = { fast: '', fallback: ' (slower path)', refused: ' (refused)' };

const line = (choice: KernelChoice, where = ''): string =>
  `${choice.kernel}${PATH_LABEL[choice.path]}${where}${choice.why ? `: ${choice.why}` : ''}`;

/** Markdown, or undefined when no target is chosen or the config's method has no table. */
export function deploymentMarkdown(
  site: ConfigSite,
  targets: readonly DeploymentTarget[],
  view: ModelView | undefined,
): string | undefined {
  const settings = deploySettingsOf(configObjectOf(site));
  if (!settings || targets.length === 0) return undefined;
  const skip = skipListOf(site);
  const linears = view?.linears.filter((l) => !isSkipped(l.module, skip));
  const parts = targets.map((target) => {
    const table = TARGET_TABLES[target];
    const whole = table.choose(settings);
    if (!whole) return `**${target}** (${table.release}): no rule in QuantStudio for ${settings.method}`;
    const rows = linears ? kernelsPerGroup(target, settings, linears) : undefined;
    if (!rows) return `**${target}** (${table.release}): ${line(whole)}`;
    if (new Set(rows.map((r) => line(r.choice))).size === 1)
      return `**${target}** (${table.release}): ${line(rows[0]!.choice, ' for every layer')}`;
    return [
      `**${target}** (${table.release}):`,
      ...rows.map((r) => `- \`${r.group}\` (in ${r.dims.in}, out ${r.dims.out}): ${line(r.choice)}`),
    ].join('\n');
  });
  return ['**Deployment targets**', ...parts].join('\n\n');
}
