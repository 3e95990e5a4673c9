// Model inspection without the native engine: resolve a model (local folder, HF cache, Hub), read its
// safetensors headers, estimate memory per quantization method. Safe to load in the language server.
export * from './types';
export * from './errors';
export { resolveModel } from './resolve';
export type { ResolveOptions, ModelResolution } from './resolve';
export { AnswerCache } from './answerCache';
export { DEFAULT_ENDPOINT, canCarryToken, environmentGrant, isDefaultEndpoint, isLoopback, normalizeEndpoint, tokenFor } from './tokenGrant';
export type { TokenGrant } from './tokenGrant';
export { readLocalModel } from './localFolder';
export { readLocalHeader, parseHeader, MAX_HEADER_BYTES } from './safetensorsHeader';
export { defaultHubCacheDir, findCachedSnapshot, repoFolderName } from './hfCache';
export { architectureOf } from './architecture';
export type { Architecture } from './architecture';
export { quantSettingsOf, describeSettings } from './quantSettings';
export type { QuantSettings } from './quantSettings';
export { quantizedLinearLayout, bnbQuantStateBytes } from './quantizedLayout';
export { isQuantizableLinear, isSkipped, moduleOf } from './weightLayout';
export { estimateMemory, estimateWithSettings, compareMethods, kvCacheBytes, activationBytes, COMPARED_METHODS } from './estimate';
export type { EstimateOptions, MemoryEstimate, BreakdownLine } from './estimate';
export { estimateCpuMemory, estimateCpuWithSettings, cpuActivationBytes, cpuKvCacheBytes } from './estimateCpu';
export type { CpuEstimateOptions } from './estimateCpu';
export { CPU_ENGINE_CONSTANTS } from './cpuEngineConstants';
export type { CpuEngineConstants } from './cpuEngineConstants';
