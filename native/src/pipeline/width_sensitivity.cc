#include "pipeline/width_sensitivity.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "kernels/elementwise.h"
#include "pipeline/gptq_dynamic.h"
#include "pipeline/skipped_modules.h"
#include "pipeline/working_layer.h"
#include "quant/gptq.h"
#include "runtime/model.h"

namespace quantstudio::pipeline {
namespace {

// Rows of logits computed at once: bounds the head's two buffers (rows × vocab floats, 128 MiB each at a vocabulary of
// 128k) while packing the head's weights once per 256 rows.
constexpr int64_t kHeadRows = 256;

// The calibration windows entering one layer: samples × seqLen rows of hidden.
struct Windows {
  std::vector<float> x;
  int64_t samples = 0, seqLen = 0;
};

// KL(p ‖ q) of one row's next-token distributions from their logits: Σ p·(a − b) + lse(b) − lse(a), p = softmax(a).
double RowDivergence(const float* a, const float* b, int64_t n, std::vector<float>& p) {
  const double lseA = kernels::NegLogLikelihood(a, n, 0) + a[0];
  const double lseB = kernels::NegLogLikelihood(b, n, 0) + b[0];
  std::copy(a, a + n, p.begin());
  kernels::Softmax(p.data(), n);
  double dot = 0.0;
  for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(p[i]) * (a[i] - b[i]);
  return std::max(0.0, dot + lseB - lseA);
}

// Runs windows from a layer on through the model as stored and compares the next-token distributions with the
// full-precision model's: a KL divergence ranks a layer's rounding far more steadily than the loss of the true tokens
// on the same few windows.
class DivergenceMeter {
 public:
  DivergenceMeter(const runtime::Model& model, const Windows& embedded, const quant::JobContext& ctx)
      : model_(model), hidden_(model.config().hiddenSize), vocab_(model.config().vocabSize) {
    for (int64_t l = 0; l < model.config().layers; ++l) {
      own_.push_back(model.layerLinears(l));
      norms_.push_back(model.layerNorms(l));
    }
    fpFinal_ = embedded;
    for (int64_t s = 0; s < embedded.samples; ++s) {
      ctx.CheckCancelled();
      float* x = fpFinal_.x.data() + s * embedded.seqLen * hidden_;
      RunFrom(0, x, embedded.seqLen, x);
    }
  }

  /** Mean KL per predicted token when layer `first` runs with `linears`/`norms` on `in` (that layer's input). */
  double FromLayer(int64_t first, const runtime::LayerLinears& linears, const runtime::LayerNorms& norms,
                   const Windows& in, const quant::JobContext& ctx) const {
    const int64_t seq = in.seqLen;
    std::vector<float> a(static_cast<size_t>(seq * hidden_));
    double kl = 0.0;
    for (int64_t s = 0; s < in.samples; ++s) {
      ctx.CheckCancelled();
      model_.RunLayer(first, linears, norms, in.x.data() + s * seq * hidden_, seq, a.data());
      RunFrom(first + 1, a.data(), seq, a.data());
      kl += Divergence(fpFinal_.x.data() + s * seq * hidden_, a.data(), seq - 1);
    }
    return kl / static_cast<double>(Tokens(in));
  }

  /** Mean NLL of the windows' next tokens in the full-precision model. */
  double FpNll(const int32_t* ids) const {
    const int64_t seq = fpFinal_.seqLen;
    std::vector<float> logits(static_cast<size_t>(kHeadRows * vocab_));
    double nll = 0.0;
    for (int64_t s = 0; s < fpFinal_.samples; ++s) {
      for (int64_t r0 = 0; r0 + 1 < seq; r0 += kHeadRows) {
        const int64_t rows = std::min(kHeadRows, seq - 1 - r0);
        model_.Head(fpFinal_.x.data() + (s * seq + r0) * hidden_, rows, logits.data());
        for (int64_t r = 0; r < rows; ++r)
          nll += kernels::NegLogLikelihood(logits.data() + r * vocab_, vocab_, ids[s * seq + r0 + r + 1]);
      }
    }
    return nll / static_cast<double>(Tokens(fpFinal_));
  }

  static int64_t Tokens(const Windows& in) { return in.samples * (in.seqLen - 1); }

 private:
  // Layers first.. as stored on x [m × hidden] (in place when out == x).
  void RunFrom(int64_t first, const float* x, int64_t m, float* out) const {
    std::vector<float> b(static_cast<size_t>(m * hidden_));
    if (out != x) std::copy(x, x + m * hidden_, out);
    for (int64_t l = first; l < static_cast<int64_t>(own_.size()); ++l) {
      model_.RunLayer(l, own_[l], norms_[l], out, m, b.data());
      std::copy(b.begin(), b.end(), out);
    }
  }

  // Σ over the first `rows` rows of KL(fp ‖ q) of their next-token distributions.
  double Divergence(const float* fp, const float* q, int64_t rows) const {
    std::vector<float> a(static_cast<size_t>(kHeadRows * vocab_)), b(a.size()), p(static_cast<size_t>(vocab_));
    double kl = 0.0;
    for (int64_t r0 = 0; r0 < rows; r0 += kHeadRows) {
      const int64_t n = std::min(kHeadRows, rows - r0);
      model_.Head(fp + r0 * hidden_, n, a.data());
      model_.Head(q + r0 * hidden_, n, b.data());
      for (int64_t r = 0; r < n; ++r) kl += RowDivergence(a.data() + r * vocab_, b.data() + r * vocab_, vocab_, p);
    }
    return kl;
  }

  const runtime::Model& model_;
  const int64_t hidden_, vocab_;
  std::vector<runtime::LayerLinears> own_;
  std::vector<runtime::LayerNorms> norms_;
  Windows fpFinal_;  // the windows' last-layer outputs in full precision
};

// The layer's quantized slots rounded in place to `bits` on the job's grid (a dynamic rule's own bits win).
void RoundLayer(WorkingLayer& layer, const PipelineOptions& o, int bits) {
  for (LinearSlot& s : layer.slots) {
    if (s.skipped || s.Router() || !s.linear) continue;
    quant::GptqOptions g = GptqOptionsFor(o, s.name);
    const GptqModuleRule* rule = o.dynamic.empty() ? nullptr : DynamicRuleFor(o, s.name);
    if (!rule || rule->bits <= 0) g.bits = bits;
    s.linear->weight = quant::RoundToGrid(s.linear->weight.data(), s.linear->outFeatures(), s.linear->inFeatures(), g);
  }
}

}  // namespace

WidthSensitivity MeasureWidthSensitivity(const PipelineOptions& options, const std::vector<int>& widths,
                                         const std::function<void(int64_t done, int64_t total)>& progress,
                                         const quant::JobContext& ctx) {
  const auto started = std::chrono::steady_clock::now();
  if (options.method != Method::Gptq)
    throw quant::QuantError("mixed precision by sensitivity: GPTQ jobs only (GPTQModel's dynamic carries the widths)");
  if (options.seqLen < 2 || options.calibration.empty())
    throw quant::QuantError("mixed precision by sensitivity needs calibration windows of at least 2 tokens");
  std::unique_ptr<runtime::Model> model = runtime::Model::Load(options.source, options.model);
  Validate(options, *model);
  const runtime::ModelConfig& config = model->config();
  const int64_t hidden = config.hiddenSize;
  Windows in;
  in.seqLen = options.seqLen;
  in.samples = static_cast<int64_t>(options.calibration.size()) / options.seqLen;
  in.x.resize(static_cast<size_t>(in.samples * in.seqLen * hidden));
  for (int64_t s = 0; s < in.samples; ++s)
    model->EmbedSequence(options.calibration.data() + s * in.seqLen, in.seqLen, in.x.data() + s * in.seqLen * hidden);

  const DivergenceMeter meter(*model, in, ctx);
  WidthSensitivity result;
  result.samples = in.samples;
  result.tokens = DivergenceMeter::Tokens(in);
  result.fpNll = meter.FpNll(options.calibration.data());
  const ModuleTree tree = TreeOf(formats::LayoutOf(options.layout));
  for (int64_t i = 0; i < config.layers; ++i) {
    ctx.CheckCancelled();
    LayerWidthLoss loss{DescribeLayer(*model, i, tree).name, {}};
    for (int bits : widths) {
      // A fresh fp32 copy per width (skipped slots too: the layer runs whole), so one layer's weights are held once.
      WorkingLayer layer = DescribeLayer(*model, i, tree);
      MarkSkipped(layer, options);
      LoadWeights(*model, layer, true);
      RoundLayer(layer, options, bits);
      loss.kl.push_back(meter.FromLayer(i, layer.View(), layer.norms, in, ctx));
    }
    result.layers.push_back(std::move(loss));
    // The next layer's input: this layer in full precision.
    Windows next{std::vector<float>(in.x.size()), in.samples, in.seqLen};
    const runtime::LayerLinears own = model->layerLinears(i);
    const runtime::LayerNorms norms = model->layerNorms(i);
    for (int64_t s = 0; s < in.samples; ++s) {
      const int64_t at = s * in.seqLen * hidden;
      model->RunLayer(i, own, norms, in.x.data() + at, in.seqLen, next.x.data() + at);
    }
    in = std::move(next);
    if (progress) progress(i + 1, config.layers);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace quantstudio::pipeline
