// Conv2d training layer: forward_training, backward_data and backward_weights primitives
// with activations in NHWC and weights in the layout oneDNN picks (format_tag::any).
#include <cstring>
#include <vector>

#include "adaspring/engine/train/layers.h"
#include "train/layers/dnnl_util.h"

namespace adaspring::engine::train {

using dnnl::memory;

struct Conv2d::Impl {
  int n, ic, oc, ih, iw, k, stride, pad, oh, ow;
  memory::desc src_md, dst_md, user_w_md;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc bwd_d_pd;
  dnnl::convolution_backward_weights::primitive_desc bwd_w_pd;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_d;
  dnnl::convolution_backward_weights bwd_w;
  memory fwd_w, bwd_d_w, diff_w, diff_w_user, user_w;
  dnnl::reorder to_fwd_w, to_bwd_d_w, from_diff_w;
  memory src_mem, dst_mem, bwd_w_src, bwd_w_diff_dst, bwd_d_diff_dst, bwd_d_diff_src;
  bool bwd_d_same_weights = false;
  std::vector<float> dense_w, dense_grad;  // OIHW staging for strided slices
};

Conv2d::Conv2d(int n, int ic, int oc, int ih, int iw, int k, int stride, int pad)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.n = n, m.ic = ic, m.oc = oc, m.ih = ih, m.iw = iw, m.k = k, m.stride = stride, m.pad = pad;
  m.oh = (ih + 2 * pad - k) / stride + 1;
  m.ow = (iw + 2 * pad - k) / stride + 1;
  DnnlOrDie("conv setup", [&] {
    auto& eng = CpuEngine();
    m.src_md = Md({n, ic, ih, iw}, Tag::nhwc);
    m.dst_md = Md({n, oc, m.oh, m.ow}, Tag::nhwc);
    m.user_w_md = Md({oc, ic, k, k}, Tag::oihw);
    const memory::desc any_w = Md({oc, ic, k, k}, Tag::any);
    const memory::dims strides = {stride, stride}, pads = {pad, pad};
    dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training,
                                       dnnl::algorithm::convolution_direct, m.src_md, any_w,
                                       m.dst_md, strides, pads, pads);
    m.fwd_pd = dnnl::convolution_forward::primitive_desc(fd, eng);
    dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, m.src_md, any_w,
                                             m.dst_md, strides, pads, pads);
    m.bwd_d_pd = dnnl::convolution_backward_data::primitive_desc(bd, eng, m.fwd_pd);
    dnnl::convolution_backward_weights::desc bw(dnnl::algorithm::convolution_direct, m.src_md,
                                                any_w, m.dst_md, strides, pads, pads);
    m.bwd_w_pd = dnnl::convolution_backward_weights::primitive_desc(bw, eng, m.fwd_pd);
    m.fwd = dnnl::convolution_forward(m.fwd_pd);
    m.bwd_d = dnnl::convolution_backward_data(m.bwd_d_pd);
    m.bwd_w = dnnl::convolution_backward_weights(m.bwd_w_pd);
    m.fwd_w = memory(m.fwd_pd.weights_desc(), eng);
    m.bwd_d_same_weights = m.bwd_d_pd.weights_desc() == m.fwd_pd.weights_desc();
    m.bwd_d_w = m.bwd_d_same_weights ? m.fwd_w : memory(m.bwd_d_pd.weights_desc(), eng);
    m.diff_w = memory(m.bwd_w_pd.diff_weights_desc(), eng);
    m.dense_w.resize(static_cast<size_t>(oc) * ic * k * k);
    m.dense_grad.resize(m.dense_w.size());
    m.diff_w_user = memory(m.user_w_md, eng, m.dense_grad.data());
    m.user_w = memory(m.user_w_md, eng, m.dense_w.data());
    m.to_fwd_w = dnnl::reorder(m.user_w, m.fwd_w);
    if (!m.bwd_d_same_weights) m.to_bwd_d_w = dnnl::reorder(m.user_w, m.bwd_d_w);
    m.from_diff_w = dnnl::reorder(m.diff_w, m.diff_w_user);
    // Activation memories wrap caller buffers; handles are set per call.
    m.src_mem = memory(m.src_md, eng, nullptr);
    m.dst_mem = memory(m.dst_md, eng, nullptr);
  });
}

Conv2d::~Conv2d() = default;
int Conv2d::oh() const { return impl_->oh; }
int Conv2d::ow() const { return impl_->ow; }

void Conv2d::SetWeights(const WeightSlice& w) {
  Impl& m = *impl_;
  const int kk = m.k * m.k;
  // Gather the (possibly strided) slice into dense OIHW, then reorder once per layout.
  for (int o = 0; o < m.oc; ++o)
    for (int i = 0; i < m.ic; ++i)
      std::memcpy(&m.dense_w[(static_cast<size_t>(o) * m.ic + i) * kk],
                  w.data + o * w.o_stride + i * w.i_stride, sizeof(float) * kk);
  DnnlOrDie("conv weights reorder", [&] {
    m.to_fwd_w.execute(CpuStream(), m.user_w, m.fwd_w);
    if (!m.bwd_d_same_weights) m.to_bwd_d_w.execute(CpuStream(), m.user_w, m.bwd_d_w);
  });
}

void Conv2d::Forward(const float* src, float* dst) {
  Impl& m = *impl_;
  DnnlOrDie("conv forward", [&] {
    m.src_mem.set_data_handle(const_cast<float*>(src));
    m.dst_mem.set_data_handle(dst);
    m.fwd.execute(
        CpuStream(),
        {{DNNL_ARG_SRC, m.src_mem}, {DNNL_ARG_WEIGHTS, m.fwd_w}, {DNNL_ARG_DST, m.dst_mem}});
  });
}

void Conv2d::BackwardData(const float* diff_dst, float* diff_src) {
  Impl& m = *impl_;
  DnnlOrDie("conv backward data", [&] {
    m.dst_mem.set_data_handle(const_cast<float*>(diff_dst));
    m.src_mem.set_data_handle(diff_src);
    m.bwd_d.execute(CpuStream(), {{DNNL_ARG_DIFF_DST, m.dst_mem},
                                  {DNNL_ARG_WEIGHTS, m.bwd_d_w},
                                  {DNNL_ARG_DIFF_SRC, m.src_mem}});
  });
}

void Conv2d::BackwardWeights(const float* src, const float* diff_dst, const WeightSlice& grad,
                             const std::function<void(float* dense)>& edit) {
  Impl& m = *impl_;
  DnnlOrDie("conv backward weights", [&] {
    m.src_mem.set_data_handle(const_cast<float*>(src));
    m.dst_mem.set_data_handle(const_cast<float*>(diff_dst));
    m.bwd_w.execute(CpuStream(), {{DNNL_ARG_SRC, m.src_mem},
                                  {DNNL_ARG_DIFF_DST, m.dst_mem},
                                  {DNNL_ARG_DIFF_WEIGHTS, m.diff_w}});
    m.from_diff_w.execute(CpuStream(), m.diff_w, m.diff_w_user);
  });
  if (edit) edit(m.dense_grad.data());
  // Scatter-accumulate the dense gradient into the (strided) slice of the shared gradient.
  const int kk = m.k * m.k;
  for (int o = 0; o < m.oc; ++o)
    for (int i = 0; i < m.ic; ++i) {
      const float* g = &m.dense_grad[(static_cast<size_t>(o) * m.ic + i) * kk];
      float* dst = grad.data + o * grad.o_stride + i * grad.i_stride;
      for (int j = 0; j < kk; ++j) dst[j] += g[j];
    }
}

}  // namespace adaspring::engine::train
