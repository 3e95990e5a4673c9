// Rotary position embeddings as transformers 5.23 computes them (modeling_rope_utils.py): the inverse
// frequencies of each RoPE type, the cos/sin scaling some types apply, and the part of the head they rotate.
// The settings arrive parsed from config.json (native/model/runtimeConfig.ts); the arithmetic is fp32, as torch's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quantstudio::runtime {

/** rope_parameters (or the legacy rope_scaling) after defaults: every field a type reads. */
struct RopeSettings {
  std::string type = "default";  // default, linear, dynamic, yarn, longrope, llama3
  double theta = 10000.0;
  int64_t rotaryDim = 0;             // head_dim × partial_rotary_factor (even); the rest of the head is not rotated
  double factor = 1.0;               // linear, dynamic, yarn, llama3; longrope: 0 = max_position / original
  int64_t originalMaxPositions = 0;  // yarn, longrope, llama3
  int64_t maxPositions = 0;          // config.max_position_embeddings
  double lowFreqFactor = 1.0, highFreqFactor = 4.0;                          // llama3
  double attentionFactor = 0.0;                                              // yarn, longrope: 0 = the type's default
  double betaFast = 32.0, betaSlow = 1.0, mscale = 0.0, mscaleAllDim = 0.0;  // yarn
  bool truncate = true;                                                      // yarn
  std::vector<double> shortFactor, longFactor;                               // longrope, rotaryDim / 2 each
};

/** What the forward pass rotates with. */
struct RopeTable {
  int64_t rotaryDim = 0;
  std::vector<float> invFreq;      // rotaryDim / 2
  std::vector<float> invFreqLong;  // longrope: used when a call reaches past longFrom positions
  int64_t longFrom = 0;
  float attentionScaling = 1.0f;  // multiplies cos and sin (yarn, longrope)

  /** The frequencies a forward call whose last position is lastPosition uses (longrope switches on it). */
  const float* FrequenciesFor(int64_t lastPosition) const {
    return !invFreqLong.empty() && lastPosition + 1 > longFrom ? invFreqLong.data() : invFreq.data();
  }
};

/** The table for `settings`, in fp32 whatever the weights' dtype: transformers 5.23's from_pretrained keeps the
 *  inv_freq buffers in fp32 (only an explicit model.to(dtype) rounds them). Throws std::invalid_argument for an
 *  unknown type or a missing field. */
RopeTable BuildRopeTable(const RopeSettings& settings);

}  // namespace quantstudio::runtime
