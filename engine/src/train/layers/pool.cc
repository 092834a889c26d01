// Global average pooling: oneDNN pooling (avg, kernel = whole feature map) forward/backward.
#include "adaspring/engine/train/layers.h"
#include "train/layers/dnnl_util.h"

namespace adaspring::engine::train {

using dnnl::memory;

struct GlobalAvgPool::Impl {
  dnnl::pooling_forward fwd;
  dnnl::pooling_backward bwd;
  memory src, dst;
};

GlobalAvgPool::GlobalAvgPool(int n, int h, int w, int c) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  DnnlOrDie("pool setup", [&] {
    auto& eng = CpuEngine();
    const memory::desc src = Md({n, c, h, w}, Tag::nhwc);
    const memory::desc dst = Md({n, c, 1, 1}, Tag::nhwc);
    dnnl::pooling_forward::primitive_desc fwd_pd({dnnl::prop_kind::forward_training,
                                                  dnnl::algorithm::pooling_avg_exclude_padding,
                                                  src,
                                                  dst,
                                                  {1, 1},
                                                  {h, w},
                                                  {0, 0},
                                                  {0, 0}},
                                                 eng);
    dnnl::pooling_backward::primitive_desc bwd_pd(
        {dnnl::algorithm::pooling_avg_exclude_padding, src, dst, {1, 1}, {h, w}, {0, 0}, {0, 0}},
        eng, fwd_pd);
    m.fwd = dnnl::pooling_forward(fwd_pd);
    m.bwd = dnnl::pooling_backward(bwd_pd);
    m.src = memory(src, eng, nullptr);
    m.dst = memory(dst, eng, nullptr);
  });
}

GlobalAvgPool::~GlobalAvgPool() = default;

void GlobalAvgPool::Forward(const float* src, float* dst) {
  Impl& m = *impl_;
  DnnlOrDie("pool forward", [&] {
    m.src.set_data_handle(const_cast<float*>(src));
    m.dst.set_data_handle(dst);
    m.fwd.execute(CpuStream(), {{DNNL_ARG_SRC, m.src}, {DNNL_ARG_DST, m.dst}});
  });
}

void GlobalAvgPool::Backward(const float* diff_dst, float* diff_src) {
  Impl& m = *impl_;
  DnnlOrDie("pool backward", [&] {
    m.dst.set_data_handle(const_cast<float*>(diff_dst));
    m.src.set_data_handle(diff_src);
    m.bwd.execute(CpuStream(), {{DNNL_ARG_DIFF_DST, m.dst}, {DNNL_ARG_DIFF_SRC, m.src}});
  });
}

}  // namespace adaspring::engine::train
