// deploy/target-kernel: where the chosen deployment targets (quantstudio.deploymentTargets, or a job file's
// deploymentTargets) refuse a config or serve it on a slower kernel, from the per-target tables in
// native/model/deploy*.ts (each names the release it restates). Config-level causes are reported on the key
// that decides them, with a fix where one setting brings the fast kernel back; with the model known, the
// layer groups whose shapes a target refuses or pads are named too.
import { deploySettingsOf, isSkipped, kernelsPerGroup, TARGET_TABLES } from '../../../../native/model';
import type { DeployCause, DeploymentTarget, DeploySettings, KernelChoice } from '../../../../native/model';
import type { ConfigSite } from '../model';
import { configObjectOf } from '../modelAware/estimateFor';
import type { ModelView } from '../modelAware/modelView';
import type { Fix, Rule, RuleContext } from './rule';
import { skipListOf } from './model/skipList';
import { effective } from './values';

const LISTED = 4;

/** The keys that hold each cause, in every spelling, and the value that removes it (none: no single fix). */
const CAUSE_KEYS: Record<DeployCause, { keys: string[]; fix?: (s: DeploySettings) => boolean | number }> = {
  bits: { keys: ['bits', 'w_bit'], fix: () => 4 },
  sym: { keys: ['sym'], fix: () => true },
  zero_point: { keys: ['zero_point'], fix: () => true },
  group_size: { keys: ['group_size', 'q_group_size'], fix: () => 128 },
  desc_act: { keys: ['desc_act'], fix: () => false },
  format: { keys: ['checkpoint_format', 'format', 'version'] },
  method: { keys: ['quant_method', 'load_in_4bit', 'load_in_8bit'] },
  shape: { keys: [] },
};

function verb(choice: KernelChoice): string {
  if (choice.path === 'refused') return 'refuses it';
  if (choice.cause === 'format') return `takes it only as ${choice.kernel}`;
  return `serves it with ${choice.kernel}, a slower path than its best kernel`;
}

/** The quick fix for a cause, when changing that one key makes the target take its fast kernel. */
function fixFor(target: DeploymentTarget, settings: DeploySettings, cause: DeployCause, key: string): Fix | undefined {
  const value = CAUSE_KEYS[cause].fix?.(settings);
  if (value === undefined) return undefined;
  const field = { group_size: 'groupSize', desc_act: 'descAct', zero_point: 'sym' }[cause as string] ?? cause;
  // zero_point true is sym false: the AWQ flag is the inverse of the GPTQ one.
  const changed = { ...settings, [field]: cause === 'zero_point' ? !value : value };
  if (TARGET_TABLES[target].choose(changed)?.path !== 'fast') return undefined;
  return { kind: 'setValue', key, value, title: `Set ${key} to ${JSON.stringify(value)}` };
}

function reportConfigLevel(
  site: ConfigSite,
  ctx: RuleContext,
  target: DeploymentTarget,
  settings: DeploySettings,
  choice: KernelChoice,
): void {
  const { release } = TARGET_TABLES[target];
  const at = effective(site, ...CAUSE_KEYS[choice.cause ?? 'shape'].keys);
  const fix = at && choice.cause ? fixFor(target, settings, choice.cause, at.key) : undefined;
  const advice = fix ? ` ${fix.title} for its fast kernel.` : '';
  ctx.report({
    at,
    severity: choice.path === 'refused' ? 'warning' : 'information',
    message: `Deployment target ${target}: ${release} ${verb(choice)}: ${choice.why}.${advice}`,
    fixes: fix ? [fix] : undefined,
  });
}

function reportLayers(site: ConfigSite, ctx: RuleContext, target: DeploymentTarget, settings: DeploySettings, view: ModelView): void {
  const skip = skipListOf(site);
  const rows =
    kernelsPerGroup(
      target,
      settings,
      view.linears.filter((l) => !isSkipped(l.module, skip)),
    ) ?? [];
  for (const path of ['refused', 'fallback'] as const) {
    const bad = rows.filter((r) => r.choice.path === path);
    if (bad.length === 0) continue;
    const names = bad.map((r) => `${r.group} (in ${r.dims.in}, out ${r.dims.out})`);
    const listed = names.slice(0, LISTED).join(', ') + (names.length > LISTED ? `, and ${names.length - LISTED} more` : '');
    const what = path === 'refused' ? 'refuses' : `serves on ${bad[0]!.choice.kernel}, a slower path,`;
    ctx.report({
      severity: path === 'refused' ? 'warning' : 'information',
      message: `Deployment target ${target}: ${TARGET_TABLES[target].release} ${what} ${listed} in ${view.model.ref}: ${bad[0]!.choice.why}.`,
    });
  }
}

export function deploymentRule(targets: readonly DeploymentTarget[], view: ModelView | undefined): Rule {
  return {
    id: 'deploy/target-kernel',
    methods: ['gptq', 'awq', 'bitsandbytes'],
    defaultSeverity: 'information',
    description: 'Where a chosen deployment target refuses the config or serves it on a slower kernel (tables in native/model/deploy*.ts).',
    check(site, ctx) {
      const settings = deploySettingsOf(configObjectOf(site));
      if (!settings) return;
      for (const target of targets) {
        const choice = TARGET_TABLES[target].choose(settings);
        if (!choice) continue;
        if (choice.path !== 'fast') reportConfigLevel(site, ctx, target, settings, choice);
        else if (view) reportLayers(site, ctx, target, settings, view);
      }
    },
  };
}
