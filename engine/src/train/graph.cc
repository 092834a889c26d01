// Forward and backward passes of the supernet graph (see graph.h).
#include "train/graph.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>

namespace adaspring::engine::train {
namespace {

int64_t Count(int n, int h, int w, int c) { return static_cast<int64_t>(n) * h * w * c; }

void Resize(Buffer& b, int64_t count) { b.assign(static_cast<size_t>(count), 0.f); }

// Dense OIHW slice view of a conv's [out, in, k, k] tensor.
WeightSlice Slice(std::vector<float>& t, int in_channels, int k) {
  return WeightSlice{t.data(), static_cast<int64_t>(in_channels) * k * k,
                     static_cast<int64_t>(k) * k};
}

// Rank-r version of a conv's (strided) weight slice as the engine will build it: the slice is
// folded with its BN's per-output-channel scale s = gamma / sqrt(var + eps) (the running
// statistics of width row `row`), projected onto the top-r left singular subspace of the
// folded matrix (= truncated SVD, via the eigenvectors of W W^T, which is oc x oc and small),
// and unfolded again. Dense OIHW into `out`. The gradient of the rank-r weight reaches the
// full weight (straight-through), so training teaches the shared weights to keep their
// function in their leading singular directions; with `grad` set, what Backward needs to drop
// the part of that gradient the truncation cannot see (ProjectLowRankGrad) is kept there.
void TruncateRank(const WeightSlice& w, int oc, int ic, int k, const float* gamma,
                  const float* run_var, int rank, std::vector<float>* out, LowRankGrad* grad) {
  const int kk = k * k, cols = ic * kk;
  std::vector<double> scale(oc);
  for (int o = 0; o < oc; ++o) {
    double s = gamma[o] / std::sqrt(static_cast<double>(run_var[o]) + 1e-5);
    if (std::abs(s) < 1e-6) s = s < 0 ? -1e-6 : 1e-6;
    scale[o] = s;
  }
  Eigen::MatrixXd m(oc, cols);
  for (int o = 0; o < oc; ++o)
    for (int i = 0; i < ic; ++i)
      for (int j = 0; j < kk; ++j)
        m(o, i * kk + j) = scale[o] * w.data[o * w.o_stride + i * w.i_stride + j];
  const Eigen::MatrixXd gram = m * m.transpose();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(gram);  // ascending eigenvalues
  const Eigen::MatrixXd u = es.eigenvectors().rightCols(std::min(rank, oc));
  const Eigen::MatrixXd ut_m = u.transpose() * m;  // [r, cols]
  const Eigen::MatrixXd proj = u * ut_m;
  out->resize(static_cast<size_t>(oc) * cols);
  for (int o = 0; o < oc; ++o)
    for (int c = 0; c < cols; ++c)
      (*out)[static_cast<size_t>(o) * cols + c] = static_cast<float>(proj(o, c) / scale[o]);
  if (grad) {
    // Right singular subspace: the row space of U^T M (an orthonormal basis by QR, which
    // also copes with a singular value of zero).
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(ut_m.transpose());
    grad->u = u;
    grad->v = qr.householderQ() * Eigen::MatrixXd::Identity(cols, u.cols());
    grad->scale = std::move(scale);
  }
}

// The truncation T(M) = P M (P = U U^T, the top-r left singular subspace of M) changes, to
// first order, only with the parts P D, D Q of a change D of M (Q = V V^T): the block
// (I - P) D (I - Q) moves only the discarded singular directions. The straight-through
// gradient H = dL/dT contains that block too, and there it is noise for every other
// configuration sharing the weights: it is removed. `dense` is dL/dW_r [oc, cols] of the
// unfolded weight W_r = diag(1/s) T; dL/dW = diag(s) dL/dM, dL/dM = diag(1/s) dL/dW_r.
void ProjectLowRankGrad(const LowRankGrad& p, int oc, int cols, float* dense) {
  Eigen::MatrixXd h(oc, cols);
  for (int o = 0; o < oc; ++o)
    for (int c = 0; c < cols; ++c) h(o, c) = dense[static_cast<size_t>(o) * cols + c] / p.scale[o];
  const Eigen::MatrixXd hv = h * p.v;                            // [oc, r]
  const Eigen::MatrixXd left = h - p.u * (p.u.transpose() * h);  // (I - P) H
  const Eigen::MatrixXd noise = left - (hv - p.u * (p.u.transpose() * hv)) * p.v.transpose();
  for (int o = 0; o < oc; ++o)
    for (int c = 0; c < cols; ++c)
      dense[static_cast<size_t>(o) * cols + c] -= static_cast<float>(p.scale[o] * noise(o, c));
}

// Weight gradient of a conv into `slice` (accumulated), projected by the trace's entry
// `proj` when it is >= 0.
void ConvWeightGrad(Conv2d& conv, const float* src, const float* diff_dst, const WeightSlice& slice,
                    int oc, int ic, int k, const std::vector<LowRankGrad>& grads, int proj) {
  if (proj < 0) {
    conv.BackwardWeights(src, diff_dst, slice);
    return;
  }
  conv.BackwardWeights(src, diff_dst, slice, [&](float* dense) {
    ProjectLowRankGrad(grads[proj], oc, ic * k * k, dense);
  });
}

}  // namespace

bool Supernet::ReducesRank(const ConvSpec& spec, int oc, int ic, int divisor) const {
  if (!low_rank_ || !spec.factorisable || divisor <= 1) return false;
  return FactorisedRank(spec, oc, ic, divisor) < std::min(oc, ic * spec.kernel * spec.kernel);
}

bool Supernet::SetConvWeights(Conv2d& conv, const ConvSpec& spec, const WeightSlice& slice, int oc,
                              int ic, int row, int divisor, int* proj) {
  if (proj) *proj = -1;
  if (!ReducesRank(spec, oc, ic, divisor)) {
    conv.SetWeights(slice);
    return false;
  }
  const int rank = FactorisedRank(spec, oc, ic, divisor);
  const BnStats& st = bn_stats_[spec.bn];
  const float* gamma = FindParam(spec.bn + ".gamma")->value.data();
  const float* var = st.var.data() + static_cast<size_t>(row) * st.channels;
  LowRankGrad* grad = nullptr;
  if (proj && project_low_rank_grad_) {
    *proj = static_cast<int>(graph_->lowrank_grads.size());
    grad = &graph_->lowrank_grads.emplace_back();
  }
  TruncateRank(slice, oc, ic, spec.kernel, gamma, var, rank, &graph_->lowrank_scratch, grad);
  const int64_t kk = static_cast<int64_t>(spec.kernel) * spec.kernel;
  conv.SetWeights(WeightSlice{graph_->lowrank_scratch.data(), ic * kk, kk});
  return true;
}

BlockShared& Supernet::Graph::Shared(const NetSpec& net, int block, int n) {
  auto& slot = shared[{block, n}];
  if (slot) return *slot;
  const BlockSpec& b = net.blocks[block];
  const BlockGeom& g = geom[block];
  slot = std::make_unique<BlockShared>();
  BlockShared& s = *slot;
  s.bn2 = std::make_unique<BatchNorm>(n, g.oh, g.ow, b.out_channels, false);
  s.relu = std::make_unique<Relu>(Count(n, g.oh, g.ow, b.out_channels));
  const int64_t out = Count(n, g.oh, g.ow, b.out_channels);
  const int64_t inner = Count(n, g.oh, g.ow, b.max_inner);
  const int64_t in = Count(n, g.ih, g.iw, b.in_channels);
  for (Buffer* buf : {&s.c1, &s.a1, &s.d_a1, &s.d_c1}) Resize(*buf, inner);
  for (Buffer* buf : {&s.c2, &s.out, &s.dz, &s.d_c2}) Resize(*buf, out);
  Resize(s.d_in, in);
  if (b.has_downsample) {
    const ConvSpec& d = b.downsample;
    s.down_conv = std::make_unique<Conv2d>(n, d.in_channels, d.out_channels, g.ih, g.iw, d.kernel,
                                           d.stride, d.pad);
    s.down_bn = std::make_unique<BatchNorm>(n, g.oh, g.ow, b.out_channels, false);
    for (Buffer* buf : {&s.sc_conv, &s.sc_bn, &s.d_sc_conv}) Resize(*buf, out);
    Resize(s.d_x_tmp, in);
  }
  Resize(s.mean1, b.max_inner);
  Resize(s.var1, b.max_inner);
  for (Buffer* buf : {&s.mean2, &s.var2, &s.meand, &s.vard}) Resize(*buf, b.out_channels);
  return s;
}

BlockWidth& Supernet::Graph::Width(const NetSpec& net, int block, int width_idx, int n) {
  auto& slot = widths[{block, width_idx, n}];
  if (slot) return *slot;
  const BlockSpec& b = net.blocks[block];
  const BlockGeom& g = geom[block];
  const int k = b.inner_choices[width_idx];
  const ConvSpec& c1 = b.convs[0];
  const ConvSpec& c2 = b.convs[1];
  slot = std::make_unique<BlockWidth>();
  slot->conv1 =
      std::make_unique<Conv2d>(n, b.in_channels, k, g.ih, g.iw, c1.kernel, c1.stride, c1.pad);
  slot->bn1 = std::make_unique<BatchNorm>(n, g.oh, g.ow, k, true);
  slot->conv2 =
      std::make_unique<Conv2d>(n, k, b.out_channels, g.oh, g.ow, c2.kernel, c2.stride, c2.pad);
  return *slot;
}

StemLayers& Supernet::Graph::Stem(const ArchSpec& arch, const NetSpec& net, int n) {
  auto& slot = stems[n];
  if (slot) return *slot;
  const ConvSpec& c = net.stem;
  slot = std::make_unique<StemLayers>();
  slot->conv = std::make_unique<Conv2d>(n, c.in_channels, c.out_channels, arch.in_height,
                                        arch.in_width, c.kernel, c.stride, c.pad);
  slot->bn = std::make_unique<BatchNorm>(n, stem_oh, stem_ow, c.out_channels, true);
  const int64_t out = Count(n, stem_oh, stem_ow, c.out_channels);
  for (Buffer* buf : {&slot->c, &slot->a, &slot->d_c}) Resize(*buf, out);
  Resize(slot->input_nhwc, Count(n, arch.in_height, arch.in_width, arch.in_channels));
  Resize(slot->mean, c.out_channels);
  Resize(slot->var, c.out_channels);
  return *slot;
}

HeadLayers& Supernet::Graph::Head(const NetSpec& net, int n) {
  auto& slot = heads[n];
  if (slot) return *slot;
  const BlockGeom& g = geom.back();
  slot = std::make_unique<HeadLayers>();
  slot->pool = std::make_unique<GlobalAvgPool>(n, g.oh, g.ow, net.fc_in);
  slot->fc = std::make_unique<Linear>(n, net.fc_in, net.num_classes);
  Resize(slot->pooled, static_cast<int64_t>(n) * net.fc_in);
  Resize(slot->d_pooled, static_cast<int64_t>(n) * net.fc_in);
  Resize(slot->logits, static_cast<int64_t>(n) * net.num_classes);
  Resize(slot->d_feat, Count(n, g.oh, g.ow, net.fc_in));
  return *slot;
}

// Runs one BN in the given mode: batch statistics go to (mean, var) and, in kTrain, into the
// running row; in kCalibrate into the accumulator; kInference uses the running row.
void Supernet::RunBn(BatchNorm& bn, const std::string& name, int row, int channels,
                     const float* src, float* dst, float* mean, float* var, BnMode mode,
                     bool frozen) {
  const float* gamma = FindParam(name + ".gamma")->value.data();
  const float* beta = FindParam(name + ".beta")->value.data();
  BnStats& rs = bn_stats_[name];
  float* run_mean = rs.mean.data() + static_cast<size_t>(row) * rs.channels;
  float* run_var = rs.var.data() + static_cast<size_t>(row) * rs.channels;
  if (mode == BnMode::kInference) {
    bn.ForwardInference(src, gamma, beta, run_mean, run_var, dst);
    return;
  }
  if (mode == BnMode::kTrain && frozen) {
    // A reduced-rank block: normalise with the width's running statistics, as the engine
    // will (it folds those into the weights before factorising); keep them for Backward.
    std::copy_n(run_mean, channels, mean);
    std::copy_n(run_var, channels, var);
    bn.ForwardFrozen(src, gamma, beta, mean, var, dst);
    return;
  }
  bn.ForwardTrain(src, gamma, beta, dst, mean, var);
  if (mode == BnMode::kTrain) {
    const float m = kRunningMomentum;
    for (int j = 0; j < channels; ++j) {
      run_mean[j] = (1 - m) * run_mean[j] + m * mean[j];
      run_var[j] = (1 - m) * run_var[j] + m * var[j];
    }
  } else {
    CalibAccumulator& acc = graph_->calib[name];
    if (acc.batches.empty()) {
      acc.sum_mean.assign(static_cast<size_t>(rs.rows) * rs.channels, 0.0);
      acc.sum_sq.assign(acc.sum_mean.size(), 0.0);
      acc.batches.assign(rs.rows, 0);
    }
    double* sm = acc.sum_mean.data() + static_cast<size_t>(row) * rs.channels;
    double* sq = acc.sum_sq.data() + static_cast<size_t>(row) * rs.channels;
    for (int j = 0; j < channels; ++j) {
      sm[j] += mean[j];
      sq[j] += static_cast<double>(var[j]) + static_cast<double>(mean[j]) * mean[j];
    }
    ++acc.batches[row];
  }
}

const float* Supernet::Forward(const Config& config, const float* images, int n, BnMode mode) {
  Graph& g = *graph_;
  const ArchSpec& arch = space_.arch();
  const NetSpec& net = space_.net();
  g.n = n;
  g.trace.clear();
  g.lowrank_grads.clear();
  g.backward_ready = mode == BnMode::kTrain;

  // Stem: NCHW input -> NHWC (a plain copy for one channel).
  StemLayers& stem = g.Stem(arch, net, n);
  g.stem = &stem;
  const int hw = arch.in_height * arch.in_width, ch = arch.in_channels;
  if (ch == 1) {
    std::memcpy(stem.input_nhwc.data(), images, sizeof(float) * n * hw);
  } else {
    for (int i = 0; i < n; ++i)
      for (int c = 0; c < ch; ++c)
        for (int p = 0; p < hw; ++p)
          stem.input_nhwc[(static_cast<size_t>(i) * hw + p) * ch + c] =
              images[(static_cast<size_t>(i) * ch + c) * hw + p];
  }
  Param* stem_w = FindParam(net.stem.name + ".weight");
  stem.conv->SetWeights(Slice(stem_w->value, net.stem.in_channels, net.stem.kernel));
  stem.conv->Forward(stem.input_nhwc.data(), stem.c.data());
  RunBn(*stem.bn, net.stem.bn, 0, net.stem.out_channels, stem.c.data(), stem.a.data(),
        stem.mean.data(), stem.var.data(), mode);

  const float* x = stem.a.data();
  for (int bi = 0; bi < static_cast<int>(net.blocks.size()); ++bi) {
    if (!space_.BlockActive(config, bi)) continue;
    const BlockSpec& b = net.blocks[bi];
    const int w = config.width_idx[bi];
    const int k = b.inner_choices[w];
    BlockShared& sh = g.Shared(net, bi, n);
    BlockWidth& bw = g.Width(net, bi, w, n);
    const ConvSpec& c1 = b.convs[0];
    const ConvSpec& c2 = b.convs[1];

    const int divisor = space_.RankDivisor(config, bi);
    const bool training = mode == BnMode::kTrain;
    int proj1 = -1, proj2 = -1;
    bool reduced = SetConvWeights(
        *bw.conv1, c1, Slice(FindParam(c1.name + ".weight")->value, b.in_channels, c1.kernel), k,
        b.in_channels, w, divisor, training ? &proj1 : nullptr);
    bw.conv1->Forward(x, sh.c1.data());
    // conv2's weights are only set after bn1 runs, but whether it is reduced depends on the
    // configuration alone.
    reduced = reduced || ReducesRank(c2, b.out_channels, k, divisor);
    RunBn(*bw.bn1, c1.bn, w, k, sh.c1.data(), sh.a1.data(), sh.mean1.data(), sh.var1.data(), mode,
          reduced);
    // conv2 reads the first k input channels of the [out, max_inner, 3, 3] tensor.
    SetConvWeights(*bw.conv2, c2,
                   Slice(FindParam(c2.name + ".weight")->value, b.max_inner, c2.kernel),
                   b.out_channels, k, w, divisor, training ? &proj2 : nullptr);
    bw.conv2->Forward(sh.a1.data(), sh.c2.data());
    RunBn(*sh.bn2, c2.bn, w, b.out_channels, sh.c2.data(), sh.out.data(), sh.mean2.data(),
          sh.var2.data(), mode, reduced);
    const int64_t out_count = static_cast<int64_t>(sh.out.size());
    if (b.has_downsample) {
      const ConvSpec& d = b.downsample;
      sh.down_conv->SetWeights(Slice(FindParam(d.name + ".weight")->value, d.in_channels, 1));
      sh.down_conv->Forward(x, sh.sc_conv.data());
      RunBn(*sh.down_bn, d.bn, w, b.out_channels, sh.sc_conv.data(), sh.sc_bn.data(),
            sh.meand.data(), sh.vard.data(), mode);
      AddInPlace(sh.sc_bn.data(), sh.out.data(), out_count);
    } else {
      AddInPlace(x, sh.out.data(), out_count);
    }
    sh.relu->Forward(sh.out.data(), sh.out.data());
    g.trace.push_back({bi, w, k, x, &sh, &bw, reduced && training, proj1, proj2});
    x = sh.out.data();
  }

  HeadLayers& head = g.Head(net, n);
  g.head = &head;
  g.head_input = x;
  head.pool->Forward(x, head.pooled.data());
  head.fc->Forward(head.pooled.data(), FindParam("fc.weight")->value.data(),
                   FindParam("fc.bias")->value.data(), head.logits.data());
  return head.logits.data();
}

void Supernet::Backward(const float* diff_logits) {
  Graph& g = *graph_;
  if (!g.backward_ready) return;
  g.backward_ready = false;
  const NetSpec& net = space_.net();
  HeadLayers& head = *g.head;
  Param* fc_w = FindParam("fc.weight");
  Param* fc_b = FindParam("fc.bias");
  head.fc->BackwardData(diff_logits, fc_w->value.data(), head.d_pooled.data());
  head.fc->BackwardWeights(head.pooled.data(), diff_logits, fc_w->grad.data(), fc_b->grad.data());
  head.pool->Backward(head.d_pooled.data(), head.d_feat.data());

  const float* d_out = head.d_feat.data();
  for (auto it = g.trace.rbegin(); it != g.trace.rend(); ++it) {
    const BlockSpec& b = net.blocks[it->block];
    BlockShared& sh = *it->sh;
    BlockWidth& bw = *it->bw;
    const ConvSpec& c1 = b.convs[0];
    const ConvSpec& c2 = b.convs[1];
    sh.relu->Backward(sh.out.data(), d_out, sh.dz.data());

    Param* g2 = FindParam(c2.bn + ".gamma");
    Param* b2 = FindParam(c2.bn + ".beta");
    (sh.bn2.get()->*(it->frozen_bn ? &BatchNorm::BackwardFrozen : &BatchNorm::Backward))(
        sh.c2.data(), sh.dz.data(), g2->value.data(), sh.mean2.data(), sh.var2.data(),
        sh.d_c2.data(), g2->grad.data(), b2->grad.data());
    Param* w2 = FindParam(c2.name + ".weight");
    bw.conv2->BackwardData(sh.d_c2.data(), sh.d_a1.data());
    ConvWeightGrad(*bw.conv2, sh.a1.data(), sh.d_c2.data(), Slice(w2->grad, b.max_inner, c2.kernel),
                   b.out_channels, it->inner, c2.kernel, g.lowrank_grads, it->proj2);

    Param* g1 = FindParam(c1.bn + ".gamma");
    Param* b1 = FindParam(c1.bn + ".beta");
    (bw.bn1.get()->*(it->frozen_bn ? &BatchNorm::BackwardFrozen : &BatchNorm::Backward))(
        sh.c1.data(), sh.d_a1.data(), g1->value.data(), sh.mean1.data(), sh.var1.data(),
        sh.d_c1.data(), g1->grad.data(), b1->grad.data());
    Param* w1 = FindParam(c1.name + ".weight");
    bw.conv1->BackwardData(sh.d_c1.data(), sh.d_in.data());
    ConvWeightGrad(*bw.conv1, it->input, sh.d_c1.data(), Slice(w1->grad, b.in_channels, c1.kernel),
                   it->inner, b.in_channels, c1.kernel, g.lowrank_grads, it->proj1);

    if (b.has_downsample) {
      const ConvSpec& d = b.downsample;
      Param* gd = FindParam(d.bn + ".gamma");
      Param* bd = FindParam(d.bn + ".beta");
      sh.down_bn->Backward(sh.sc_conv.data(), sh.dz.data(), gd->value.data(), sh.meand.data(),
                           sh.vard.data(), sh.d_sc_conv.data(), gd->grad.data(), bd->grad.data());
      Param* wd = FindParam(d.name + ".weight");
      sh.down_conv->BackwardData(sh.d_sc_conv.data(), sh.d_x_tmp.data());
      sh.down_conv->BackwardWeights(it->input, sh.d_sc_conv.data(),
                                    Slice(wd->grad, d.in_channels, 1));
      AddInPlace(sh.d_x_tmp.data(), sh.d_in.data(), static_cast<int64_t>(sh.d_in.size()));
    } else {
      AddInPlace(sh.dz.data(), sh.d_in.data(), static_cast<int64_t>(sh.d_in.size()));
    }
    d_out = sh.d_in.data();
  }

  StemLayers& stem = *g.stem;
  const ConvSpec& sc = net.stem;
  Param* sg = FindParam(sc.bn + ".gamma");
  Param* sb = FindParam(sc.bn + ".beta");
  stem.bn->Backward(stem.c.data(), d_out, sg->value.data(), stem.mean.data(), stem.var.data(),
                    stem.d_c.data(), sg->grad.data(), sb->grad.data());
  // The input needs no gradient: only the stem's weights.
  Param* sw = FindParam(sc.name + ".weight");
  stem.conv->BackwardWeights(stem.input_nhwc.data(), stem.d_c.data(),
                             Slice(sw->grad, sc.in_channels, sc.kernel));
}

}  // namespace adaspring::engine::train
