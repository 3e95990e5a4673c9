// compressed-tensors "pack-quantized" weights (core/ct_packed.h: layout and dequantization) read in place by the
// fused kernels.
#pragma once

#include <cstdint>
#include <memory>

#include "core/ct_packed.h"
#include "kernels/qmatmul.h"

namespace quantstudio::kernels {

std::unique_ptr<QuantMatrix> MakeCtPackedMatrix(const CtPacked& packed);

}  // namespace quantstudio::kernels
