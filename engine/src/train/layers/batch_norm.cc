// BatchNorm training layer: oneDNN batch_normalization forward (training and inference) and
// backward (prop_kind::backward, with diff scale/shift), optionally fused with ReLU (the fused
// forward keeps a workspace that the backward uses as the ReLU mask).
#include <unordered_map>
#include <vector>

#include "adaspring/engine/train/layers.h"
#include "train/layers/dnnl_util.h"

namespace adaspring::engine::train {

using dnnl::memory;
using dnnl::normalization_flags;

constexpr float kBnEpsilon = 1e-5f;

struct BatchNorm::Impl {
  int c = 0;
  bool relu = false;
  dnnl::batch_normalization_forward::primitive_desc train_pd, infer_pd;
  dnnl::batch_normalization_backward::primitive_desc bwd_pd;
  dnnl::batch_normalization_forward train, infer;
  dnnl::batch_normalization_backward bwd;
  memory src, dst, diff_src, diff_dst, scale, shift, mean, var, workspace, diff_scale, diff_shift;
  std::vector<float> diff_scale_buf, diff_shift_buf;
  // oneDNN 2.6 counts SHIFT among the backward's inputs when use_shift is set, although the
  // gradient does not depend on it: bound to this (unused) buffer.
  std::vector<float> unused_shift;
  memory bwd_shift;
  // Frozen-statistics training (use_global_stats), created on first use.
  bool frozen_ready = false;
  dnnl::batch_normalization_forward::primitive_desc frozen_pd;
  dnnl::batch_normalization_backward::primitive_desc frozen_bwd_pd;
  dnnl::batch_normalization_forward frozen;
  dnnl::batch_normalization_backward frozen_bwd;
  memory frozen_workspace;
  memory::desc data_md;
  normalization_flags flags{};
  void MakeFrozen() {
    if (frozen_ready) return;
    auto& eng = CpuEngine();
    const auto f = flags | normalization_flags::use_global_stats;
    frozen_pd = dnnl::batch_normalization_forward::primitive_desc(
        {dnnl::prop_kind::forward_training, data_md, kBnEpsilon, f}, eng);
    frozen_bwd_pd = dnnl::batch_normalization_backward::primitive_desc(
        {dnnl::prop_kind::backward, data_md, data_md, kBnEpsilon, f}, eng, frozen_pd);
    frozen = dnnl::batch_normalization_forward(frozen_pd);
    frozen_bwd = dnnl::batch_normalization_backward(frozen_bwd_pd);
    if (relu) frozen_workspace = memory(frozen_pd.workspace_desc(), eng);
    frozen_ready = true;
  }
  // One training-kind forward (batch statistics written to mean/var, or frozen ones read).
  void Forward(const dnnl::batch_normalization_forward& prim, memory& ws, const float* src_p,
               const float* gamma, const float* beta, float* mean_p, float* var_p, float* dst_p) {
    src.set_data_handle(const_cast<float*>(src_p));
    dst.set_data_handle(dst_p);
    scale.set_data_handle(const_cast<float*>(gamma));
    shift.set_data_handle(const_cast<float*>(beta));
    mean.set_data_handle(mean_p);
    var.set_data_handle(var_p);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src},     {DNNL_ARG_DST, dst},
                                            {DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift},
                                            {DNNL_ARG_MEAN, mean},   {DNNL_ARG_VARIANCE, var}};
    if (relu) args[DNNL_ARG_WORKSPACE] = ws;
    prim.execute(CpuStream(), args);
  }
  // The matching backward; accumulates diff_gamma / diff_beta.
  void Backward(const dnnl::batch_normalization_backward& prim, memory& ws, const float* src_p,
                const float* diff_dst_p, const float* gamma, const float* mean_p,
                const float* var_p, float* diff_src_p) {
    src.set_data_handle(const_cast<float*>(src_p));
    diff_dst.set_data_handle(const_cast<float*>(diff_dst_p));
    diff_src.set_data_handle(diff_src_p);
    scale.set_data_handle(const_cast<float*>(gamma));
    mean.set_data_handle(const_cast<float*>(mean_p));
    var.set_data_handle(const_cast<float*>(var_p));
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src},
                                            {DNNL_ARG_DIFF_DST, diff_dst},
                                            {DNNL_ARG_MEAN, mean},
                                            {DNNL_ARG_VARIANCE, var},
                                            {DNNL_ARG_SCALE, scale},
                                            {DNNL_ARG_SHIFT, bwd_shift},
                                            {DNNL_ARG_DIFF_SRC, diff_src},
                                            {DNNL_ARG_DIFF_SCALE, diff_scale},
                                            {DNNL_ARG_DIFF_SHIFT, diff_shift}};
    if (relu) args[DNNL_ARG_WORKSPACE] = ws;
    prim.execute(CpuStream(), args);
  }
  void AccumulateParamGrads(float* diff_gamma, float* diff_beta) const {
    for (int i = 0; i < c; ++i) {
      diff_gamma[i] += diff_scale_buf[i];
      diff_beta[i] += diff_shift_buf[i];
    }
  }
};

BatchNorm::BatchNorm(int n, int h, int w, int c, bool fuse_relu) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.c = c;
  m.relu = fuse_relu;
  DnnlOrDie("batch norm setup", [&] {
    auto& eng = CpuEngine();
    const memory::desc data = Md({n, c, h, w}, Tag::nhwc);
    const memory::desc vec = Md({c}, Tag::x);
    auto flags = normalization_flags::use_scale | normalization_flags::use_shift;
    if (fuse_relu) flags = flags | normalization_flags::fuse_norm_relu;
    m.data_md = data;
    m.flags = flags;
    m.train_pd = dnnl::batch_normalization_forward::primitive_desc(
        {dnnl::prop_kind::forward_training, data, kBnEpsilon, flags}, eng);
    m.infer_pd = dnnl::batch_normalization_forward::primitive_desc(
        {dnnl::prop_kind::forward_inference, data, kBnEpsilon,
         flags | normalization_flags::use_global_stats},
        eng);
    m.bwd_pd = dnnl::batch_normalization_backward::primitive_desc(
        {dnnl::prop_kind::backward, data, data, kBnEpsilon, flags}, eng, m.train_pd);
    m.train = dnnl::batch_normalization_forward(m.train_pd);
    m.infer = dnnl::batch_normalization_forward(m.infer_pd);
    m.bwd = dnnl::batch_normalization_backward(m.bwd_pd);
    for (memory* mem : {&m.src, &m.dst, &m.diff_src, &m.diff_dst})
      *mem = memory(data, eng, nullptr);
    for (memory* mem : {&m.scale, &m.shift, &m.mean, &m.var}) *mem = memory(vec, eng, nullptr);
    if (fuse_relu) m.workspace = memory(m.train_pd.workspace_desc(), eng);
    m.unused_shift.assign(c, 0.f);
    m.bwd_shift = memory(vec, eng, m.unused_shift.data());
    m.diff_scale_buf.resize(c);
    m.diff_shift_buf.resize(c);
    m.diff_scale = memory(vec, eng, m.diff_scale_buf.data());
    m.diff_shift = memory(vec, eng, m.diff_shift_buf.data());
  });
}

BatchNorm::~BatchNorm() = default;

void BatchNorm::ForwardTrain(const float* src, const float* gamma, const float* beta, float* dst,
                             float* mean, float* var) {
  Impl& m = *impl_;
  DnnlOrDie("batch norm forward",
            [&] { m.Forward(m.train, m.workspace, src, gamma, beta, mean, var, dst); });
}

void BatchNorm::ForwardInference(const float* src, const float* gamma, const float* beta,
                                 const float* mean, const float* var, float* dst) {
  Impl& m = *impl_;
  DnnlOrDie("batch norm inference", [&] {
    m.src.set_data_handle(const_cast<float*>(src));
    m.dst.set_data_handle(dst);
    m.scale.set_data_handle(const_cast<float*>(gamma));
    m.shift.set_data_handle(const_cast<float*>(beta));
    m.mean.set_data_handle(const_cast<float*>(mean));
    m.var.set_data_handle(const_cast<float*>(var));
    m.infer.execute(CpuStream(), {{DNNL_ARG_SRC, m.src},
                                  {DNNL_ARG_DST, m.dst},
                                  {DNNL_ARG_SCALE, m.scale},
                                  {DNNL_ARG_SHIFT, m.shift},
                                  {DNNL_ARG_MEAN, m.mean},
                                  {DNNL_ARG_VARIANCE, m.var}});
  });
}

void BatchNorm::Backward(const float* src, const float* diff_dst, const float* gamma,
                         const float* mean, const float* var, float* diff_src, float* diff_gamma,
                         float* diff_beta) {
  Impl& m = *impl_;
  DnnlOrDie("batch norm backward",
            [&] { m.Backward(m.bwd, m.workspace, src, diff_dst, gamma, mean, var, diff_src); });
  m.AccumulateParamGrads(diff_gamma, diff_beta);
}

void BatchNorm::ForwardFrozen(const float* src, const float* gamma, const float* beta,
                              const float* mean, const float* var, float* dst) {
  Impl& m = *impl_;
  DnnlOrDie("batch norm frozen forward", [&] {
    m.MakeFrozen();
    // use_global_stats: mean/var are inputs, never written.
    m.Forward(m.frozen, m.frozen_workspace, src, gamma, beta, const_cast<float*>(mean),
              const_cast<float*>(var), dst);
  });
}

void BatchNorm::BackwardFrozen(const float* src, const float* diff_dst, const float* gamma,
                               const float* mean, const float* var, float* diff_src,
                               float* diff_gamma, float* diff_beta) {
  Impl& m = *impl_;
  DnnlOrDie("batch norm frozen backward", [&] {
    m.MakeFrozen();
    m.Backward(m.frozen_bwd, m.frozen_workspace, src, diff_dst, gamma, mean, var, diff_src);
  });
  m.AccumulateParamGrads(diff_gamma, diff_beta);
}

}  // namespace adaspring::engine::train
