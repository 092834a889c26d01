// Fully connected layer: oneDNN inner_product forward / backward_data / backward_weights with
// plain nc / oi layouts (the head is tiny; reorders would cost more than they save).
#include <vector>

#include "adaspring/engine/train/layers.h"
#include "train/layers/dnnl_util.h"

namespace adaspring::engine::train {

using dnnl::memory;

struct Linear::Impl {
  int in = 0, out = 0;
  dnnl::inner_product_forward fwd;
  dnnl::inner_product_backward_data bwd_d;
  dnnl::inner_product_backward_weights bwd_w;
  memory src, dst, weight, bias;
  memory diff_weight, diff_bias;
  std::vector<float> diff_weight_buf, diff_bias_buf;
};

Linear::Linear(int n, int in, int out) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.in = in;
  m.out = out;
  DnnlOrDie("linear setup", [&] {
    auto& eng = CpuEngine();
    const memory::desc src = Md({n, in}, Tag::nc), dst = Md({n, out}, Tag::nc);
    const memory::desc w = Md({out, in}, Tag::oi), b = Md({out}, Tag::x);
    dnnl::inner_product_forward::primitive_desc fwd_pd(
        {dnnl::prop_kind::forward_training, src, w, b, dst}, eng);
    dnnl::inner_product_backward_data::primitive_desc bwd_d_pd({src, w, dst}, eng, fwd_pd);
    dnnl::inner_product_backward_weights::primitive_desc bwd_w_pd({src, w, b, dst}, eng, fwd_pd);
    m.fwd = dnnl::inner_product_forward(fwd_pd);
    m.bwd_d = dnnl::inner_product_backward_data(bwd_d_pd);
    m.bwd_w = dnnl::inner_product_backward_weights(bwd_w_pd);
    m.src = memory(src, eng, nullptr);
    m.dst = memory(dst, eng, nullptr);
    m.weight = memory(w, eng, nullptr);
    m.bias = memory(b, eng, nullptr);
    m.diff_weight_buf.resize(static_cast<size_t>(out) * in);
    m.diff_bias_buf.resize(out);
    m.diff_weight = memory(w, eng, m.diff_weight_buf.data());
    m.diff_bias = memory(b, eng, m.diff_bias_buf.data());
  });
}

Linear::~Linear() = default;

void Linear::Forward(const float* src, const float* weight, const float* bias, float* dst) {
  Impl& m = *impl_;
  DnnlOrDie("linear forward", [&] {
    m.src.set_data_handle(const_cast<float*>(src));
    m.weight.set_data_handle(const_cast<float*>(weight));
    m.bias.set_data_handle(const_cast<float*>(bias));
    m.dst.set_data_handle(dst);
    m.fwd.execute(CpuStream(), {{DNNL_ARG_SRC, m.src},
                                {DNNL_ARG_WEIGHTS, m.weight},
                                {DNNL_ARG_BIAS, m.bias},
                                {DNNL_ARG_DST, m.dst}});
  });
}

void Linear::BackwardData(const float* diff_dst, const float* weight, float* diff_src) {
  Impl& m = *impl_;
  DnnlOrDie("linear backward data", [&] {
    m.dst.set_data_handle(const_cast<float*>(diff_dst));
    m.weight.set_data_handle(const_cast<float*>(weight));
    m.src.set_data_handle(diff_src);
    m.bwd_d.execute(
        CpuStream(),
        {{DNNL_ARG_DIFF_DST, m.dst}, {DNNL_ARG_WEIGHTS, m.weight}, {DNNL_ARG_DIFF_SRC, m.src}});
  });
}

void Linear::BackwardWeights(const float* src, const float* diff_dst, float* diff_weight,
                             float* diff_bias) {
  Impl& m = *impl_;
  DnnlOrDie("linear backward weights", [&] {
    m.src.set_data_handle(const_cast<float*>(src));
    m.dst.set_data_handle(const_cast<float*>(diff_dst));
    m.bwd_w.execute(CpuStream(), {{DNNL_ARG_SRC, m.src},
                                  {DNNL_ARG_DIFF_DST, m.dst},
                                  {DNNL_ARG_DIFF_WEIGHTS, m.diff_weight},
                                  {DNNL_ARG_DIFF_BIAS, m.diff_bias}});
  });
  for (size_t i = 0; i < m.diff_weight_buf.size(); ++i) diff_weight[i] += m.diff_weight_buf[i];
  for (int i = 0; i < m.out; ++i) diff_bias[i] += m.diff_bias_buf[i];
}

}  // namespace adaspring::engine::train
