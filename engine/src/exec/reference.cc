// Plain reference forward pass: NCHW f32 loops, unfolded batch norm with the per-width
// statistics, no oneDNN. Every optimised path is compared against it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adaspring/engine/variant.h"
#include "exec/fold.h"
#include "exec/lowrank.h"

namespace adaspring::engine {
namespace {

struct Tensor {
  int n = 0, c = 0, h = 0, w = 0;
  std::vector<float> d;
  float* plane(int b, int ch) { return d.data() + (static_cast<size_t>(b) * c + ch) * h * w; }
  const float* plane(int b, int ch) const {
    return d.data() + (static_cast<size_t>(b) * c + ch) * h * w;
  }
};

Tensor Make(int n, int c, int h, int w) {
  Tensor t{n, c, h, w, {}};
  t.d.assign(static_cast<size_t>(n) * c * h * w, 0.f);
  return t;
}

// y = conv(x, w) with OIHW weights [oc, ic/groups, k, k] (no bias).
Tensor Conv(const Tensor& x, const std::vector<float>& w, int oc, int groups, int k, int stride,
            int pad) {
  const int oh = (x.h + 2 * pad - k) / stride + 1, ow = (x.w + 2 * pad - k) / stride + 1;
  Tensor y = Make(x.n, oc, oh, ow);
  const int ipg = x.c / groups, opg = oc / groups;
  for (int b = 0; b < x.n; ++b) {
    for (int o = 0; o < oc; ++o) {
      float* out = y.plane(b, o);
      const int g = o / opg;
      for (int i = 0; i < ipg; ++i) {
        const float* in = x.plane(b, g * ipg + i);
        for (int kh = 0; kh < k; ++kh) {
          for (int kw = 0; kw < k; ++kw) {
            const float wv = w[((static_cast<size_t>(o) * ipg + i) * k + kh) * k + kw];
            for (int yh = 0; yh < oh; ++yh) {
              const int ih = yh * stride - pad + kh;
              if (ih < 0 || ih >= x.h) continue;
              for (int yw = 0; yw < ow; ++yw) {
                const int iw = yw * stride - pad + kw;
                if (iw < 0 || iw >= x.w) continue;
                out[yh * ow + yw] += wv * in[ih * x.w + iw];
              }
            }
          }
        }
      }
    }
  }
  return y;
}

void Activate(Tensor& t, Activation a) {
  for (float& v : t.d) v = a == Activation::kRelu6 ? std::clamp(v, 0.f, 6.f) : std::max(v, 0.f);
}

class Reference {
 public:
  Reference(const Model& m, const Config& c, bool low_rank) : m_(m), c_(c), low_rank_(low_rank) {}

  // conv + (BN or folded bias) + optional activation.
  Tensor ConvBn(const Tensor& x, const ConvSpec& spec, int row, int out, int in, int divisor,
                bool act) {
    Tensor y;
    if (low_rank_ && spec.factorisable && divisor > 1) {
      const exec::DenseConv folded = exec::FoldConv(m_, spec, row, out, in);
      const auto svd = exec::ComputeSvd(folded);
      const exec::DenseConv wr = exec::Truncated(*svd, FactorisedRank(spec, out, in, divisor));
      y = Conv(x, wr.weights, out, 1, spec.kernel, spec.stride, spec.pad);
      for (int b = 0; b < y.n; ++b)
        for (int o = 0; o < out; ++o) {
          float* p = y.plane(b, o);
          for (int i = 0; i < y.h * y.w; ++i) p[i] += wr.bias[o];
        }
    } else {
      // Slice the OIHW weights to [out, in, k, k] (depthwise: [out, 1, k, k]).
      const int k2 = spec.kernel * spec.kernel;
      const int max_ipg = spec.depthwise ? 1 : spec.in_channels;
      const int ipg = spec.depthwise ? 1 : in;
      const float* w = m_.Data(spec.name + ".weight");
      std::vector<float> ws(static_cast<size_t>(out) * ipg * k2);
      for (int o = 0; o < out; ++o)
        std::copy(w + static_cast<size_t>(o) * max_ipg * k2,
                  w + static_cast<size_t>(o) * max_ipg * k2 + ipg * k2,
                  ws.begin() + static_cast<size_t>(o) * ipg * k2);
      y = Conv(x, ws, out, spec.depthwise ? in : 1, spec.kernel, spec.stride, spec.pad);
      const float* gamma = m_.Data(spec.bn + ".gamma");
      const float* beta = m_.Data(spec.bn + ".beta");
      const float* mean = m_.Data(spec.bn + ".mean") + static_cast<size_t>(row) * spec.out_channels;
      const float* var = m_.Data(spec.bn + ".var") + static_cast<size_t>(row) * spec.out_channels;
      for (int b = 0; b < y.n; ++b)
        for (int o = 0; o < out; ++o) {
          float* p = y.plane(b, o);
          const float inv = 1.f / std::sqrt(var[o] + kBnEpsilon);
          for (int i = 0; i < y.h * y.w; ++i) p[i] = gamma[o] * (p[i] - mean[o]) * inv + beta[o];
        }
    }
    if (act) Activate(y, m_.arch().activation);
    return y;
  }

  void Forward(const float* input, int batch, float* logits) {
    const ArchSpec& a = m_.arch();
    const NetSpec& net = m_.net();
    Tensor x = Make(batch, a.in_channels, a.in_height, a.in_width);
    std::copy(input, input + x.d.size(), x.d.begin());
    x = ConvBn(x, net.stem, 0, net.stem.out_channels, net.stem.in_channels, 1, true);
    if (a.stem_max_pool) x = MaxPool3x3s2(x);
    for (const BlockSpec& b : net.blocks) {
      if (b.index >= c_.depth[b.stage]) continue;
      const int g = b.global_index;
      const int row = c_.width_idx[g];
      const int inner = b.inner_choices[row];
      const int div = a.rank_divisors[c_.rank_idx[g]];
      if (b.kind == BlockKind::kBasic) {
        Tensor t = ConvBn(x, b.convs[0], row, inner, b.in_channels, div, true);
        t = ConvBn(t, b.convs[1], row, b.out_channels, inner, div, false);
        Tensor sc = b.has_downsample
                        ? ConvBn(x, b.downsample, row, b.out_channels, b.in_channels, 1, false)
                        : x;
        for (size_t i = 0; i < t.d.size(); ++i) t.d[i] += sc.d[i];
        Activate(t, a.activation);
        x = std::move(t);
      } else {
        Tensor t = x;
        for (size_t i = 0; i + 1 < b.convs.size(); ++i) {
          const ConvSpec& c = b.convs[i];
          const int in = c.depthwise || c.in_elastic ? inner : c.in_channels;
          const int out = c.out_elastic ? inner : c.out_channels;
          t = ConvBn(t, c, row, out, in, div, c.act);
        }
        t = ConvBn(t, b.convs.back(), row, b.out_channels, inner, div, false);
        if (b.residual)
          for (size_t i = 0; i < t.d.size(); ++i) t.d[i] += x.d[i];
        x = std::move(t);
      }
    }
    if (net.has_head_conv)
      x = ConvBn(x, net.head, 0, net.head.out_channels, net.head.in_channels, 1, true);
    // Global average pooling and the classifier.
    const float* fw = m_.Data("fc.weight");
    const float* fb = m_.Data("fc.bias");
    std::vector<double> pooled(x.c);
    for (int b = 0; b < batch; ++b) {
      for (int ch = 0; ch < x.c; ++ch) {
        double s = 0;
        const float* p = x.plane(b, ch);
        for (int i = 0; i < x.h * x.w; ++i) s += p[i];
        pooled[ch] = s / (x.h * x.w);
      }
      for (int o = 0; o < net.num_classes; ++o) {
        double s = fb[o];
        for (int ch = 0; ch < x.c; ++ch) s += fw[static_cast<size_t>(o) * x.c + ch] * pooled[ch];
        logits[static_cast<size_t>(b) * net.num_classes + o] = static_cast<float>(s);
      }
    }
  }

 private:
  static Tensor MaxPool3x3s2(const Tensor& x) {
    const int oh = (x.h + 2 - 3) / 2 + 1, ow = (x.w + 2 - 3) / 2 + 1;
    Tensor y = Make(x.n, x.c, oh, ow);
    for (int b = 0; b < x.n; ++b)
      for (int ch = 0; ch < x.c; ++ch) {
        const float* in = x.plane(b, ch);
        float* out = y.plane(b, ch);
        for (int yh = 0; yh < oh; ++yh)
          for (int yw = 0; yw < ow; ++yw) {
            float m = -std::numeric_limits<float>::infinity();
            for (int kh = 0; kh < 3; ++kh)
              for (int kw = 0; kw < 3; ++kw) {
                const int ih = yh * 2 - 1 + kh, iw = yw * 2 - 1 + kw;
                if (ih >= 0 && ih < x.h && iw >= 0 && iw < x.w) m = std::max(m, in[ih * x.w + iw]);
              }
            out[yh * ow + yw] = m;
          }
      }
    return y;
  }

  const Model& m_;
  const Config& c_;
  bool low_rank_;
};

absl::Status Run(const Model& model, const Config& config, const float* input, int batch,
                 float* logits, bool low_rank) {
  if (batch < 1) return absl::InvalidArgumentError(absl::StrCat("batch ", batch, " < 1"));
  if (absl::Status s = model.space().Validate(config); !s.ok()) return s;
  if (absl::Status s = model.CheckTensors(); !s.ok()) return s;
  Reference(model, model.space().Canonical(config), low_rank).Forward(input, batch, logits);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReferenceForward(const Model& model, const Config& config, const float* input,
                              int batch, float* logits) {
  return Run(model, config, input, batch, logits, /*low_rank=*/false);
}

absl::Status ReferenceForwardLowRank(const Model& model, const Config& config, const float* input,
                                     int batch, float* logits) {
  return Run(model, config, input, batch, logits, /*low_rank=*/true);
}

}  // namespace adaspring::engine
