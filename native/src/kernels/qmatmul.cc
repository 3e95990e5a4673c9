#include "kernels/qmatmul.h"

#include <algorithm>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu.h"
#include "kernels/qmatmul_simd.h"
#include "kernels/simd_avx512.h"

namespace quantstudio::kernels {
namespace {

// Row j of W dequantized, then dotted with every row of x: the fallback without AVX2 and for the rows
// past the last whole panel.
void ScalarRows(const QuantMatrix& w, const float* x, int64_t m, const float* bias, float* y, int64_t j0, int64_t j1,
                std::vector<float>& row) {
  const int64_t n = w.rows(), k = w.cols();
  row.resize(static_cast<size_t>(k));
  for (int64_t j = j0; j < j1; ++j) {
    for (int64_t c = 0; c < k; ++c) row[c] = w.Weight(j, c);
    for (int64_t i = 0; i < m; ++i) {
      float acc = 0.0f;
      for (int64_t c = 0; c < k; ++c) acc += x[i * k + c] * row[c];
      y[i * n + j] = acc + (bias ? bias[j] : 0.0f);
    }
  }
}

#ifdef QS_X86
void QMatMulAvx2(const QuantMatrix& w, const float* x, int64_t m, const float* bias, float* y) {
  const int64_t n = w.rows(), k = w.cols();
  const int64_t whole = n / kQPanelRows;
  ThreadPool& pool = DefaultThreadPool();
  if (m == 1) {
    // Long chunks: column-packed formats read each packed row over the chunk's outputs, and longer
    // contiguous reads are what the prefetchers stream; a few chunks per thread still balance a busy machine.
    const size_t grain = std::max<size_t>(4, static_cast<size_t>(whole) / (4 * pool.size()));
    pool.ParallelFor(static_cast<size_t>(whole), grain, [&](size_t b, size_t e) {
      const int64_t j0 = static_cast<int64_t>(b) * kQPanelRows, j1 = static_cast<int64_t>(e) * kQPanelRows;
      w.GemvAvx2(x, j0, j1, y);
      if (bias) {
        for (int64_t j = j0; j < j1; ++j) y[j] += bias[j];
      }
    });
  } else if (UseAvx512()) {
    // Four panels (64 outputs) dequantized, then swept together: fewer loads per multiply-add.
    const size_t groups = static_cast<size_t>((whole + kMaxPanels - 1) / kMaxPanels);
    pool.ParallelFor(groups, 1, [&](size_t b, size_t e) {
      thread_local std::vector<float> buffer;
      buffer.resize(static_cast<size_t>(kMaxPanels * k * kQPanelRows));
      for (size_t g = b; g < e; ++g) {
        const int64_t first = static_cast<int64_t>(g) * kMaxPanels;
        const int count = static_cast<int>(std::min<int64_t>(kMaxPanels, whole - first));
        const float* panels[kMaxPanels];
        for (int q = 0; q < count; ++q) {
          float* panel = buffer.data() + q * k * kQPanelRows;
          w.DecodePanelAvx2((first + q) * kQPanelRows, panel);
          panels[q] = panel;
        }
        const int64_t j0 = first * kQPanelRows;
        PanelsTimesRowsAvx512(x, m, k, panels, count, y + j0, n, bias ? bias + j0 : nullptr);
      }
    });
  } else {
    pool.ParallelFor(static_cast<size_t>(whole), 1, [&](size_t b, size_t e) {
      thread_local std::vector<float> panel;
      panel.resize(static_cast<size_t>(k * kQPanelRows));
      for (size_t p = b; p < e; ++p) {
        const int64_t j0 = static_cast<int64_t>(p) * kQPanelRows;
        w.DecodePanelAvx2(j0, panel.data());
        PanelTimesRows(x, m, k, panel.data(), y + j0, n, bias ? bias + j0 : nullptr);
      }
    });
  }
  if (whole * kQPanelRows < n) {
    std::vector<float> row;
    ScalarRows(w, x, m, bias, y, whole * kQPanelRows, n, row);
  }
}
#endif

}  // namespace

void QMatMulReference(const QuantMatrix& w, const float* x, int64_t m, const float* bias, float* y) {
  std::vector<float> row;
  ScalarRows(w, x, m, bias, y, 0, w.rows(), row);
}

void QGemvRange(const QuantMatrix& w, const float* x, const float* bias, float* y, int64_t j0, int64_t j1) {
  int64_t scalarFrom = j0;
#ifdef QS_X86
  if (UseAvx2() && w.HasAvx2()) {
    // Whole panels as QMatMulAvx2's decode; the rows past the last whole panel as its scalar tail.
    const int64_t end = std::min(j1, w.rows() / kQPanelRows * kQPanelRows);
    if (end > j0) {
      w.GemvAvx2(x, j0, end, y);
      if (bias) {
        for (int64_t j = j0; j < end; ++j) y[j] += bias[j];
      }
      scalarFrom = end;
    }
  }
#endif
  if (scalarFrom < j1) {
    std::vector<float> row;
    ScalarRows(w, x, 1, bias, y, scalarFrom, j1, row);
  }
}

void QMatMul(const QuantMatrix& w, const float* x, int64_t m, const float* bias, float* y) {
  if (m <= 0 || w.rows() == 0) return;
#ifdef QS_X86
  if (UseAvx2() && w.HasAvx2()) return QMatMulAvx2(w, x, m, bias, y);
#endif
  DefaultThreadPool().ParallelFor(static_cast<size_t>(w.rows()), 16, [&](size_t b, size_t e) {
    std::vector<float> row;
    ScalarRows(w, x, m, bias, y, static_cast<int64_t>(b), static_cast<int64_t>(e), row);
  });
}

}  // namespace quantstudio::kernels
