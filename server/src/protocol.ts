// What the extension and the language server share: the command ids (the server's lenses name them), the
// arguments those lenses pass, and the quantstudio.* settings with their defaults. package.json declares
// the same commands and settings; test/unit/architecture.test.ts keeps the two equal.
import type { SiteEstimate } from './service';

export const COMMANDS = {
  validateWorkspace: 'quantstudio.validateWorkspace',
  showServerLog: 'quantstudio.showServerLog',
  quantize: 'quantstudio.quantize',
  benchmark: 'quantstudio.benchmark',
  generate: 'quantstudio.generate',
  perplexity: 'quantstudio.perplexity',
  showEstimate: 'quantstudio.showEstimate',
  openRun: 'quantstudio.openRun',
  compareRuns: 'quantstudio.compareRuns',
  exportRun: 'quantstudio.exportRun',
  setHubToken: 'quantstudio.setHubToken',
  setServingApiKey: 'quantstudio.setServingApiKey',
  checkpointDoctor: 'quantstudio.checkpointDoctor',
  recommendQuantization: 'quantstudio.recommendQuantization',
  refreshRuns: 'quantstudio.refreshRuns',
  // the Runs view's item actions (hidden from the palette; the tree item is the argument)
  runsOpen: 'quantstudio.runs.open',
  runsCompareWith: 'quantstudio.runs.compareWith',
  runsExport: 'quantstudio.runs.export',
  runsDelete: 'quantstudio.runs.delete',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

/** The estimate lens's argument (COMMANDS.showEstimate): the whole estimate, so the client need not ask again. */
export type ShowEstimateArgs = SiteEstimate;

/** A job file's lens argument (quantize, benchmark, generate): the file; generate also gets the job's model folder. */
export interface JobLensArgs {
  uri: string;
  model?: string;
}

export const SETTINGS_SECTION = 'quantstudio';

/** The quantstudio.* settings (package.json's contributes.configuration), as one typed object. */
export interface QuantStudioSettings {
  validation: { enable: boolean; debounceMs: number };
  model: string;
  /** `endpoint` and `tokenEndpoints` are read from the user's settings only (client/src/extension/settings.ts). */
  hub: { endpoint: string; tokenEndpoints: string[] };
  estimate: { batchSize: number; contextLength: number };
  /** kvCache and lmHead: the engine's run options in generate, perplexity and benchmark runs (native/model/runOptions.ts);
   *  adapter: a PEFT LoRA adapter folder applied in those runs ('' for none). */
  engine: { threads: number; kvCache: 'fp32' | 'fp16'; lmHead: 'stored' | 'int8'; adapter: string };
  /** The python backend's interpreter; read from the user's settings only (a workspace must not choose what runs). */
  python: string;
  runsFolder: string;
  benchmark: { batchSizes: number[] };
  generate: GenerateSettings;
  /** Where checkpoints will be served: vllm, tgi, transformers, gptqmodel, llama.cpp, quantstudio (none by default). */
  deploymentTargets: string[];
}

export interface GenerateSettings {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  seed: number;
  /** What runs Generate…: the engine, or transformers in the python backend's interpreter. */
  backend: 'engine' | 'python';
}

export const DEFAULT_SETTINGS: Readonly<QuantStudioSettings> = Object.freeze({
  validation: { enable: true, debounceMs: 150 },
  model: '',
  hub: { endpoint: 'https://huggingface.co', tokenEndpoints: [] },
  estimate: { batchSize: 1, contextLength: 2048 },
  engine: { threads: 0, kvCache: 'fp32' as const, lmHead: 'stored' as const, adapter: '' },
  python: '',
  runsFolder: '.quantstudio/runs',
  benchmark: { batchSizes: [1, 16] },
  generate: { maxTokens: 64, temperature: 0, topK: 0, topP: 1, seed: 0, backend: 'engine' as const },
  deploymentTargets: [],
});

/** Settings that vscode-languageclient reads itself, so they are not in QuantStudioSettings: key → default. */
export const LIBRARY_SETTINGS: Readonly<Record<string, unknown>> = Object.freeze({ 'trace.server': 'off' });
