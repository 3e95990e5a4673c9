// Writes the quantized checkpoint into the output's temp folder: the weights (the source tensors with the
// pipeline's edits applied; sharded past a size with model.safetensors.index.json), config.json with
// quantization_config, the method's own config file, and the tokenizer / generation files copied.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "io/json.h"
#include "io/output_folder.h"
#include "io/safetensors.h"
#include "pipeline/layer_step.h"

namespace quantstudio::pipeline {

struct WeightsWriteOptions {
  int64_t maxShardBytes = 0;  // 0: one file
  /** After each tensor; throws to stop (cancellation). */
  std::function<void(int64_t done, int64_t total)> afterTensor;
};

void WriteWeights(const io::OutputFolder& folder, const io::ModelWeights& source, const TensorEdits& edits,
                  const WeightsWriteOptions& options);

/** config.json = the source config with `quantization_config` set; plus `sideFile` (name → JSON) when given. */
void WriteConfigs(const io::OutputFolder& folder, const std::string& sourceConfigJson,
                  const json::Value& quantizationConfig, const std::string& sideFileName, const json::Value* sideFile);

/** Copies the tokenizer and generation files the source folder has. */
void CopyModelFiles(const io::OutputFolder& folder, const std::string& source);

/** Total bytes of the files in a folder. */
int64_t FolderBytes(const std::string& path);

}  // namespace quantstudio::pipeline
