#include "pipeline/int8_lm_head.h"

#include <algorithm>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "quant/int8.h"
#include "runtime/linear.h"
#include "runtime/linear_int8.h"

namespace quantstudio::pipeline {
namespace {

// Rows widened to fp32 and quantized at a time, per thread: a bounded buffer whatever the vocabulary.
constexpr int64_t kRowsPerChunk = 256;

}  // namespace

bool UseInt8LmHead(runtime::Model& model) {
  const auto* dense = dynamic_cast<const runtime::DenseLinear*>(&model.lmHead());
  if (dense == nullptr) return false;
  const kernels::MatrixRef& w = dense->weight();
  auto codes = std::make_unique<kernels::Int8Codes>();
  codes->weight.resize(static_cast<size_t>(w.rows * w.cols));
  codes->scb.resize(static_cast<size_t>(w.rows));
  const int64_t chunks = (w.rows + kRowsPerChunk - 1) / kRowsPerChunk;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(chunks), 1, [&](size_t begin, size_t end) {
    std::vector<float> rows(static_cast<size_t>(kRowsPerChunk * w.cols));
    for (auto chunk = static_cast<int64_t>(begin); chunk < static_cast<int64_t>(end); ++chunk) {
      const int64_t r0 = chunk * kRowsPerChunk, count = std::min(kRowsPerChunk, w.rows - r0);
      for (int64_t r = 0; r < count; ++r) kernels::WidenRow(w, r0 + r, rows.data() + r * w.cols);
      const quant::Int8Quantized q = quant::QuantizeInt8({"lm_head", rows.data(), count, w.cols}, {}, {});
      std::copy(q.q.begin(), q.q.end(), codes->weight.begin() + r0 * w.cols);
      std::copy(q.scb.begin(), q.scb.end(), codes->scb.begin() + r0);
    }
  });
  const auto* data = static_cast<const uint8_t*>(w.data);
  const size_t bytes = static_cast<size_t>(w.rows * w.cols) * DTypeSize(w.dtype);
  model.SetLmHead(runtime::MakeInt8Linear(std::move(codes), w.rows, w.cols, dense->bias()));
  // A tied embedding's rows fault back in one by one as tokens are looked up; an untied head is not read again.
  model.weights().ReleasePages(data, bytes);
  return true;
}

}  // namespace quantstudio::pipeline
