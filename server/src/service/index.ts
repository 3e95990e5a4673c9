// The transport-agnostic language service: document in → diagnostics, completions, hovers, code actions,
// symbols and code lenses out. The LSP server, the CLI and the tests all call this.
//
//   document → file kind (by name) → parse with positions → ConfigSites → ajv schema validation
//            → semantic rules → LSP diagnostics; features read the same parse and the same schemas.
//   With `models` set, the target model (modelAware/) adds model-aware rules and the memory estimate
//   (lens, hover) from what is already resolved; resolution itself runs in the background.
import type { CodeAction, CodeLens, CompletionItem, Diagnostic, DocumentSymbol, Hover, Position, Range } from 'vscode-languageserver-types';
import { complete } from './features/completion';
import { codeActions } from './features/codeActions';
import { deploymentMarkdown } from './features/deployHover';
import { hover } from './features/hover';
import { dynamicHover } from './features/dynamicHover';
import { pythonBackendMarkdown } from './features/pythonBackendHover';
import { symbols } from './features/symbols';
import { codeLenses, estimateAnchor, jobCommandLenses } from './features/codeLens';
import { estimateMarkdown } from './features/estimateHover';
import type { DocumentModel } from './modelAware/documentModel';
import { DEFAULT_MODEL_SETTINGS, ModelAwareness } from './modelAware/modelAwareness';
import type { ModelSettings } from './modelAware/modelAwareness';
import { fileKindOf, mayHoldConfig } from './fileKind';
import type { ServiceFinding } from './finding';
import { humanBytes } from '../../../native/model';
import type { ConfigSite, FileKind } from './model';
import type { ParsedDocument } from './parse/document';
import { parseJsonDocument } from './parse/json';
import { MAX_DOCUMENT_FINDINGS, maxLength } from './parse/limits';
import { parsePythonDocument } from './parse/python';
import { loadPythonParser } from './parse/treeSitter';
import { ruleFindings, siteLocator } from './ruleRunner';
import { allRules } from './rules';
import { deploymentRule } from './rules/deploy';
import type { Fix, Rule, Severity } from './rules/rule';
import { schemaFindings } from './schema/validate';
import { SchemaStore } from './schema/store';
import { containsPosition } from './text';

export interface TextDocumentInput {
  uri: string;
  text: string;
  version?: number;
}

/** An LSP Diagnostic as the service produces it: a plain-text message, a string code, fixes in data. */
export interface ServiceDiagnostic extends Diagnostic {
  severity: 1 | 2 | 3 | 4;
  code: string;
  source: 'quantstudio';
  message: string;
  data?: { fixes: Fix[] };
}

export interface LanguageServiceOptions {
  /** Folder holding the *.schema.json files (default: the installed schemas/). */
  schemasDir?: string;
  /** Semantic rules to run (default: all of rules/index.ts). */
  rules?: readonly Rule[];
  /**
   * Model-aware checks and estimates, with these settings (missing ones: no fallback model, batch 1,
   * context 2048). Off when absent: resolving a model may read large folders or ask the Hub.
   */
  models?: Partial<ModelSettings>;
}

/** What the CLI needs to know besides the diagnostics: is this file a quantization config at all? */
export interface Analysis {
  fileKind: FileKind | undefined;
  /** False for files that are not quantization configs (config.json without quantization_config, a .py without config calls). */
  ours: boolean;
  sites: ConfigSite[];
  diagnostics: ServiceDiagnostic[];
  /** Set while the target model is still resolving: true when it settles with something to report (then diagnose again). */
  modelPending?: Promise<boolean>;
}

export interface LanguageService {
  diagnose(doc: TextDocumentInput): Promise<ServiceDiagnostic[]>;
  analyze(doc: TextDocumentInput): Promise<Analysis>;
  complete(doc: TextDocumentInput, position: Position): Promise<CompletionItem[]>;
  hover(doc: TextDocumentInput, position: Position): Promise<Hover | null>;
  codeActions(doc: TextDocumentInput, range: Range, diagnostics: readonly Diagnostic[]): Promise<CodeAction[]>;
  symbols(doc: TextDocumentInput): Promise<DocumentSymbol[]>;
  /** One lens per config site with the memory estimate, once the target model is resolved; job files add their command lenses. */
  codeLenses(doc: TextDocumentInput): Promise<CodeLens[]>;
  /** Waits until the document's target model is resolved (or known to be missing). */
  resolveModel(doc: TextDocumentInput): Promise<DocumentModel | undefined>;
  /** New settings (turns model-aware checks on); changed Hub settings forget resolved Hub models. */
  configureModels(settings: Partial<ModelSettings>): void;
}

const SEVERITY: Readonly<Record<Severity, 1 | 2 | 3 | 4>> = { error: 1, warning: 2, information: 3, hint: 4 };

/** Methods transformers knows but we do not check: a note, never an error. */
function unvalidatedMethodFinding(site: ConfigSite): ServiceFinding | undefined {
  if (typeof site.method === 'string') return undefined;
  const entry = site.entries.find((e) => e.key === 'quant_method');
  if (site.method.other === '' && !entry) {
    if (site.fileKind !== 'model-config') return undefined; // job files: the schema requires quant_method
    return {
      code: 'config/missing-quant-method',
      severity: 'error',
      message:
        'quantization_config has no "quant_method": transformers 5.23 AutoQuantizationConfig.from_dict raises ValueError. Add "quant_method": "gptq", "awq" or "bitsandbytes" (or the method the checkpoint was made with).',
      range: site.anchorRange,
    };
  }
  return {
    code: 'config/unvalidated-method',
    severity: 'information',
    message: `quant_method ${JSON.stringify(site.method.other)} is not checked by QuantStudio (it validates gptq, awq and bitsandbytes configs); the config is left as it is.`,
    range: entry?.valueRange ?? site.anchorRange,
  };
}

function toDiagnostic(finding: ServiceFinding): ServiceDiagnostic {
  const diagnostic: ServiceDiagnostic = {
    range: finding.range,
    severity: SEVERITY[finding.severity],
    code: finding.code,
    source: 'quantstudio',
    message: finding.message,
  };
  if (finding.fixes && finding.fixes.length > 0) diagnostic.data = { fixes: finding.fixes };
  return diagnostic;
}

/** At most MAX_DOCUMENT_FINDINGS, by position, then one note that says how many more there are. */
function capped(diagnostics: ServiceDiagnostic[]): ServiceDiagnostic[] {
  if (diagnostics.length <= MAX_DOCUMENT_FINDINGS) return diagnostics;
  const kept = diagnostics.slice(0, MAX_DOCUMENT_FINDINGS);
  const at = kept[kept.length - 1].range;
  const more = diagnostics.length - kept.length;
  const message = `${more} more findings in this file are not shown (at most ${MAX_DOCUMENT_FINDINGS} per file); fix the ones above first.`;
  kept.push(toDiagnostic({ code: 'document/too-many-findings', severity: 'information', message, range: at }));
  return kept;
}

function byPosition(a: ServiceDiagnostic, b: ServiceDiagnostic): number {
  return a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character || a.severity - b.severity;
}

const CACHE_SIZE = 32;

function tooLarge(kind: FileKind, text: string): boolean {
  return text.length > maxLength(kind === 'python' ? 'python' : 'json');
}

export function createLanguageService(options: LanguageServiceOptions = {}): LanguageService {
  const store = new SchemaStore(options.schemasDir);
  const rules = options.rules ?? allRules;
  // The last parse of each document, so that completion/hover/actions after a diagnose cost nothing.
  const cache = new Map<string, { text: string; parsed: Promise<ParsedDocument | undefined> }>();
  let models = options.models ? new ModelAwareness({ ...DEFAULT_MODEL_SETTINGS, ...options.models }) : undefined;

  async function parseUncached(doc: TextDocumentInput, kind: FileKind): Promise<ParsedDocument> {
    if (kind === 'python') return parsePythonDocument(doc.text, await loadPythonParser());
    return parseJsonDocument(doc.text, kind);
  }

  function parse(doc: TextDocumentInput): Promise<ParsedDocument | undefined> {
    const cached = cache.get(doc.uri);
    if (cached && cached.text === doc.text) return cached.parsed;
    const kind = fileKindOf(doc.uri);
    // Most Python files hold no config call at all: they are not parsed.
    const skip = kind === undefined || tooLarge(kind, doc.text) || (kind === 'python' && !mayHoldConfig(kind, doc.text));
    const parsed = skip ? Promise.resolve(undefined) : parseUncached(doc, kind);
    cache.delete(doc.uri);
    cache.set(doc.uri, { text: doc.text, parsed });
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return parsed;
  }

  async function analyze(doc: TextDocumentInput): Promise<Analysis> {
    const fileKind = fileKindOf(doc.uri);
    if (fileKind === undefined) return { fileKind, ours: false, sites: [], diagnostics: [] };
    if (tooLarge(fileKind, doc.text)) {
      if (!mayHoldConfig(fileKind, doc.text)) return { fileKind, ours: false, sites: [], diagnostics: [] };
      const start = { line: 0, character: 0 };
      const limit = maxLength(fileKind === 'python' ? 'python' : 'json');
      const note: ServiceFinding = {
        code: 'document/too-large',
        severity: 'information',
        message: `This file is too large to validate (${humanBytes(doc.text.length)} of text; the limit is ${humanBytes(limit)}). A quantization config is a few kilobytes: is this the right file?`,
        range: { start, end: start },
      };
      return { fileKind, ours: true, sites: [], diagnostics: [toDiagnostic(note)] };
    }
    const parsed = await parse(doc);
    if (!parsed || !parsed.ours) return { fileKind, ours: false, sites: [], diagnostics: [] };
    const findings = [...parsed.findings, ...schemaFindings(store, parsed)];
    parsed.sites.forEach((site, i) => {
      const note = unvalidatedMethodFinding(site);
      if (note) findings.push(note);
      else findings.push(...ruleFindings(rules, site, siteLocator(parsed, i)));
    });
    const { findings: fromModel, pending } = models?.findings(parsed, doc.uri) ?? { findings: [] };
    findings.push(...fromModel);
    const deployment = models?.deployment(parsed, doc.uri);
    if (deployment && deployment.targets.length > 0) {
      const rule = deploymentRule(deployment.targets, deployment.view);
      for (const site of parsed.sites) findings.push(...ruleFindings([rule], site));
    }
    const diagnostics = capped(findings.map(toDiagnostic).sort(byPosition));
    return pending
      ? { fileKind, ours: true, sites: parsed.sites, diagnostics, modelPending: pending }
      : { fileKind, ours: true, sites: parsed.sites, diagnostics };
  }

  return {
    analyze,
    async diagnose(doc) {
      return (await analyze(doc)).diagnostics;
    },
    async complete(doc, position) {
      const parsed = await parse(doc);
      return parsed ? complete(store, parsed, position) : [];
    },
    async hover(doc, position) {
      const parsed = await parse(doc);
      if (!parsed?.ours) return null;
      const view = parsed.kind === 'python' ? undefined : models?.view(parsed, doc.uri);
      const onDynamicKey = view ? dynamicHover(parsed, view, position) : null;
      if (onDynamicKey) return onDynamicKey;
      const docs = hover(store, parsed, position);
      const recipe = pythonBackendMarkdown(parsed, position);
      if (recipe) {
        const own = docs && typeof docs.contents === 'object' && 'kind' in docs.contents ? [docs.contents.value] : [];
        return {
          contents: { kind: 'markdown', value: [...own, recipe].join('\n\n---\n\n') },
          ...(docs?.range ? { range: docs.range } : {}),
        };
      }
      const site = parsed.sites.find((s) => containsPosition(estimateAnchor(parsed, s), position));
      if (!site) return docs;
      const here = models?.estimates(parsed, doc.uri).find((e) => e.site === site);
      const deployment = models?.deployment(parsed, doc.uri);
      const extra = [
        here ? estimateMarkdown(here.estimate).value : undefined,
        deployment ? deploymentMarkdown(site, deployment.targets, deployment.view) : undefined,
      ].filter((v): v is string => v !== undefined);
      if (extra.length === 0) return docs;
      const before = docs && typeof docs.contents === 'object' && 'kind' in docs.contents ? [docs.contents.value] : [];
      return { contents: { kind: 'markdown', value: [...before, ...extra].join('\n\n---\n\n') }, range: estimateAnchor(parsed, site) };
    },
    async codeActions(doc, range, diagnostics) {
      const parsed = await parse(doc);
      return parsed?.ours ? codeActions(parsed, doc.uri, range, diagnostics) : [];
    },
    async symbols(doc) {
      const parsed = await parse(doc);
      return parsed?.ours ? symbols(parsed) : [];
    },
    async codeLenses(doc) {
      const parsed = await parse(doc);
      if (!parsed?.ours) return [];
      return [...(models ? codeLenses(parsed, models.estimates(parsed, doc.uri)) : []), ...jobCommandLenses(parsed, doc.uri)];
    },
    async resolveModel(doc) {
      const parsed = await parse(doc);
      return parsed?.ours && models ? models.settled(parsed, doc.uri) : undefined;
    },
    configureModels(settings) {
      if (models) models.configure(settings);
      else models = new ModelAwareness({ ...DEFAULT_MODEL_SETTINGS, ...settings });
    },
  };
}

export type { ConfigSite, FileKind } from './model';
export type { Fix } from './rules/rule';
export { fileKindOf } from './fileKind';
export type { NoEstimate, SiteEstimate, SiteEstimateResult } from './modelAware/estimateFor';
export { hasEstimate } from './modelAware/estimateFor';
export type { HubSettings } from './modelAware/resolver';
// the public Hub and a Hub token with the one endpoint it may be sent to (the LSP glue reads them from settings)
export { DEFAULT_ENDPOINT } from '../../../native/model';
export type { TokenGrant } from '../../../native/model';
export type { ModelSettings } from './modelAware/modelAwareness';
