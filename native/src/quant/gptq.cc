#include "quant/gptq.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/thread_pool.h"
#include "quant/linalg.h"
#include "quant/rtn.h"

namespace quantstudio::quant {
namespace {

// One row's quantization grid, with GPTQ's min/max rule (quantizer.py find_params): the range always
// includes 0; symmetric widens it to ±max|x| and fixes the zero point at (maxq + 1) / 2.
struct RowGrid {
  float scale;
  float zero;
};

// Round half to even (torch.round), then clamp to the code range.
inline float QuantizeCode(float w, const RowGrid& grid, int maxq) {
  const float q = std::nearbyint(w / grid.scale) + grid.zero;
  return std::min(std::max(q, 0.0f), static_cast<float>(maxq));
}

// GPTQModel 7.7's range search (quantizer.py find_params with mse > 0): shrink the range by p = 1 − i/100 for
// i < 80 and keep the grid with the least Σ|q(x) − x|^norm; 2-bit asymmetric grids also try the other integer
// next to the ideal zero point.
constexpr int kMseGrid = 100;
constexpr double kMseMaxShrink = 0.8;

double GridError(const float* x, int64_t count, const RowGrid& grid, int maxq, double norm) {
  double err = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    const float dq = grid.scale * (QuantizeCode(x[i], grid, maxq) - grid.zero);
    err += std::pow(std::fabs(static_cast<double>(dq - x[i])), norm);
  }
  return err;
}

RowGrid SearchGrid(const float* x, int64_t count, int maxq, bool sym, float xmin, float xmax, double norm) {
  RowGrid best{(xmax - xmin) / static_cast<float>(maxq), sym ? static_cast<float>((maxq + 1) / 2) : 0.0f};
  if (!sym) best.zero = std::nearbyint(-xmin / best.scale);
  double bestError = std::numeric_limits<double>::infinity();
  const bool adjacentZero = maxq == 3 && !sym;
  for (int i = 0; i < static_cast<int>(kMseMaxShrink * kMseGrid); ++i) {
    const float p = 1.0f - static_cast<float>(i) / static_cast<float>(kMseGrid);
    const float lo = p * xmin, hi = p * xmax;
    const float scale = (hi - lo) / static_cast<float>(maxq);
    const float ideal = -lo / scale;
    const float zero = sym ? static_cast<float>((maxq + 1) / 2) : std::nearbyint(ideal);
    float candidates[2] = {zero, zero};
    if (adjacentZero) {
      const float lower = std::clamp(std::floor(ideal), 0.0f, static_cast<float>(maxq));
      const float upper = std::clamp(std::ceil(ideal), 0.0f, static_cast<float>(maxq));
      candidates[1] = zero == lower ? upper : lower;
    }
    for (int k = 0; k < (adjacentZero ? 2 : 1); ++k) {
      const RowGrid grid{scale, candidates[k]};
      const double err = GridError(x, count, grid, maxq, norm);
      if (err < bestError) {
        bestError = err;
        best = grid;
      }
    }
  }
  return best;
}

RowGrid FindGrid(const float* x, int64_t count, int maxq, bool sym, double mseNorm) {
  float xmin = 0.0f;
  float xmax = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    xmin = std::min(xmin, x[i]);
    xmax = std::max(xmax, x[i]);
  }
  WidenRange(xmin, xmax, sym);
  if (mseNorm > 0.0) return SearchGrid(x, count, maxq, sym, xmin, xmax, mseNorm);
  RowGrid grid;
  grid.scale = (xmax - xmin) / static_cast<float>(maxq);
  grid.zero = sym ? static_cast<float>((maxq + 1) / 2) : std::nearbyint(-xmin / grid.scale);
  return grid;
}

// GPTAQ's correction P = α · triu(D · Uᵀ, 1) · U (GPTQModel 7.7 gptaq.py), with U the upper Cholesky factor of
// H⁻¹ that the error feedback walks: quantizing column i then also moves the columns after it by w_i · P[i, :], so
// the layer is fitted to the full-precision model's outputs rather than to its own drifted inputs' ones. fp32 as
// upstream; strictly upper triangular.
std::vector<float> GptaqCorrection(const std::vector<double>& d, const std::vector<float>& u, int64_t n, double alpha) {
  const std::vector<float> df(d.begin(), d.end());
  std::vector<float> ut(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) ut[j * n + i] = u[i * n + j];
  std::vector<float> negated(static_cast<size_t>(n * n), 0.0f);  // −D · Uᵀ
  linalg::SubtractProduct(df.data(), n, ut.data(), n, negated.data(), n, n, n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) negated[i * n + j] = 0.0f;
  std::vector<float> p(static_cast<size_t>(n * n), 0.0f);  // triu(D · Uᵀ, 1) · U
  linalg::SubtractProduct(negated.data(), n, u.data(), n, p.data(), n, n, n, n);
  for (float& v : p) v *= static_cast<float>(alpha);
  return p;
}

}  // namespace

std::vector<float> RoundToGrid(const float* w, int64_t rows, int64_t cols, const GptqOptions& options) {
  const int maxq = (1 << options.bits) - 1;
  const int64_t groupSize = options.groupSize == -1 ? cols : options.groupSize;
  std::vector<float> out(static_cast<size_t>(rows * cols));
  DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 4, [&](size_t begin, size_t end) {
    for (int64_t r = static_cast<int64_t>(begin); r < static_cast<int64_t>(end); ++r) {
      for (int64_t c0 = 0; c0 < cols; c0 += groupSize) {
        const int64_t n = std::min(groupSize, cols - c0);
        const float* x = w + r * cols + c0;
        const RowGrid grid = FindGrid(x, n, maxq, options.sym, options.mse);
        for (int64_t i = 0; i < n; ++i)
          out[r * cols + c0 + i] = grid.scale * (QuantizeCode(x[i], grid, maxq) - grid.zero);
      }
    }
  });
  return out;
}

std::string ValidateGptqOptions(const GptqOptions& options, int64_t cols) {
  if (options.bits != 2 && options.bits != 3 && options.bits != 4 && options.bits != 8)
    return "bits must be 2, 3, 4 or 8 (got " + std::to_string(options.bits) + ")";
  if (options.groupSize != -1 && options.groupSize <= 0)
    return "group_size must be -1 (per channel) or a positive column count (got " + std::to_string(options.groupSize) +
           ")";
  if (!(options.dampPercent > 0.0 && options.dampPercent < 1.0))
    return "damp_percent must be in (0, 1) (got " + std::to_string(options.dampPercent) + ")";
  if (options.dampAutoIncrement < 0.0) return "damp_auto_increment must be >= 0";
  if (!(options.mse >= 0.0) || !std::isfinite(options.mse)) return "mse must be a norm >= 0 (0: no range search)";
  if (!(options.gptaqAlpha >= 0.0) || !std::isfinite(options.gptaqAlpha)) return "gptaq.alpha must be a number >= 0";
  if (options.blockSize <= 0) return "the lazy-update block size must be positive";
  if (options.staticGroups && options.groupSize == -1)
    return "static_groups needs a group_size (it is meaningless per channel)";
  if (cols <= 0) return "the weight has no input columns";
  return "";
}

GptqResult QuantizeGptq(const float* wIn, int64_t rows, int64_t cols, const std::vector<double>& hIn, int64_t samples,
                        const GptqOptions& options, const GptqProgress& progress,
                        const std::vector<double>* crossMoment) {
  GptqResult result;
  result.error = ValidateGptqOptions(options, cols);
  if (!result.error.empty()) return result;
  if (static_cast<int64_t>(hIn.size()) != cols * cols) {
    result.error = "the Hessian is " + std::to_string(hIn.size()) +
                   " values; expected in_features² = " + std::to_string(cols * cols);
    return result;
  }
  const bool gptaq = options.gptaqAlpha > 0.0;
  if (gptaq && (!crossMoment || static_cast<int64_t>(crossMoment->size()) != cols * cols)) {
    result.error = "GPTAQ needs the inputs the full-precision model gives this linear (its cross moment)";
    return result;
  }
  const int maxq = (1 << options.bits) - 1;
  const int64_t groupSize = options.groupSize == -1 ? cols : options.groupSize;
  const bool perChannel = options.groupSize == -1;
  const int64_t numGroups = (cols + groupSize - 1) / groupSize;

  std::vector<float> w(wIn, wIn + rows * cols);
  std::vector<double> h = hIn;

  // Per-channel grids come from the weight as given, before dead columns are zeroed (as upstream).
  std::vector<RowGrid> channelGrid(static_cast<size_t>(perChannel ? rows : 0));
  for (int64_t r = 0; r < (perChannel ? rows : 0); ++r)
    channelGrid[r] = FindGrid(&w[r * cols], cols, maxq, options.sym, options.mse);

  // Dead inputs (never active in calibration) carry no information: quantize them as zeros.
  std::vector<double> d = gptaq ? *crossMoment : std::vector<double>();
  for (int64_t c = 0; c < cols; ++c) {
    if (h[c * cols + c] == 0.0) {
      h[c * cols + c] = 1.0;
      for (int64_t r = 0; r < rows; ++r) w[r * cols + c] = 0.0f;
      for (int64_t r = 0; r < (gptaq ? cols : 0); ++r) d[r * cols + c] = 0.0;
    }
  }

  std::vector<RowGrid> staticGrid;  // [numGroups × rows], from the unpermuted, not-yet-updated weights
  if (options.staticGroups) {
    staticGrid.resize(static_cast<size_t>(numGroups * rows));
    for (int64_t g = 0; g < numGroups; ++g) {
      const int64_t c0 = g * groupSize;
      const int64_t n = std::min(groupSize, cols - c0);
      for (int64_t r = 0; r < rows; ++r)
        staticGrid[g * rows + r] = FindGrid(&w[r * cols + c0], n, maxq, options.sym, options.mse);
    }
  }

  // perm[k] = the original column quantized k-th.
  std::vector<int64_t> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  const auto diag = [&](int64_t c) { return h[c * cols + c]; };
  const auto descending = [&](int64_t a, int64_t b) { return diag(a) > diag(b); };
  // GPTQModel 7.7's act_group_aware (gar.py): whole groups in order of their largest diag H, each group's columns by
  // descending diag H. Groups stay whole, so the checkpoint keeps the plain layout (g_idx = column / group_size).
  const bool groupAware = options.actGroupAware && !options.descAct && !options.staticGroups && !perChannel && !gptaq;
  std::vector<int64_t> groupPosition(static_cast<size_t>(numGroups));  // original group → its place in perm
  std::iota(groupPosition.begin(), groupPosition.end(), 0);
  if (options.descAct) {
    // Descending diag H; stable so equal diagonals keep column order.
    std::stable_sort(perm.begin(), perm.end(), descending);
  } else if (groupAware) {
    // Only whole groups are reordered; a partial last group stays last, in column order (as upstream).
    const int64_t wholeGroups = cols / groupSize;
    std::vector<int64_t> order(static_cast<size_t>(wholeGroups));
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> groupMax(static_cast<size_t>(wholeGroups), -std::numeric_limits<double>::infinity());
    for (int64_t c = 0; c < wholeGroups * groupSize; ++c)
      groupMax[c / groupSize] = std::max(groupMax[c / groupSize], diag(c));
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return groupMax[a] > groupMax[b]; });
    for (int64_t k = 0; k < wholeGroups; ++k) {
      groupPosition[order[k]] = k;
      std::iota(&perm[k * groupSize], &perm[k * groupSize] + groupSize, order[k] * groupSize);
      std::stable_sort(&perm[k * groupSize], &perm[k * groupSize] + groupSize, descending);
    }
  }
  if (options.descAct || groupAware) {
    std::vector<float> wp(w.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < cols; ++k) wp[r * cols + k] = w[r * cols + perm[k]];
    w.swap(wp);
    std::vector<double> hp(h.size());
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = 0; j < cols; ++j) hp[i * cols + j] = h[perm[i] * cols + perm[j]];
    h.swap(hp);
    for (int64_t i = 0; i < (gptaq ? cols : 0); ++i)
      for (int64_t j = 0; j < cols; ++j) hp[i * cols + j] = d[perm[i] * cols + perm[j]];
    if (gptaq) d.swap(hp);
  }

  // Damping: start at damp_percent × mean(diag H), add more while H + damp·I is not positive definite.
  double meanDiag = 0.0;
  for (int64_t c = 0; c < cols; ++c) meanDiag += h[c * cols + c];
  meanDiag /= static_cast<double>(cols);
  double damp = options.dampPercent;
  std::vector<double> hinvDouble;
  while (damp > 0.0 && damp < 1.0) {
    std::vector<double> damped = h;
    for (int64_t c = 0; c < cols; ++c) damped[c * cols + c] += damp * meanDiag;
    hinvDouble = linalg::UpperCholeskyOfInverse(damped, cols);
    if (!hinvDouble.empty() || options.dampAutoIncrement == 0.0) break;
    damp += options.dampAutoIncrement;
  }
  if (hinvDouble.empty()) {
    result.error = "the layer Hessian is not positive definite even with damp_percent " + std::to_string(damp) +
                   "; use more calibration samples or raise damp_percent";
    return result;
  }
  result.dampPercent = damp;
  // The error-feedback loop runs in fp32 like upstream; the factorisation above needed double.
  std::vector<float> hinv(hinvDouble.begin(), hinvDouble.end());
  hinvDouble.clear();
  hinvDouble.shrink_to_fit();
  const std::vector<float> p = gptaq ? GptaqCorrection(d, hinv, cols, options.gptaqAlpha) : std::vector<float>();
  std::vector<double>().swap(d);

  std::vector<uint8_t> codes(static_cast<size_t>(rows * cols));           // in quantization order
  std::vector<RowGrid> groupGrid(static_cast<size_t>(numGroups * rows));  // dynamic groups, permuted order
  std::vector<double> rowLoss(static_cast<size_t>(rows), 0.0);
  const int64_t blockSize = options.blockSize;
  std::vector<float> errors(static_cast<size_t>(rows * blockSize));
  std::vector<float> negatedBlock(static_cast<size_t>(gptaq ? rows * blockSize : 0));  // −W1 for GPTAQ's update

  for (int64_t i1 = 0; i1 < cols; i1 += blockSize) {
    const int64_t i2 = std::min(i1 + blockSize, cols);
    const int64_t count = i2 - i1;
    // Every row walks the block independently (grids and error feedback are per row).
    DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 4, [&](size_t begin, size_t end) {
      std::vector<float> block(static_cast<size_t>(count));
      for (size_t rr = begin; rr < end; ++rr) {
        const int64_t r = static_cast<int64_t>(rr);
        float* wRow = &w[r * cols];
        std::copy(wRow + i1, wRow + i2, block.begin());
        RowGrid grid = perChannel ? channelGrid[r] : RowGrid{1.0f, 0.0f};
        double loss = 0.0;
        for (int64_t i = 0; i < count; ++i) {
          const int64_t col = i1 + i;
          if (!perChannel) {
            if (options.staticGroups) {
              grid = staticGrid[(perm[col] / groupSize) * rows + r];
            } else {
              const int64_t g = col / groupSize;
              if (col % groupSize == 0) {
                // Upstream reads the group from W, which inside a block still holds the values of the
                // block start (only its clone is updated); same here for identical grids.
                groupGrid[g * rows + r] =
                    FindGrid(wRow + col, std::min(groupSize, cols - col), maxq, options.sym, options.mse);
              }
              grid = groupGrid[g * rows + r];
            }
          }
          const float x = block[i];
          const float code = QuantizeCode(x, grid, maxq);
          codes[r * cols + col] = static_cast<uint8_t>(code);
          const float dq = grid.scale * (code - grid.zero);
          const float d = hinv[col * cols + col];
          const float err = (x - dq) / d;
          loss += static_cast<double>((x - dq) * (x - dq) / (d * d));
          const float* hRow = &hinv[col * cols];
          if (gptaq) {
            const float* pRow = &p[col * cols];
            for (int64_t j = i; j < count; ++j) block[j] -= err * hRow[i1 + j] - x * pRow[i1 + j];
          } else {
            for (int64_t j = i; j < count; ++j) block[j] -= err * hRow[i1 + j];
          }
          errors[r * blockSize + i] = err;
        }
        rowLoss[r] += loss / 2.0;
        std::copy(block.begin(), block.end(), wRow + i1);
        for (int64_t i = 0; i < (gptaq ? count : 0); ++i) negatedBlock[r * blockSize + i] = -block[i];
      }
    });
    // Lazy batch update of everything right of the block: W[:, i2:] −= Err · Hinv[i1:i2, i2:].
    linalg::SubtractProduct(errors.data(), blockSize, &hinv[i1 * cols + i2], cols, &w[i2], cols, rows, count,
                            cols - i2);
    // GPTAQ: W[:, i2:] += W1 · P[i1:i2, i2:], W1 the block as its updates left it.
    if (gptaq)
      linalg::SubtractProduct(negatedBlock.data(), blockSize, &p[i1 * cols + i2], cols, &w[i2], cols, rows, count,
                              cols - i2);
    if (progress && !progress(i2, cols)) {
      result.cancelled = true;
      result.error = "cancelled";
      return result;
    }
  }

  GroupQuantized& out = result.quantized;
  out.rows = rows;
  out.cols = cols;
  out.bits = options.bits;
  out.groupSize = groupSize;
  out.q.resize(static_cast<size_t>(rows * cols));
  out.gIdx.resize(static_cast<size_t>(cols));
  out.scales.resize(static_cast<size_t>(numGroups * rows));
  out.zeros.resize(static_cast<size_t>(numGroups * rows));
  // Back to the original column order; g_idx names each column's group (the group of its position in
  // quantization order, or of its own index with static groups).
  for (int64_t k = 0; k < cols; ++k) {
    const int64_t c = perm[k];
    out.gIdx[c] = static_cast<int32_t>(options.staticGroups || groupAware ? c / groupSize : k / groupSize);
    for (int64_t r = 0; r < rows; ++r) out.q[r * cols + c] = codes[r * cols + k];
  }
  for (int64_t g = 0; g < numGroups; ++g) {
    for (int64_t r = 0; r < rows; ++r) {
      const RowGrid& grid = perChannel             ? channelGrid[r]
                            : options.staticGroups ? staticGrid[g * rows + r]
                                                   : groupGrid[groupPosition[g] * rows + r];
      out.scales[g * rows + r] = grid.scale;
      out.zeros[g * rows + r] = static_cast<int32_t>(grid.zero);
    }
  }
  double total = 0.0;
  for (double l : rowLoss) total += l;
  result.loss = samples > 0 ? total / static_cast<double>(samples) : 0.0;
  result.ok = true;
  return result;
}

}  // namespace quantstudio::quant
