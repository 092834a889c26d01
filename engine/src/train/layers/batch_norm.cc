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
  DnnlOrDie("batch norm forward", [&] {
    m.src.set_data_handle(const_cast<float*>(src));
    m.dst.set_data_handle(dst);
    m.scale.set_data_handle(const_cast<float*>(gamma));
    m.shift.set_data_handle(const_cast<float*>(beta));
    m.mean.set_data_handle(mean);
    m.var.set_data_handle(var);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, m.src},     {DNNL_ARG_DST, m.dst},
                                            {DNNL_ARG_SCALE, m.scale}, {DNNL_ARG_SHIFT, m.shift},
                                            {DNNL_ARG_MEAN, m.mean},   {DNNL_ARG_VARIANCE, m.var}};
    if (m.relu) args[DNNL_ARG_WORKSPACE] = m.workspace;
    m.train.execute(CpuStream(), args);
  });
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
  DnnlOrDie("batch norm backward", [&] {
    m.src.set_data_handle(const_cast<float*>(src));
    m.diff_dst.set_data_handle(const_cast<float*>(diff_dst));
    m.diff_src.set_data_handle(diff_src);
    m.scale.set_data_handle(const_cast<float*>(gamma));
    m.mean.set_data_handle(const_cast<float*>(mean));
    m.var.set_data_handle(const_cast<float*>(var));
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, m.src},
                                            {DNNL_ARG_DIFF_DST, m.diff_dst},
                                            {DNNL_ARG_MEAN, m.mean},
                                            {DNNL_ARG_VARIANCE, m.var},
                                            {DNNL_ARG_SCALE, m.scale},
                                            {DNNL_ARG_SHIFT, m.bwd_shift},
                                            {DNNL_ARG_DIFF_SRC, m.diff_src},
                                            {DNNL_ARG_DIFF_SCALE, m.diff_scale},
                                            {DNNL_ARG_DIFF_SHIFT, m.diff_shift}};
    if (m.relu) args[DNNL_ARG_WORKSPACE] = m.workspace;
    m.bwd.execute(CpuStream(), args);
  });
  for (int i = 0; i < m.c; ++i) {
    diff_gamma[i] += m.diff_scale_buf[i];
    diff_beta[i] += m.diff_shift_buf[i];
  }
}

void BatchNorm::ForwardFrozen(const float* src, const float* gamma, const float* beta,
                              const float* mean, const float* var, float* dst) {
  Impl& m = *impl_;
  DnnlOrDie("batch norm frozen forward", [&] {
    m.MakeFrozen();
    m.src.set_data_handle(const_cast<float*>(src));
    m.dst.set_data_handle(dst);
    m.scale.set_data_handle(const_cast<float*>(gamma));
    m.shift.set_data_handle(const_cast<float*>(beta));
    m.mean.set_data_handle(const_cast<float*>(mean));
    m.var.set_data_handle(const_cast<float*>(var));
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, m.src},     {DNNL_ARG_DST, m.dst},
                                            {DNNL_ARG_SCALE, m.scale}, {DNNL_ARG_SHIFT, m.shift},
                                            {DNNL_ARG_MEAN, m.mean},   {DNNL_ARG_VARIANCE, m.var}};
    if (m.relu) args[DNNL_ARG_WORKSPACE] = m.frozen_workspace;
    m.frozen.execute(CpuStream(), args);
  });
}

void BatchNorm::BackwardFrozen(const float* src, const float* diff_dst, const float* gamma,
                               const float* mean, const float* var, float* diff_src,
                               float* diff_gamma, float* diff_beta) {
  Impl& m = *impl_;
  DnnlOrDie("batch norm frozen backward", [&] {
    m.MakeFrozen();
    m.src.set_data_handle(const_cast<float*>(src));
    m.diff_dst.set_data_handle(const_cast<float*>(diff_dst));
    m.diff_src.set_data_handle(diff_src);
    m.scale.set_data_handle(const_cast<float*>(gamma));
    m.mean.set_data_handle(const_cast<float*>(mean));
    m.var.set_data_handle(const_cast<float*>(var));
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, m.src},
                                            {DNNL_ARG_DIFF_DST, m.diff_dst},
                                            {DNNL_ARG_MEAN, m.mean},
                                            {DNNL_ARG_VARIANCE, m.var},
                                            {DNNL_ARG_SCALE, m.scale},
                                            {DNNL_ARG_SHIFT, m.bwd_shift},
                                            {DNNL_ARG_DIFF_SRC, m.diff_src},
                                            {DNNL_ARG_DIFF_SCALE, m.diff_scale},
                                            {DNNL_ARG_DIFF_SHIFT, m.diff_shift}};
    if (m.relu) args[DNNL_ARG_WORKSPACE] = m.frozen_workspace;
    m.frozen_bwd.execute(CpuStream(), args);
  });
  for (int i = 0; i < m.c; ++i) {
    diff_gamma[i] += m.diff_scale_buf[i];
    diff_beta[i] += m.diff_shift_buf[i];
  }
}

}  // namespace adaspring::engine::train
