// ReLU (oneDNN eltwise forward/backward, backward from the forward's output so it can run in
// place) and the residual add.
#include "adaspring/engine/train/layers.h"
#include "train/layers/dnnl_util.h"

namespace adaspring::engine::train {

using dnnl::memory;

struct Relu::Impl {
  dnnl::eltwise_forward fwd;
  dnnl::eltwise_backward bwd;
  memory src, dst, diff_src, diff_dst;
};

Relu::Relu(int64_t count) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  DnnlOrDie("relu setup", [&] {
    auto& eng = CpuEngine();
    const memory::desc data = Md({count}, Tag::x);
    dnnl::eltwise_forward::primitive_desc fwd_pd(
        {dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_relu_use_dst_for_bwd, data,
         0.f, 0.f},
        eng);
    dnnl::eltwise_backward::primitive_desc bwd_pd(
        {dnnl::algorithm::eltwise_relu_use_dst_for_bwd, data, data, 0.f, 0.f}, eng, fwd_pd);
    m.fwd = dnnl::eltwise_forward(fwd_pd);
    m.bwd = dnnl::eltwise_backward(bwd_pd);
    for (memory* mem : {&m.src, &m.dst, &m.diff_src, &m.diff_dst})
      *mem = memory(data, eng, nullptr);
  });
}

Relu::~Relu() = default;

void Relu::Forward(const float* src, float* dst) {
  Impl& m = *impl_;
  DnnlOrDie("relu forward", [&] {
    m.src.set_data_handle(const_cast<float*>(src));
    m.dst.set_data_handle(dst);
    m.fwd.execute(CpuStream(), {{DNNL_ARG_SRC, m.src}, {DNNL_ARG_DST, m.dst}});
  });
}

void Relu::Backward(const float* dst, const float* diff_dst, float* diff_src) {
  Impl& m = *impl_;
  DnnlOrDie("relu backward", [&] {
    m.dst.set_data_handle(const_cast<float*>(dst));
    m.diff_dst.set_data_handle(const_cast<float*>(diff_dst));
    m.diff_src.set_data_handle(diff_src);
    m.bwd.execute(
        CpuStream(),
        {{DNNL_ARG_DST, m.dst}, {DNNL_ARG_DIFF_DST, m.diff_dst}, {DNNL_ARG_DIFF_SRC, m.diff_src}});
  });
}

void AddInPlace(const float* src, float* dst, int64_t count) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < count; ++i) dst[i] += src[i];
}

}  // namespace adaspring::engine::train
