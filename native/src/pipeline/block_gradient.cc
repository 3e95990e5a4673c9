#include "pipeline/block_gradient.h"

#include <algorithm>
#include <cmath>

#include "core/thread_pool.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/matmul.h"

namespace quantstudio::pipeline {
namespace {

size_t Size(int64_t rows, int64_t width) { return static_cast<size_t>(rows * width); }

kernels::MatrixRef Ref(const float* w, int64_t rows, int64_t cols) { return {DType::F32, w, rows, cols}; }

// x [rows × n] → out = RMSNorm(x)·weight, keeping 1/rms per row for the backward pass (the kernel's arithmetic).
void RmsNormKeep(const float* x, int64_t rows, int64_t n, const float* weight, float eps, float* out, float* inv) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float sumSq = 0.0f;
    for (int64_t i = 0; i < n; ++i) sumSq += xr[i] * xr[i];
    inv[r] = 1.0f / std::sqrt(sumSq / static_cast<float>(n) + eps);
  }
  kernels::RmsNorm(x, rows, n, weight, eps, out);
}

// dx += dL/dx of out = x·inv·w: inv·(w·dOut) − x·inv³·Σ(w·dOut·x)/n per row.
void RmsNormBackward(const float* x, const float* inv, int64_t rows, int64_t n, const float* weight, const float* dOut,
                     float* dx) {
  DefaultThreadPool().ParallelFor(static_cast<size_t>(rows), 64, [&](size_t b, size_t e) {
    for (int64_t r = static_cast<int64_t>(b); r < static_cast<int64_t>(e); ++r) {
      const float* xr = x + r * n;
      const float* g = dOut + r * n;
      double dot = 0.0;
      for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(g[i]) * weight[i] * xr[i];
      const float s = inv[r], k = static_cast<float>(dot / static_cast<double>(n)) * s * s * s;
      float* d = dx + r * n;
      for (int64_t i = 0; i < n; ++i) d[i] += s * weight[i] * g[i] - xr[i] * k;
    }
  });
}

// dX = dY·W (dY [rows × out], W [out × in]), added to dX when accumulate.
void InputGradient(const BlockLinear& l, const float* dY, int64_t rows, float* dX, bool accumulate) {
  std::vector<float> transposed(Size(l.cols, l.rows));
  for (int64_t r = 0; r < l.rows; ++r)
    for (int64_t c = 0; c < l.cols; ++c) transposed[c * l.rows + r] = l.weight[r * l.cols + c];
  if (!accumulate) return kernels::MatMul(dY, rows, Ref(transposed.data(), l.cols, l.rows), nullptr, dX);
  std::vector<float> part(Size(rows, l.cols));
  kernels::MatMul(dY, rows, Ref(transposed.data(), l.cols, l.rows), nullptr, part.data());
  kernels::AddInPlace(dX, part.data(), rows * l.cols);
}

// dW = dYᵀ·X.
void WeightGradient(const BlockLinear& l, const float* dY, const float* x, int64_t rows, std::vector<float>& grad) {
  grad.resize(Size(l.rows, l.cols));
  kernels::MatMulTransposedA(dY, l.rows, l.rows, x, l.cols, l.cols, rows, grad.data(), l.cols);
}

void Project(const BlockLinear& l, const float* x, int64_t rows, float* y) {
  kernels::MatMul(x, rows, Ref(l.weight, l.rows, l.cols), l.bias, y);
}

float Silu(float x) { return x / (1.0f + std::exp(-x)); }
float SiluDerivative(float x) {
  const float s = 1.0f / (1.0f + std::exp(-x));
  return s * (1.0f + x * (1.0f - s));
}
constexpr float kGeluC = 0.7978845608028654f;  // √(2/π)
float GeluTanh(float x) { return 0.5f * x * (1.0f + std::tanh(kGeluC * (x + 0.044715f * x * x * x))); }
float GeluTanhDerivative(float x) {
  const float t = std::tanh(kGeluC * (x + 0.044715f * x * x * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * 0.044715f * x * x);
}

}  // namespace

const char* BlockRoleName(BlockRole role) {
  static const char* const kNames[kBlockRoles] = {"q", "k", "v", "o", "gate", "up", "down"};
  return kNames[role];
}

std::string BlockGradientUnsupported(const runtime::Model& model, int64_t layer) {
  const runtime::ModelConfig& c = model.config();
  const std::string what = c.architecture + " ";
  if (c.family != runtime::Family::Llama) return what + "is not a Llama-family model";
  if (c.moe.experts > 0) return what + "is a Mixture-of-Experts model";
  if (c.fusedProjections) return what + "fuses its projections (qkv_proj, gate_up_proj)";
  if (c.sandwichNorms) return what + "norms its attention and MLP outputs (sandwich norms)";
  if (c.attentionSoftcap > 0) return what + "soft-caps its attention scores";
  const runtime::LayerLinears linears = model.layerLinears(layer);
  if (!linears.q || !linears.gate || !linears.up || !linears.down) return what + "has no gated MLP or separate q/k/v";
  return "";
}

BlockGradient::BlockGradient(const runtime::Model& model, int64_t layer, const runtime::LayerNorms& norms)
    : c_(model.config()), norms_(norms), rope_(model.ropeOf(layer)), window_(model.windowOf(layer)) {
  scale_ =
      c_.attentionScale > 0 ? static_cast<float>(c_.attentionScale) : 1.0f / std::sqrt(static_cast<float>(c_.headDim));
}

void BlockGradient::Forward(const BlockLinears& l, const float* x, int64_t windows, int64_t seqLen, float* out) {
  windows_ = windows;
  seqLen_ = seqLen;
  const int64_t rows = windows * seqLen, hidden = c_.hiddenSize, d = c_.headDim;
  const int64_t qWidth = c_.heads * d, kvWidth = c_.kvHeads * d, width = l[kUp].rows;
  const float eps = static_cast<float>(c_.normEps);
  x_.assign(x, x + Size(rows, hidden));
  inv1_.resize(Size(rows, 1));
  n1_.resize(Size(rows, hidden));
  RmsNormKeep(x, rows, hidden, norms_.norm1Weight.data(), eps, n1_.data(), inv1_.data());
  q_.resize(Size(rows, qWidth));
  k_.resize(Size(rows, kvWidth));
  v_.resize(Size(rows, kvWidth));
  Project(l[kQ], n1_.data(), rows, q_.data());
  Project(l[kK], n1_.data(), rows, k_.data());
  Project(l[kV], n1_.data(), rows, v_.data());
  if (!norms_.qNormWeight.empty()) {
    qPre_ = q_;
    kPre_ = k_;
    invQ_.resize(Size(rows, c_.heads));
    invK_.resize(Size(rows, c_.kvHeads));
    RmsNormKeep(qPre_.data(), rows * c_.heads, d, norms_.qNormWeight.data(), eps, q_.data(), invQ_.data());
    RmsNormKeep(kPre_.data(), rows * c_.kvHeads, d, norms_.kNormWeight.data(), eps, k_.data(), invK_.data());
  }
  const float* freq = rope_.FrequenciesFor(seqLen - 1);  // one call from position 0, as RunLayer runs a window
  const kernels::RopeShape shape{d, rope_.rotaryDim, rope_.attentionScaling};
  for (int64_t r = 0; r < rows; ++r) {
    kernels::ApplyRope(&q_[Size(r, qWidth)], c_.heads, shape, r % seqLen, freq);
    kernels::ApplyRope(&k_[Size(r, kvWidth)], c_.kvHeads, shape, r % seqLen, freq);
  }
  Attention(rows);
  std::vector<float> delta(Size(rows, hidden));
  Project(l[kO], attended_.data(), rows, delta.data());
  y_ = x_;
  kernels::AddInPlace(y_.data(), delta.data(), rows * hidden);
  inv2_.resize(Size(rows, 1));
  n2_.resize(Size(rows, hidden));
  RmsNormKeep(y_.data(), rows, hidden, norms_.norm2Weight.data(), eps, n2_.data(), inv2_.data());
  gate_.resize(Size(rows, width));
  up_.resize(Size(rows, width));
  product_.resize(Size(rows, width));
  Project(l[kGate], n2_.data(), rows, gate_.data());
  Project(l[kUp], n2_.data(), rows, up_.data());
  for (size_t i = 0; i < product_.size(); ++i)
    product_[i] = (c_.geluTanh ? GeluTanh(gate_[i]) : Silu(gate_[i])) * up_[i];
  Project(l[kDown], product_.data(), rows, out);
  kernels::AddInPlace(out, y_.data(), rows * hidden);
}

namespace {

// Columns [col, col + d) of `rows` rows of width `stride` into a contiguous [rows × d] matrix, and back.
void GatherHead(const float* from, int64_t rows, int64_t stride, int64_t col, int64_t d, float* to) {
  for (int64_t r = 0; r < rows; ++r) std::copy_n(from + r * stride + col, d, to + r * d);
}
void AddHead(const float* from, int64_t rows, int64_t stride, int64_t col, int64_t d, float* to) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < d; ++c) to[r * stride + col + c] += from[r * d + c];
}
void Transpose(const float* from, int64_t rows, int64_t cols, float* to) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) to[c * rows + r] = from[r * cols + c];
}

}  // namespace

// One window's kv head and its query heads, as matrices: the attention of block_gradient.h runs per (window, kv
// head) task, each task's products on its own thread (a region inside a region runs inline).
struct BlockGradient::HeadTask {
  int64_t t, d;
  std::vector<float> keys, values, keysT, valuesT, query, probs;

  HeadTask(int64_t seqLen, int64_t headDim)
      : t(seqLen),
        d(headDim),
        keys(Size(t, d)),
        values(Size(t, d)),
        keysT(Size(t, d)),
        valuesT(Size(t, d)),
        query(Size(t, d)),
        probs(Size(t, t)) {}
};

// P = softmax(scale·QKᵀ) over each row's visible positions (zero elsewhere), from the keys of `task`; with lse null the
// row's log-sum-exp is written to lseOut, else P is recomputed from the stored one.
void BlockGradient::Probabilities(HeadTask& task, const float* lse, float* lseOut) const {
  const int64_t t = task.t;
  kernels::MatMul(task.query.data(), t, Ref(task.keys.data(), t, task.d), nullptr, task.probs.data());
  for (int64_t i = 0; i < t; ++i) {
    float* p = &task.probs[Size(i, t)];
    const int64_t first = kernels::FirstVisible(i, window_);
    std::fill(p, p + first, 0.0f);
    std::fill(p + i + 1, p + t, 0.0f);
    float top = -INFINITY;
    for (int64_t j = first; j <= i; ++j) top = std::max(top, p[j] *= scale_);
    if (lse) {
      for (int64_t j = first; j <= i; ++j) p[j] = std::exp(p[j] - lse[i]);
      continue;
    }
    double sum = 0.0;
    for (int64_t j = first; j <= i; ++j) sum += (p[j] = std::exp(p[j] - top));
    const float norm = static_cast<float>(1.0 / sum);
    for (int64_t j = first; j <= i; ++j) p[j] *= norm;
    lseOut[i] = top + static_cast<float>(std::log(sum));
  }
}

void BlockGradient::LoadHead(HeadTask& task, int64_t window, int64_t kvHead) const {
  const int64_t t = task.t, d = task.d, kvWidth = c_.kvHeads * d;
  GatherHead(&k_[Size(window * t, kvWidth)], t, kvWidth, kvHead * d, d, task.keys.data());
  GatherHead(&v_[Size(window * t, kvWidth)], t, kvWidth, kvHead * d, d, task.values.data());
  Transpose(task.keys.data(), t, d, task.keysT.data());
  Transpose(task.values.data(), t, d, task.valuesT.data());
}

void BlockGradient::Attention(int64_t rows) {
  const int64_t d = c_.headDim, heads = c_.heads, kvHeads = c_.kvHeads, group = heads / kvHeads, t = seqLen_;
  const int64_t qWidth = heads * d;
  attended_.assign(Size(rows, qWidth), 0.0f);
  lse_.resize(Size(rows, heads));
  DefaultThreadPool().ParallelFor(static_cast<size_t>(windows_ * kvHeads), 1, [&](size_t b, size_t e) {
    HeadTask task(t, d);
    std::vector<float> head(Size(t, d)), lse(static_cast<size_t>(t));
    for (size_t n = b; n < e; ++n) {
      const int64_t w = static_cast<int64_t>(n) / kvHeads, g = static_cast<int64_t>(n) % kvHeads;
      LoadHead(task, w, g);
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        GatherHead(&q_[Size(w * t, qWidth)], t, qWidth, h * d, d, task.query.data());
        Probabilities(task, nullptr, lse.data());
        kernels::MatMul(task.probs.data(), t, Ref(task.valuesT.data(), d, t), nullptr, head.data());
        AddHead(head.data(), t, qWidth, h * d, d, &attended_[Size(w * t, qWidth)]);
        for (int64_t i = 0; i < t; ++i)
          lse_[Size(w * t + i, heads) + static_cast<size_t>(h)] = lse[static_cast<size_t>(i)];
      }
    }
  });
}

// With P = softmax(S), S = scale·QKᵀ, O = PV: dV = PᵀdO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(dO∘O)), dQ = scale·dS·K,
// dK = scale·dSᵀ·Q. A task owns one window's kv head, so its keys' and values' gradients have one writer.
void BlockGradient::AttentionBackward(int64_t rows, const float* dOut, float* dq, float* dk, float* dv) const {
  const int64_t d = c_.headDim, heads = c_.heads, kvHeads = c_.kvHeads, group = heads / kvHeads, t = seqLen_;
  const int64_t qWidth = heads * d, kvWidth = kvHeads * d;
  std::fill(dq, dq + Size(rows, qWidth), 0.0f);
  std::fill(dk, dk + Size(rows, kvWidth), 0.0f);
  std::fill(dv, dv + Size(rows, kvWidth), 0.0f);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(windows_ * kvHeads), 1, [&](size_t b, size_t e) {
    HeadTask task(t, d);
    std::vector<float> dHead(Size(t, d)), out(Size(t, d)), dProbs(Size(t, t)), part(Size(t, d)), lse(Size(t, 1));
    for (size_t n = b; n < e; ++n) {
      const int64_t w = static_cast<int64_t>(n) / kvHeads, g = static_cast<int64_t>(n) % kvHeads;
      LoadHead(task, w, g);
      for (int64_t h = g * group; h < (g + 1) * group; ++h) {
        const size_t q0 = Size(w * t, qWidth);
        GatherHead(&q_[q0], t, qWidth, h * d, d, task.query.data());
        for (int64_t i = 0; i < t; ++i)
          lse[static_cast<size_t>(i)] = lse_[Size(w * t + i, heads) + static_cast<size_t>(h)];
        Probabilities(task, lse.data(), nullptr);
        GatherHead(dOut + q0, t, qWidth, h * d, d, dHead.data());
        GatherHead(&attended_[q0], t, qWidth, h * d, d, out.data());
        kernels::MatMul(dHead.data(), t, Ref(task.values.data(), t, d), nullptr, dProbs.data());  // dO·Vᵀ
        for (int64_t i = 0; i < t; ++i) {
          float rowDot = 0.0f;
          for (int64_t c = 0; c < d; ++c)
            rowDot += dHead[Size(i, d) + static_cast<size_t>(c)] * out[Size(i, d) + static_cast<size_t>(c)];
          float* ds = &dProbs[Size(i, t)];
          const float* p = &task.probs[Size(i, t)];
          for (int64_t j = 0; j < t; ++j) ds[j] = p[j] * (ds[j] - rowDot) * scale_;
        }
        kernels::MatMul(dProbs.data(), t, Ref(task.keysT.data(), d, t), nullptr, part.data());  // dS·K
        AddHead(part.data(), t, qWidth, h * d, d, dq + q0);
        kernels::MatMulTransposedA(dProbs.data(), t, t, task.query.data(), d, d, t, part.data(), d);  // dSᵀ·Q
        AddHead(part.data(), t, kvWidth, g * d, d, dk + Size(w * t, kvWidth));
        kernels::MatMulTransposedA(task.probs.data(), t, t, dHead.data(), d, d, t, part.data(), d);  // Pᵀ·dO
        AddHead(part.data(), t, kvWidth, g * d, d, dv + Size(w * t, kvWidth));
      }
    }
  });
}

void BlockGradient::Backward(const BlockLinears& l, const float* gradOut,
                             std::array<std::vector<float>, kBlockRoles>& grads) {
  const int64_t rows = windows_ * seqLen_, hidden = c_.hiddenSize, d = c_.headDim;
  const int64_t qWidth = c_.heads * d, kvWidth = c_.kvHeads * d, width = l[kUp].rows;
  // MLP
  WeightGradient(l[kDown], gradOut, product_.data(), rows, grads[kDown]);
  std::vector<float> dProduct(Size(rows, width));
  InputGradient(l[kDown], gradOut, rows, dProduct.data(), false);
  std::vector<float> dGate(dProduct.size()), dUp(dProduct.size());
  for (size_t i = 0; i < dProduct.size(); ++i) {
    const float g = gate_[i];
    dGate[i] = dProduct[i] * up_[i] * (c_.geluTanh ? GeluTanhDerivative(g) : SiluDerivative(g));
    dUp[i] = dProduct[i] * (c_.geluTanh ? GeluTanh(g) : Silu(g));
  }
  std::vector<float>().swap(dProduct);
  WeightGradient(l[kGate], dGate.data(), n2_.data(), rows, grads[kGate]);
  WeightGradient(l[kUp], dUp.data(), n2_.data(), rows, grads[kUp]);
  std::vector<float> dNorm(Size(rows, hidden));
  InputGradient(l[kGate], dGate.data(), rows, dNorm.data(), false);
  InputGradient(l[kUp], dUp.data(), rows, dNorm.data(), true);
  std::vector<float> dy(gradOut, gradOut + Size(rows, hidden));
  RmsNormBackward(y_.data(), inv2_.data(), rows, hidden, norms_.norm2Weight.data(), dNorm.data(), dy.data());
  // Attention
  WeightGradient(l[kO], dy.data(), attended_.data(), rows, grads[kO]);
  std::vector<float> dAttended(Size(rows, qWidth));
  InputGradient(l[kO], dy.data(), rows, dAttended.data(), false);
  std::vector<float> dq(Size(rows, qWidth)), dk(Size(rows, kvWidth)), dv(Size(rows, kvWidth));
  AttentionBackward(rows, dAttended.data(), dq.data(), dk.data(), dv.data());
  // RoPE rotates by an orthogonal (scaled) matrix: its transpose is the rotation by the opposite angle.
  const float* freq = rope_.FrequenciesFor(seqLen_ - 1);
  const kernels::RopeShape shape{d, rope_.rotaryDim, rope_.attentionScaling};
  for (int64_t r = 0; r < rows; ++r) {
    kernels::ApplyRope(&dq[Size(r, qWidth)], c_.heads, shape, -(r % seqLen_), freq);
    kernels::ApplyRope(&dk[Size(r, kvWidth)], c_.kvHeads, shape, -(r % seqLen_), freq);
  }
  if (!norms_.qNormWeight.empty()) {
    std::vector<float> dqPre(dq.size(), 0.0f), dkPre(dk.size(), 0.0f);
    RmsNormBackward(qPre_.data(), invQ_.data(), rows * c_.heads, d, norms_.qNormWeight.data(), dq.data(), dqPre.data());
    RmsNormBackward(kPre_.data(), invK_.data(), rows * c_.kvHeads, d, norms_.kNormWeight.data(), dk.data(),
                    dkPre.data());
    dq.swap(dqPre);
    dk.swap(dkPre);
  }
  WeightGradient(l[kQ], dq.data(), n1_.data(), rows, grads[kQ]);
  WeightGradient(l[kK], dk.data(), n1_.data(), rows, grads[kK]);
  WeightGradient(l[kV], dv.data(), n1_.data(), rows, grads[kV]);
}

}  // namespace quantstudio::pipeline
