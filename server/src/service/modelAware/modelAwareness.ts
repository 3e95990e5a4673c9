// The model-aware part of the language service, per document: which model it targets (reference.ts),
// what is known of it now (resolver.ts), the findings of the model rules, and the memory estimates.
// Everything here answers from what is already resolved; resolution runs in the background.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { deploymentTargetsOf, engineThreads, formatModelError } from '../../../../native/model';
import type { DeploymentTarget, JsonObject } from '../../../../native/model';
import { DEFAULT_SETTINGS } from '../../protocol';
import type { ServiceFinding } from '../finding';
import type { ConfigSite } from '../model';
import type { ParsedDocument } from '../parse/document';
import { ruleFindings, siteLocator } from '../ruleRunner';
import { bindToModel, modelRules } from '../rules/model';
import { currentModel, settledModel } from './documentModel';
import type { DocumentModel } from './documentModel';
import { estimateSite } from './estimateFor';
import type { EstimateSettings, SiteEstimateResult } from './estimateFor';
import { mixedPrecisionBudgetFindings } from './mixedPrecisionBudget';
import { signRoundModelFindings } from './signRoundModel';
import { modelView } from './modelView';
import type { ModelView } from './modelView';
import { modelReferencesOf } from './reference';
import type { ModelReference } from './reference';
import { ModelResolver } from './resolver';
import type { HubSettings } from './resolver';

/** What the model-aware part reads from the editor's settings. */
export interface ModelSettings extends EstimateSettings {
  /** quantstudio.model: the model for configs that name none. */
  model: string;
  /** Folder the setting's relative paths are resolved against (the workspace). */
  workspaceDir: string | undefined;
  hub: HubSettings;
  /** quantstudio.deploymentTargets: where checkpoints will be served (a job file's deploymentTargets wins). */
  deploymentTargets: readonly string[];
}

export const DEFAULT_MODEL_SETTINGS: ModelSettings = {
  model: DEFAULT_SETTINGS.model,
  workspaceDir: undefined,
  batchSize: DEFAULT_SETTINGS.estimate.batchSize,
  contextLength: DEFAULT_SETTINGS.estimate.contextLength,
  threads: DEFAULT_SETTINGS.engine.threads,
  hub: {},
  deploymentTargets: DEFAULT_SETTINGS.deploymentTargets,
};

function positive(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

export class ModelAwareness {
  private readonly resolver: ModelResolver;

  constructor(private settings: ModelSettings) {
    this.resolver = new ModelResolver(settings.hub);
  }

  configure(settings: Partial<ModelSettings>): void {
    this.settings = { ...this.settings, ...settings };
    this.resolver.configure(this.settings.hub);
  }

  private referencesOf(parsed: ParsedDocument, uri: string): ModelReference[] {
    return modelReferencesOf(parsed, uri, this.settings.model, this.settings.workspaceDir);
  }

  /** The model findings known now, and (while the model resolves) a promise of whether re-diagnosing is worth it. */
  findings(parsed: ParsedDocument, uri: string): { findings: ServiceFinding[]; pending?: Promise<boolean> } {
    const { model, pending } = currentModel(this.resolver, this.referencesOf(parsed, uri));
    return { findings: model ? this.findingsFor(parsed, model) : [], pending };
  }

  settled(parsed: ParsedDocument, uri: string): Promise<DocumentModel | undefined> {
    return settledModel(this.resolver, this.referencesOf(parsed, uri));
  }

  /** The resolved model's view, once it is resolved (none before). */
  view(parsed: ParsedDocument, uri: string): ModelView | undefined {
    const found = currentModel(this.resolver, this.referencesOf(parsed, uri)).model;
    return found?.state.status === 'ready' ? modelView(found.state.model) : undefined;
  }

  /** Estimates per config site (or why there is none), once the model is resolved (none before); a job file's for the CPU engine it runs on. */
  estimates(parsed: ParsedDocument, uri: string): Array<{ site: ConfigSite; estimate: SiteEstimateResult }> {
    const found = currentModel(this.resolver, this.referencesOf(parsed, uri)).model;
    if (found?.state.status !== 'ready') return [];
    const model = found.state.model;
    const settings = this.estimateSettingsOf(parsed);
    const target = parsed.kind === 'job' ? 'cpu' : 'gpu';
    const value = parsed.kind === 'job' ? parsed.documentValue : undefined;
    const job =
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { value: value as JsonObject, file: uri.startsWith('file:') ? fileURLToPath(uri) : undefined }
        : undefined;
    return parsed.sites.flatMap((site) =>
      typeof site.method === 'string' ? [{ site, estimate: estimateSite(site, model, settings, target, job) }] : [],
    );
  }

  /** The deployment targets for this document (a job file's own list, else the setting) and the model's view once resolved. */
  deployment(parsed: ParsedDocument, uri: string): { targets: DeploymentTarget[]; view?: ModelView } {
    const value = parsed.kind === 'job' ? parsed.documentValue : undefined;
    const own = typeof value === 'object' && value !== null ? (value as { deploymentTargets?: unknown }).deploymentTargets : undefined;
    const targets = deploymentTargetsOf(own ?? this.settings.deploymentTargets);
    if (targets.length === 0) return { targets };
    const found = currentModel(this.resolver, this.referencesOf(parsed, uri)).model;
    return found?.state.status === 'ready' ? { targets, view: modelView(found.state.model) } : { targets };
  }

  /** A job file's options.batchSize / contextLength, else the settings. */
  private estimateSettingsOf(parsed: ParsedDocument): EstimateSettings {
    const value = parsed.kind === 'job' ? parsed.documentValue : undefined;
    const options =
      typeof value === 'object' && value !== null
        ? (value as { options?: { batchSize?: unknown; contextLength?: unknown } }).options
        : undefined;
    return {
      batchSize: positive(options?.batchSize, this.settings.batchSize),
      contextLength: positive(options?.contextLength, this.settings.contextLength),
      threads: this.settings.threads > 0 ? this.settings.threads : engineThreads(cpus().length),
    };
  }

  /** The model rules' findings, or one note when the model cannot be resolved. */
  private findingsFor(parsed: ParsedDocument, found: DocumentModel): ServiceFinding[] {
    const { reference, state } = found;
    if (state.status === 'failed') {
      return [
        {
          code: 'model/unresolved',
          severity: 'information',
          message: `Model ${JSON.stringify(reference.ref)} could not be resolved: ${formatModelError(state.error)}. Model-aware checks and the memory estimate are off for this file.`,
          range: reference.range,
        },
      ];
    }
    const findings: ServiceFinding[] = [];
    if (state.stale) {
      findings.push({
        code: 'model/stale',
        severity: 'information',
        message: `Model ${JSON.stringify(reference.ref)}: ${formatModelError(state.stale)}.`,
        range: reference.range,
      });
    }
    const view = modelView(state.model);
    parsed.sites.forEach((site, i) => {
      if (typeof site.method !== 'string') return;
      const bound = modelRules.map((rule) => bindToModel(rule, { view, ownCheckpoint: reference.origin === 'own-folder' }));
      findings.push(...ruleFindings(bound, site, siteLocator(parsed, i)));
    });
    findings.push(...mixedPrecisionBudgetFindings(parsed, view));
    findings.push(...signRoundModelFindings(parsed, view));
    return findings;
  }
}
