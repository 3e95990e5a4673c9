#include "quant/awq.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "quant/hessian.h"

namespace quantstudio::quant {
namespace {

struct GroupGrid {
  float scale;
  int32_t zero;  // code of 0.0
  int32_t maxCode;
};

// AutoAWQ's pseudo_quantize_tensor rule for one group. With a zero point the range is [min, max]
// (not forced to include 0, unlike GPTQ); without, ±max|w| on a signed grid stored offset by 2^(b−1).
GroupGrid FindAwqGrid(const float* w, int64_t n, int bits, bool zeroPoint) {
  GroupGrid grid;
  if (zeroPoint) {
    float lo = w[0];
    float hi = w[0];
    for (int64_t i = 1; i < n; ++i) {
      lo = std::min(lo, w[i]);
      hi = std::max(hi, w[i]);
    }
    const int32_t maxInt = (1 << bits) - 1;
    grid.scale = std::max(hi - lo, 1e-5f) / static_cast<float>(maxInt);
    const float zero = -std::nearbyint(lo / grid.scale);
    grid.zero = static_cast<int32_t>(std::min(std::max(zero, 0.0f), static_cast<float>(maxInt)));
    grid.maxCode = maxInt;
  } else {
    float hi = 0.0f;
    for (int64_t i = 0; i < n; ++i) hi = std::max(hi, std::fabs(w[i]));
    const int32_t maxInt = (1 << (bits - 1)) - 1;
    grid.scale = std::max(hi, 1e-5f) / static_cast<float>(maxInt);
    grid.zero = 1 << (bits - 1);
    grid.maxCode = (1 << bits) - 1;
  }
  return grid;
}

inline int32_t AwqCode(float w, const GroupGrid& grid) {
  const float q = std::nearbyint(w / grid.scale) + static_cast<float>(grid.zero);
  return static_cast<int32_t>(std::min(std::max(q, 0.0f), static_cast<float>(grid.maxCode)));
}

inline float AwqDequant(int32_t code, const GroupGrid& grid) {
  return static_cast<float>(code - grid.zero) * grid.scale;
}

// Replaces each group of w (one row) by its fake-quantized values.
void FakeQuantizeRow(float* w, int64_t cols, int64_t groupSize, const AwqOptions& options) {
  for (int64_t c0 = 0; c0 < cols; c0 += groupSize) {
    const int64_t n = std::min(groupSize, cols - c0);
    const GroupGrid grid = FindAwqGrid(w + c0, n, options.bits, options.zeroPoint);
    for (int64_t i = 0; i < n; ++i) w[c0 + i] = AwqDequant(AwqCode(w[c0 + i], grid), grid);
  }
}

int64_t EffectiveGroupSize(const AwqOptions& options, int64_t cols) {
  return options.groupSize == -1 ? cols : options.groupSize;
}

// Σ over rows of d·(H·d) for d = w − candidate ([rows × cols], overwritten by d), H = gram [cols × cols] fp32 and
// symmetric: H·d is the engine's GEMM (d·Hᵀ), in row blocks so its output stays kGramRowBlock rows large.
double GramQuadraticError(const float* w, std::vector<float>& candidate, int64_t rows, int64_t cols,
                          const std::vector<float>& gram) {
  constexpr int64_t kGramRowBlock = 128;
  for (size_t i = 0; i < candidate.size(); ++i) candidate[i] = w[i] - candidate[i];
  std::vector<float> product(static_cast<size_t>(std::min(rows, kGramRowBlock) * cols));
  double total = 0.0;
  for (int64_t r0 = 0; r0 < rows; r0 += kGramRowBlock) {
    const int64_t count = std::min(kGramRowBlock, rows - r0);
    const float* d = &candidate[r0 * cols];
    kernels::MatMul(d, count, kernels::MatrixRef{DType::F32, gram.data(), cols, cols}, nullptr, product.data());
    for (int64_t i = 0; i < count * cols; ++i) total += static_cast<double>(d[i]) * product[i];
  }
  return total;
}

// x·wᵀ on the engine's GEMM: y [tokens × rows].
void Outputs(const float* x, int64_t tokens, const float* w, int64_t rows, int64_t cols, std::vector<float>& y) {
  y.resize(static_cast<size_t>(tokens * rows));
  kernels::MatMul(x, tokens, kernels::MatrixRef{DType::F32, w, rows, cols}, nullptr, y.data());
}

}  // namespace

std::string ValidateAwqOptions(const AwqOptions& options, int64_t cols) {
  if (options.bits < 2 || options.bits > 8)
    return "AWQ bits must be between 2 and 8 (got " + std::to_string(options.bits) + ")";
  if (options.groupSize != -1 && options.groupSize <= 0)
    return "group_size must be -1 or a positive column count (got " + std::to_string(options.groupSize) + ")";
  if (options.groupSize > 0 && cols % options.groupSize != 0)
    return "in_features " + std::to_string(cols) + " is not a multiple of group_size " +
           std::to_string(options.groupSize) + "; AWQ needs whole groups: pick a group_size that divides it";
  if (options.scaleGrid < 1) return "the AWQ scale grid needs at least one point";
  if (options.clipGrid < 1 || !(options.clipMaxShrink >= 0.0 && options.clipMaxShrink < 1.0))
    return "the AWQ clip search needs clipGrid >= 1 and clipMaxShrink in [0, 1)";
  if (options.clipSampleTokens < 1) return "the AWQ clip search needs at least one sample token";
  return "";
}

bool UseAwqGram(int64_t tokens, int64_t rows, int64_t cols, int scaleGrid) {
  const double gram =
      static_cast<double>(cols) * static_cast<double>(cols) * (tokens + scaleGrid * static_cast<double>(rows));
  const double outputs = (scaleGrid + 1.0) * static_cast<double>(tokens) * rows * cols;
  return gram < outputs;
}

GroupQuantized PseudoQuantizeAwq(const float* w, int64_t rows, int64_t cols, const AwqOptions& options) {
  const int64_t groupSize = EffectiveGroupSize(options, cols);
  GroupQuantized out;
  out.rows = rows;
  out.cols = cols;
  out.bits = options.bits;
  out.groupSize = groupSize;
  const int64_t groups = out.numGroups();
  out.q.resize(static_cast<size_t>(rows * cols));
  out.scales.resize(static_cast<size_t>(groups * rows));
  out.zeros.resize(static_cast<size_t>(groups * rows));
  out.gIdx.resize(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) out.gIdx[c] = static_cast<int32_t>(c / groupSize);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t c0 = g * groupSize;
      const int64_t n = std::min(groupSize, cols - c0);
      const GroupGrid grid = FindAwqGrid(w + r * cols + c0, n, options.bits, options.zeroPoint);
      out.scales[g * rows + r] = grid.scale;
      out.zeros[g * rows + r] = grid.zero;
      for (int64_t i = 0; i < n; ++i)
        out.q[r * cols + c0 + i] = static_cast<uint8_t>(AwqCode(w[r * cols + c0 + i], grid));
    }
  }
  return out;
}

AwqScaleResult SearchAwqScales(const std::vector<AwqLinear>& linears, int64_t cols, const float* x, int64_t tokens,
                               const AwqOptions& options, const AwqOutputLoss& evaluate, const AwqProgress& progress) {
  AwqScaleResult result;
  result.error = ValidateAwqOptions(options, cols);
  if (result.error.empty() && linears.empty()) result.error = "AWQ scale search needs at least one linear";
  if (result.error.empty() && tokens <= 0) result.error = "AWQ scale search needs calibration activations";
  if (!result.error.empty()) return result;
  const int64_t groupSize = EffectiveGroupSize(options, cols);

  // Activation magnitude per input channel: mean |x| over all tokens.
  std::vector<double> xSum(static_cast<size_t>(cols), 0.0);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c = 0; c < cols; ++c) xSum[c] += std::fabs(x[t * cols + c]);
  std::vector<float> xMean(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) xMean[c] = static_cast<float>(xSum[c] / static_cast<double>(tokens));

  // Weight magnitude per input channel: |w| relative to its group's max, averaged over all rows.
  std::vector<double> wSum(static_cast<size_t>(cols), 0.0);
  int64_t totalRows = 0;
  for (const AwqLinear& linear : linears) {
    for (int64_t r = 0; r < linear.rows; ++r) {
      const float* row = linear.weight + r * cols;
      for (int64_t c0 = 0; c0 < cols; c0 += groupSize) {
        float amax = 0.0f;
        for (int64_t i = 0; i < groupSize; ++i) amax = std::max(amax, std::fabs(row[c0 + i]));
        for (int64_t i = 0; i < groupSize; ++i) wSum[c0 + i] += std::fabs(row[c0 + i]) / (amax + 1e-6f);
      }
    }
    totalRows += linear.rows;
  }
  std::vector<float> wMean(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) wMean[c] = static_cast<float>(wSum[c] / static_cast<double>(totalRows));

  // The linear-only output error ‖X(W − Ŵ)ᵀ‖² / numel equals Σ_r d_rᵀ·(XᵀX)·d_r / numel: one Gram matrix up
  // front (tokens·cols²) makes each grid point cost rows·cols² instead of tokens·rows·cols (UseAwqGram).
  const bool useGram = !evaluate && UseAwqGram(tokens, totalRows, cols, options.scaleGrid);
  std::vector<float> gram;
  std::vector<std::vector<float>> fpOutputs(linears.size());
  std::vector<float> candidateOutput;
  if (useGram) {
    HessianAccumulator accumulator(cols);
    accumulator.AddBatch(x, tokens);
    const std::vector<double>& h = accumulator.matrix();  // 2/N·XᵀX
    gram.assign(h.begin(), h.end());
  } else if (!evaluate) {
    for (size_t l = 0; l < linears.size(); ++l)
      Outputs(x, tokens, linears[l].weight, linears[l].rows, cols, fpOutputs[l]);
  }

  std::vector<std::vector<float>> candidates(linears.size());
  std::vector<float> scales(static_cast<size_t>(cols));
  result.lossByRatio.reserve(static_cast<size_t>(options.scaleGrid));
  double bestLoss = INFINITY;
  for (int step = 0; step < options.scaleGrid; ++step) {
    const float ratio = static_cast<float>(step) / static_cast<float>(options.scaleGrid);
    float smax = 0.0f;
    float smin = INFINITY;
    for (int64_t c = 0; c < cols; ++c) {
      float s = options.duoScaling ? std::pow(xMean[c], ratio) / (std::pow(wMean[c], 1.0f - ratio) + 1e-4f)
                                   : std::pow(xMean[c], ratio);
      s = std::max(s, 1e-4f);
      scales[c] = s;
      smax = std::max(smax, s);
      smin = std::min(smin, s);
    }
    const float norm = std::sqrt(smax * smin);
    for (float& s : scales) {
      s /= norm;
      if (!std::isfinite(s)) s = 1.0f;  // overflowing channels stay unscaled
    }
    for (size_t l = 0; l < linears.size(); ++l) {
      const int64_t rows = linears[l].rows;
      std::vector<float>& cand = candidates[l];
      cand.resize(static_cast<size_t>(rows * cols));
      DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 16, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) {
          float* row = &cand[r * cols];
          const float* src = linears[l].weight + static_cast<int64_t>(r) * cols;
          for (int64_t c = 0; c < cols; ++c) row[c] = src[c] * scales[c];
          FakeQuantizeRow(row, cols, groupSize, options);
          for (int64_t c = 0; c < cols; ++c) row[c] /= scales[c];
        }
      });
    }
    double loss = 0.0;
    if (evaluate) {
      loss = evaluate(candidates);
    } else if (!useGram) {
      for (size_t l = 0; l < linears.size(); ++l) {
        Outputs(x, tokens, candidates[l].data(), linears[l].rows, cols, candidateOutput);
        for (size_t i = 0; i < candidateOutput.size(); ++i) {
          const double d = static_cast<double>(fpOutputs[l][i]) - static_cast<double>(candidateOutput[i]);
          loss += d * d;
        }
      }
      loss /= static_cast<double>(tokens * totalRows);
    } else {
      for (size_t l = 0; l < linears.size(); ++l)
        loss += GramQuadraticError(linears[l].weight, candidates[l], linears[l].rows, cols, gram);
      loss /= 2.0 * static_cast<double>(totalRows);  // gram holds 2/N·XᵀX
    }
    result.lossByRatio.push_back(loss);
    if (loss < bestLoss) {
      bestLoss = loss;
      result.bestRatio = static_cast<double>(step) / options.scaleGrid;
      result.scales = scales;
    }
    if (progress && !progress(step + 1, options.scaleGrid)) {
      result.cancelled = true;
      result.error = "cancelled";
      return result;
    }
  }
  if (result.scales.empty()) {
    result.error = "every AWQ grid point gave a non-finite output error; check the calibration activations for inf/NaN";
    return result;
  }
  result.bestLoss = bestLoss;
  result.ok = true;
  return result;
}

int64_t AwqClipStride(int64_t tokens, const AwqOptions& options) {
  return std::max<int64_t>(1, tokens / options.clipSampleTokens);
}

std::vector<float> SearchAwqClip(const float* w, int64_t rows, int64_t cols, const float* x, int64_t tokens,
                                 const AwqOptions& options) {
  const int64_t groupSize = EffectiveGroupSize(options, cols);
  const int64_t groups = cols / groupSize;
  const kernels::MatrixRef gramOf{DType::F32, nullptr, groupSize, groupSize};
  // Each group's Gram block G_g = X_gᵀ·X_g (only those are needed), on the engine's GEMM from X_g transposed.
  std::vector<float> gram(static_cast<size_t>(groups * groupSize * groupSize));
  std::vector<float> xt(static_cast<size_t>(groupSize * tokens));
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t t = 0; t < tokens; ++t)
      for (int64_t i = 0; i < groupSize; ++i) xt[i * tokens + t] = x[t * cols + g * groupSize + i];
    kernels::MatMul(xt.data(), groupSize, kernels::MatrixRef{DType::F32, xt.data(), groupSize, tokens}, nullptr,
                    &gram[g * groupSize * groupSize]);
  }
  std::vector<float>().swap(xt);
  // Per group and shrink step, every row's rounding error d at once: its error dᵀ·G·d is d·(d·G) with d·G one GEMM.
  const int shrinkSteps = static_cast<int>(options.clipMaxShrink * options.clipGrid);
  std::vector<float> best(static_cast<size_t>(rows * groups));
  std::vector<float> orgMax(static_cast<size_t>(rows)), diff(static_cast<size_t>(rows * groupSize));
  std::vector<float> product(diff.size());
  std::vector<double> minErr(static_cast<size_t>(rows));
  for (int64_t g = 0; g < groups; ++g) {
    DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 64, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        const float* wg = w + static_cast<int64_t>(r) * cols + g * groupSize;
        float m = 0.0f;
        for (int64_t i = 0; i < groupSize; ++i) m = std::max(m, std::fabs(wg[i]));
        orgMax[r] = m;
        best[r * groups + g] = m;
        minErr[r] = 1e9;  // AutoAWQ's starting bound
      }
    });
    kernels::MatrixRef gramBlock = gramOf;
    gramBlock.data = &gram[g * groupSize * groupSize];
    for (int s = 0; s < shrinkSteps; ++s) {
      const float shrink = 1.0f - static_cast<float>(s) / static_cast<float>(options.clipGrid);
      DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 64, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) {
          const float* wg = w + static_cast<int64_t>(r) * cols + g * groupSize;
          float* d = &diff[r * groupSize];
          const float maxVal = orgMax[r] * shrink;
          for (int64_t i = 0; i < groupSize; ++i) d[i] = std::min(std::max(wg[i], -maxVal), maxVal);
          FakeQuantizeRow(d, groupSize, groupSize, options);
          for (int64_t i = 0; i < groupSize; ++i) d[i] -= wg[i];
        }
      });
      kernels::MatMul(diff.data(), rows, gramBlock, nullptr, product.data());  // G is symmetric: d·Gᵀ = d·G
      DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 64, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) {
          double err = 0.0;
          for (int64_t i = 0; i < groupSize; ++i)
            err += static_cast<double>(diff[r * groupSize + i]) * product[r * groupSize + i];
          err /= static_cast<double>(tokens);
          if (err < minErr[r]) {
            minErr[r] = err;
            best[r * groups + g] = orgMax[r] * shrink;
          }
        }
      });
    }
  }
  return best;
}

AwqLinearResult QuantizeAwqLinear(const float* w, int64_t rows, int64_t cols, const std::vector<float>& scales,
                                  const float* x, int64_t tokens, bool clip, const AwqOptions& options) {
  AwqLinearResult result;
  result.error = ValidateAwqOptions(options, cols);
  if (result.error.empty() && static_cast<int64_t>(scales.size()) != cols)
    result.error =
        "AWQ scales have " + std::to_string(scales.size()) + " values; expected in_features = " + std::to_string(cols);
  if (result.error.empty() && clip && tokens <= 0) result.error = "the AWQ clip search needs calibration activations";
  if (!result.error.empty()) return result;
  const int64_t groupSize = EffectiveGroupSize(options, cols);
  std::vector<float> scaled(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) scaled[r * cols + c] = w[r * cols + c] * scales[c];
  if (clip) {
    // The clip search sees what the quantized layer will: scaled weights and inputs divided by s (its sampled
    // rows only: a copy of every row would be the largest buffer of a real layer's step).
    const int64_t stride = AwqClipStride(tokens, options), sampled = (tokens + stride - 1) / stride;
    std::vector<float> xs(static_cast<size_t>(sampled * cols));
    for (int64_t i = 0; i < sampled; ++i)
      for (int64_t c = 0; c < cols; ++c) xs[i * cols + c] = x[i * stride * cols + c] / scales[c];
    result.clipMax = SearchAwqClip(scaled.data(), rows, cols, xs.data(), sampled, options);
    const int64_t groups = cols / groupSize;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const float m = result.clipMax[r * groups + c / groupSize];
        scaled[r * cols + c] = std::min(std::max(scaled[r * cols + c], -m), m);
      }
  }
  result.quantized = PseudoQuantizeAwq(scaled.data(), rows, cols, options);
  result.ok = true;
  return result;
}

}  // namespace quantstudio::quant
