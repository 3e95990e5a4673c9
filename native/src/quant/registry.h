// Quantizers by name, so a job picks one from its config ("rtn", "nf4", "fp4", "int8").
// Calibration-based methods (GPTQ, AWQ) take activations as well and are driven by the pipeline.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "quant/bnb4.h"
#include "quant/group_quant.h"
#include "quant/int8.h"
#include "quant/job.h"

namespace quantstudio::quant {

/** Every option any registered quantizer reads; each reads only its own. */
struct QuantOptions {
  int bits = 4;              // rtn
  int64_t groupSize = 128;   // rtn
  bool sym = true;           // rtn
  int64_t blocksize = 64;    // nf4, fp4
  bool doubleQuant = false;  // nf4, fp4
  float threshold = 6.0f;    // int8
};

using QuantResult = std::variant<GroupQuantized, Bnb4Quantized, Int8Quantized>;
using QuantizerFn = QuantResult (*)(const WeightMatrix&, const QuantOptions&, const JobContext&);

/** nullptr when no quantizer has that name. */
QuantizerFn FindQuantizer(const std::string& name);
std::vector<std::string> QuantizerNames();

}  // namespace quantstudio::quant
