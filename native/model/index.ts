// Model inspection without the native engine: resolve a model (local folder, HF cache, Hub), read its
// safetensors headers, estimate memory per quantization method. Safe to load in the language server.
export * from './types';
export * from './errors';
export { resolveModel } from './resolve';
export type { ResolveOptions, ModelResolution } from './resolve';
export { AnswerCache } from './answerCache';
export {
  DEFAULT_ENDPOINT,
  canCarryToken,
  environmentGrant,
  isDefaultEndpoint,
  isLoopback,
  normalizeEndpoint,
  tokenFor,
} from './tokenGrant';
export type { TokenGrant } from './tokenGrant';
export { planFromConfig, QuantizeConfigError } from './pipelinePlan';
export {
  allocateBits,
  budgetRange,
  checkBudget,
  decoderLayersOf,
  layerDynamicKey,
  mixedPrecisionDefaults,
  mixedPrecisionWidths,
} from './bitsAllocation';
export type { BitsAllocation, LayerChoice, MixedPrecisionOptions, WidthSensitivity } from './bitsAllocation';
export { checkSignRound, checkSignRoundModel, resolveSignRound, signRoundDefaults, signRoundUnsupported } from './signRound';
export type { SignRoundOptions, SignRoundPlan } from './signRound';
export type { CalibrationDataset, PipelinePlan, QuantAlgorithm } from './pipelinePlan';
export { dynamicPlan } from './gptqDynamicPlan';
export { COMPRESSED_TENSORS, pythonBackendRecipe, recipeSource } from './pythonBackendRecipe';
export type { LibraryCall, PythonBackendRecipe } from './pythonBackendRecipe';
export type { DynamicPlan, DynamicPlanRule } from './gptqDynamicPlan';
export { apiBase, grantedKey, SERVING_ENDPOINT_ENV, SERVING_KEY_ENV, servingGrant, servingKeyFor } from './servingKey';
export { isRunning } from './leftovers';
export { readLocalModel } from './localFolder';
export { notRegularFile, otherThanFile } from './fileKind';
export { readLocalHeader, parseHeader, MAX_HEADER_BYTES } from './safetensorsHeader';
export { defaultHubCacheDir, findCachedSnapshot, repoFolderName } from './hfCache';
export { architectureOf } from './architecture';
export type { Architecture } from './architecture';
export { quantSettingsOf, quantSettingsRead, describeSettings, gptqModuleSettings } from './quantSettings';
export {
  compileDynamicPattern,
  dynamicRuleFor,
  dynamicRules,
  ENGINE_DYNAMIC_KEYS,
  GPTQ_DYNAMIC_KEYS,
  dynamicRuleMatches,
} from './gptqDynamic';
export type { CompiledPattern, DynamicRule } from './gptqDynamic';
export { THREADS_ENV, engineThreads } from './engineThreads';
export { KV_CACHE_TYPES, LM_HEAD_TYPES, kvCacheElementBytes } from './runOptions';
export type { KvCacheType, LmHeadType } from './runOptions';
export type { QuantSettings } from './quantSettings';
export { quantizedLinearLayout, bnbQuantStateBytes } from './quantizedLayout';
export { CHECKPOINT_LAYOUTS, checkpointLayout, isWritten, layoutOfSettings } from './checkpointLayouts';
export type { CheckpointLayout, CheckpointLayoutTensor, LayoutFeed, LayoutName } from './checkpointLayouts';
export { isQuantizableLinear, isSkipped, moduleOf } from './weightLayout';
export { estimateMemory, estimateWithSettings, compareMethods, kvCacheBytes, activationBytes, COMPARED_METHODS } from './estimate';
export type { EstimateOptions, MemoryEstimate, BreakdownLine } from './estimate';
export { estimateCpuMemory, estimateCpuWithSettings, cpuActivationBytes, cpuKvCacheBytes } from './estimateCpu';
export type { CpuEstimateOptions } from './estimateCpu';
export { estimateCpuQuantize } from './estimateCpuQuantize';
export type { CpuQuantizeOptions } from './estimateCpuQuantize';
export { CPU_ENGINE_CONSTANTS } from './cpuEngineConstants';
export type { CpuEngineConstants } from './cpuEngineConstants';
export { parseHubRef } from './hubRef';
export type { HubRef } from './hubRef';
export { ensureSnapshot } from './download';
export type { DownloadProgress, Snapshot, SnapshotOptions } from './download';
export { isJobFile, missingSnapshotFiles } from './snapshotFiles';
export { contextLabel, humanBytes, inMiB, MIB } from './units';
export { AUTOGPTQ_DEFAULTS, QUANT_DEFAULTS, quantizationConfigOf } from './quantConfig';
export { CONFIG_FILE, parseJsonObject, readModelConfig } from './modelConfig';
export { ModelConfigError, parseRuntimeConfig, readRuntimeConfig, readRuntimeConfigWithText } from './runtimeConfig';
export type { ModelFamily, RuntimeConfig } from './runtimeConfig';
export { ROPE_TYPES } from './ropeConfig';
export type { RopeSettings, RopeType } from './ropeConfig';
export { GPTQ_KERNEL_SHAPES } from './gptqKernels';
export type { GptqKernelShape, KernelSettings } from './gptqKernels';
export { doctorFolder, correctedConfigs, writeCorrectedConfigs } from './doctor';
export type { DoctorFinding, DoctorReport, TargetVerdict } from './doctor';
export { formatDoctorReport } from './doctorText';
export { DEPLOYMENT_TARGETS, TARGET_TABLES, deploymentTargetsOf, isDeploymentTarget, kernelsPerGroup, layerGroupOf } from './deployTargets';
export type {
  DeploymentTarget,
  DeploySettings,
  KernelChoice,
  KernelPath,
  LayerGroupKernel,
  LinearDims,
  TargetTable,
  DeployCause,
} from './deployTargets';
export { deploySettingsOf } from './deploySettings';
export { estimateQuantizeTime, quantizeTime, quantizeWork } from './estimateQuantizeTime';
export { AWQ_SEARCH, addAwqLayerSearch, useAwqGram } from './awqSearchWork';
export type { AwqCalibration, AwqLayerShape, AwqLinearShape, AwqRouting } from './awqSearchWork';
export type { PhaseTime, QuantizeTime, QuantizeTimeOptions, QuantizeWork } from './estimateQuantizeTime';
export { QUANTIZE_SPEED } from './quantizeSpeed';
export type { QuantizeSpeed } from './quantizeSpeed';
export {
  calibrationDefaults,
  estimateQuantizeJob,
  humanSeconds,
  quantizeAlgorithm,
  quantizeJobOptions,
  quantizeJobSummary,
  WIKITEXT2_VALID_BYTES,
} from './quantizeJobEstimate';
export type { QuantizeJobEstimate, QuantizeJobFields } from './quantizeJobEstimate';
export { availableMemory, MEMORY_AVAILABLE_ENV, MEMORY_CHECK_ENV, memoryFit } from './memoryFit';
export type { AvailableMemory, MemoryFit } from './memoryFit';
export { calibrationTextBytes, predictQuantizeJob } from './predictQuantizeJob';
export { QUALITY_TABLE, baselinePerplexity, perplexityDeltaPercent, qualityTableMarkdown } from './quantQuality';
export type { QualityRow, QualityTable } from './quantQuality';
export { DEVICES, THIS_MACHINE, deviceById, parseBudget } from './advisorDevices';
export type { Device } from './advisorDevices';
export { advise, DEFAULT_ADVICE_SEQ, QUALITY_TIE_PERCENT, signedFigure } from './advisor';
export type { Advice, AdviceRequest } from './advisor';
export { LoraConfigError, loraModuleScale, loraTensorModule, parseLoraConfig, patternKey } from './loraConfig';
export type { AdapterRecord, LoraConfig, LoraModuleScale } from './loraConfig';
