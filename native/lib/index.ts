// The typed API over the native addon. Importing it can load the addon, so only the job worker (and the
// engine's tests) may: the language server and the extension host have no project reference to it.
export * from './addon';
export * from './awq';
export * from './bundledData';
export * from './calibration';
export * from './formats';
export * from './generate';
export * from './gptq';
export * from './groupQuantized';
export * from './io';
export * from './loraAdapter';
export * from './perplexity';
export * from './quant';
export * from './quantize';
export * from './runtime';
export { readModelConfig } from '../model';
export { ModelConfigError, parseRuntimeConfig, readRuntimeConfig, readRuntimeConfigWithText } from '../model';
export type { KvCacheType, LmHeadType, ModelFamily, RuntimeConfig } from '../model';
export { KV_CACHE_TYPES, LM_HEAD_TYPES } from '../model';
export * from './tokenizer';
// Names two modules share: the pipeline's cancel handle, and the engine's dequantize (the TS one in
// groupQuantized.ts is the tests' reference).
export type { QuantizeControl } from './quantize';
export { dequantize } from './quant';
