#include "exec/layer.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "exec/quant.h"

namespace adaspring::engine::exec {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

bool IsInt8(const LayerInputs& in) { return in.dst_dt != dt::f32 || in.src_dt != dt::f32; }

}  // namespace

BuiltLayer::BuiltLayer(const PlanLayer& layer, const LayerInputs& in)
    : layer_(layer), in_(in), winograd_(UseWinograd(layer, in)) {
  layer_.conv = nullptr;  // the layer may outlive nothing but must not point into a NetSpec
  in_.weights = nullptr;
  in_.quant_scratch = nullptr;
}

absl::StatusOr<std::shared_ptr<BuiltLayer>> BuiltLayer::Create(const PlanLayer& layer,
                                                               const LayerInputs& in, int threads) {
  std::shared_ptr<BuiltLayer> b(new BuiltLayer(layer, in));
  try {
    const PlanLayer& l = b->layer_;
    const bool weighted = l.kind == LayerKind::kConv || l.kind == LayerKind::kFc;
    const bool int8 = l.kind == LayerKind::kFc ? in.src_dt != dt::f32 : IsInt8(in);
    dnnl::post_ops ops;
    std::vector<float> bias;
    QuantWeights own_quant;
    QuantWeights& quant = in.quant_scratch != nullptr ? *in.quant_scratch : own_quant;
    std::vector<float> out_scales;
    if (weighted) {
      const DenseConv& w = *in.weights;
      if (l.groups > 1) {
        b->weight_dims_ = {l.groups, l.oc / l.groups, l.ic / l.groups, l.kernel, l.kernel};
      } else {
        b->weight_dims_ = {l.oc, l.ic, l.kernel, l.kernel};
      }
      bias = w.bias;
      if (int8) {
        // Fold the activation steps into per-channel output scales; the bias is added in the
        // int32 accumulator domain (oneDNN 2.x: dst = scale * (acc + bias)).
        QuantiseWeightsInto(w, &quant);
        out_scales.resize(l.oc);
        for (int o = 0; o < l.oc; ++o) {
          const float acc_step = in.src_step * quant.step[o];
          out_scales[o] = acc_step / in.dst_step;
          if (!bias.empty()) bias[o] /= acc_step;
        }
        b->attr_.set_output_scales(1 << 1, out_scales);
        b->attr_values_.assign(reinterpret_cast<const char*>(out_scales.data()),
                               out_scales.size() * sizeof(float));
        b->weight_dt_ = dt::s8;
      }
    } else if (l.kind == LayerKind::kInputReorder && in.dst_dt != dt::f32) {
      b->attr_.set_output_scales(0, {1.f / in.dst_step});
    }
    if (l.sum) ops.append_sum(int8 ? in.sum_step / in.dst_step : 1.f);
    if (int8) absl::StrAppend(&b->attr_values_, "|", in.sum_step / in.dst_step, "|", in.dst_step);
    if (l.act == PostAct::kRelu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    if (l.act == PostAct::kRelu6)
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, int8 ? 6.f / in.dst_step : 6.f);
    b->attr_.set_post_ops(ops);
    // The library's default scratchpad is bound to the primitive when it is created, so two
    // threads running one primitive would share it; with a user scratchpad each workspace
    // passes its own.
    b->attr_.set_scratchpad_mode(dnnl::scratchpad_mode::user);

    ScopedOmpThreads omp(threads);
    auto exec = b->MakeExec(1, /*first=*/true);
    if (!exec.ok()) return exec.status();
    b->winograd_ = (*exec)->winograd();  // oneDNN may have no Winograd kernel for it
    if (weighted) {
      // Reorder the dense weights once into the layout the primitive chose.
      dnnl::stream stream(CpuEngine());
      const dnnl::memory::desc user_md(b->weight_dims_, b->weight_dt_,
                                       l.groups > 1 ? tag::goihw : tag::oihw);
      void* src = int8 ? static_cast<void*>(quant.weights.data())
                       : static_cast<void*>(const_cast<float*>(in.weights->weights.data()));
      dnnl::memory user(user_md, CpuEngine(), src);
      b->weights_md_ = (*exec)->weights_md;
      b->weights_ = dnnl::memory(b->weights_md_, CpuEngine());
      dnnl::reorder(user, b->weights_).execute(stream, user, b->weights_);
      b->packed_bytes_ = static_cast<int64_t>(b->weights_md_.get_size());
      if (!bias.empty()) {
        b->bias_ = dnnl::memory({{l.oc}, dt::f32, tag::x}, CpuEngine());
        std::memcpy(b->bias_.get_data_handle(), bias.data(), bias.size() * sizeof(float));
        b->packed_bytes_ += 4 * l.oc;
      }
      if (int8) b->packed_bytes_ += 4 * l.oc;  // output scales held by the attribute
      stream.wait();
      (*exec)->weights = b->weights_;
      (*exec)->bias = b->bias_;
    }
    b->impl_ = (*exec)->impl;
    absl::MutexLock lock(&b->mu_);
    b->execs_[{1, threads}] = std::move(*exec);
  } catch (const dnnl::error& e) {
    return FromDnnl(e, absl::StrCat("building layer ", layer.name));
  }
  return b;
}

absl::StatusOr<std::unique_ptr<BuiltLayer::Exec>> BuiltLayer::MakeExec(int batch,
                                                                       bool first) const {
  const PlanLayer& l = layer_;
  auto e = std::make_unique<Exec>();
  dnnl::engine& eng = CpuEngine();
  // A one-channel NCHW input is byte-identical to NHWC (plan.cc reads it in place).
  const dnnl::memory::desc user_in({batch, l.ic, l.ih, l.iw}, dt::f32,
                                   l.kind == LayerKind::kConv ? tag::nhwc : tag::nchw);
  e->src_md =
      l.src == kUserInput ? user_in : ActivationMd(batch, l.ic, l.ih, l.iw, in_.src_dt, in_.layout);
  if (l.kind == LayerKind::kFc) {
    e->dst_md = dnnl::memory::desc({batch, l.oc}, dt::f32, tag::nc);
  } else {
    e->dst_md = ActivationMd(batch, l.oc, l.oh, l.ow, in_.dst_dt, in_.layout);
  }
  switch (l.kind) {
    case LayerKind::kInputReorder: {
      dnnl::reorder::primitive_desc pd(eng, e->src_md, eng, e->dst_md, attr_);
      e->impl = pd.impl_info_str();
      e->scratchpad_md = pd.scratchpad_desc();
      e->prim = dnnl::reorder(pd);
      break;
    }
    case LayerKind::kConv: {
      const dnnl::memory::desc b_md({l.oc}, dt::f32, tag::x);
      const dnnl::memory::desc w_md =
          first ? dnnl::memory::desc(weight_dims_, weight_dt_, tag::any) : weights_md_;
      if (winograd_) {
        if (MakeWinogradExec(w_md, /*check_thread_counts=*/first, b_md, e.get())) {
          e->images = batch;
          break;
        }
        if (!first) {
          return absl::InternalError(absl::StrCat(
              "layer ", l.name, ": oneDNN has no Winograd convolution for its packed weights at ",
              omp_get_max_threads(), " threads"));
        }
      }
      const dnnl::memory::dims strides = {l.stride, l.stride}, pad = {l.pad, l.pad};
      const bool has_bias = l.part != 1;
      auto d = has_bias
                   ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                     dnnl::algorithm::convolution_direct, e->src_md,
                                                     w_md, b_md, e->dst_md, strides, pad, pad)
                   : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                     dnnl::algorithm::convolution_direct, e->src_md,
                                                     w_md, e->dst_md, strides, pad, pad);
      dnnl::convolution_forward::primitive_desc pd =
          first ? FirstConvPd(d, batch, has_bias)
                : dnnl::convolution_forward::primitive_desc(d, attr_, eng);
      if (!first && IsSlow(pd.impl_info_str())) {
        // The packed layout does not suit this (batch, threads): let oneDNN choose again and
        // repack below.
        const dnnl::memory::desc any(weight_dims_, weight_dt_, tag::any);
        auto d2 = has_bias
                      ? dnnl::convolution_forward::desc(
                            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                            e->src_md, any, b_md, e->dst_md, strides, pad, pad)
                      : dnnl::convolution_forward::desc(
                            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                            e->src_md, any, e->dst_md, strides, pad, pad);
        dnnl::convolution_forward::primitive_desc pd2(d2, attr_, eng);
        if (!IsSlow(pd2.impl_info_str()) && Repack(pd2.weights_desc(), e.get())) pd = pd2;
      }
      e->impl = pd.impl_info_str();
      e->scratchpad_md = pd.scratchpad_desc();
      e->weights_md = pd.weights_desc();
      e->prim = dnnl::convolution_forward(pd);
      break;
    }
    case LayerKind::kFc: {
      const dnnl::memory::desc w_md =
          first ? dnnl::memory::desc(weight_dims_, weight_dt_, tag::any) : weights_md_;
      const dnnl::memory::desc b_md({l.oc}, dt::f32, tag::x);
      dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, e->src_md, w_md, b_md,
                                          e->dst_md);
      dnnl::inner_product_forward::primitive_desc pd(d, attr_, eng);
      e->impl = pd.impl_info_str();
      e->scratchpad_md = pd.scratchpad_desc();
      e->weights_md = pd.weights_desc();
      e->prim = dnnl::inner_product_forward(pd);
      break;
    }
    case LayerKind::kMaxPool:
    case LayerKind::kGlobalAvgPool: {
      const bool max = l.kind == LayerKind::kMaxPool;
      const dnnl::memory::dims strides =
          max ? dnnl::memory::dims{l.stride, l.stride} : dnnl::memory::dims{1, 1};
      const dnnl::memory::dims kernel =
          max ? dnnl::memory::dims{l.kernel, l.kernel} : dnnl::memory::dims{l.ih, l.iw};
      const dnnl::memory::dims pad =
          max ? dnnl::memory::dims{l.pad, l.pad} : dnnl::memory::dims{0, 0};
      dnnl::pooling_forward::desc d(
          dnnl::prop_kind::forward_inference,
          max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding,
          e->src_md, e->dst_md, strides, kernel, pad, pad);
      dnnl::pooling_forward::primitive_desc pd(d, attr_, eng);
      e->impl = pd.impl_info_str();
      e->scratchpad_md = pd.scratchpad_desc();
      e->prim = dnnl::pooling_forward(pd);
      break;
    }
  }
  if (!first) {
    if (!e->weights) e->weights = weights_;
    e->bias = bias_;
  }
  return e;
}

namespace {

// oneDNN's primitive descriptor per convolution problem (shape, types, post-ops, attribute
// values, batch, threads), shared by every evolver of the process like oneDNN's own
// primitive cache: creating descriptors (PreferPlainJit walks past oneDNN's first choice) is
// a large part of building a small layer.
struct PdMemo {
  static constexpr size_t kMaxEntries = 4096;  // cleared when full (model reloads)
  absl::Mutex mu;
  std::map<std::string, dnnl::convolution_forward::primitive_desc> pds ABSL_GUARDED_BY(mu);
};
PdMemo& Memo() {
  static auto* memo = new PdMemo;
  return *memo;
}

}  // namespace

dnnl::convolution_forward::primitive_desc BuiltLayer::FirstConvPd(
    const dnnl::convolution_forward::desc& d, int batch, bool has_bias) const {
  const PlanLayer& l = layer_;
  const std::string key =
      absl::StrCat(l.ic, ",", l.oc, ",", l.groups, ",", l.kernel, ",", l.stride, ",", l.pad, "|",
                   l.ih, "x", l.iw, "|", static_cast<int>(in_.src_dt), static_cast<int>(in_.dst_dt),
                   static_cast<int>(weight_dt_), static_cast<int>(in_.layout), "|",
                   l.sum ? "sum" : "", static_cast<int>(l.act), has_bias ? "b" : "", "|n", batch,
                   "t", omp_get_max_threads(), "|", attr_values_);
  PdMemo& memo = Memo();
  {
    absl::MutexLock lock(&memo.mu);
    auto it = memo.pds.find(key);
    if (it != memo.pds.end()) return it->second;
  }
  dnnl::convolution_forward::primitive_desc pd(d, attr_, CpuEngine());
  PreferPlainJit(&pd);
  absl::MutexLock lock(&memo.mu);
  if (memo.pds.size() >= PdMemo::kMaxEntries) memo.pds.clear();
  memo.pds.emplace(key, pd);
  return pd;
}

void BuiltLayer::PreferPlainJit(dnnl::convolution_forward::primitive_desc* pd) const {
  const PlanLayer& l = layer_;
  const bool int8 = weight_dt_ == dt::s8;
  constexpr int64_t kMaxMacs = 2'000'000;
  if (omp_get_max_threads() != 1 || (!int8 && l.oh * l.ow < 49) ||
      static_cast<int64_t>(l.oc) * (l.ic / l.groups) * l.kernel * l.kernel * l.oh * l.ow > kMaxMacs)
    return;
  const std::string first = pd->impl_info_str();
  if (first.rfind("brg", 0) != 0) return;  // oneDNN did not pick brgconv here
  const std::string isa = first.substr(first.find(':'));
  const std::string want = (int8 ? "jit_int8" : "jit") + isa;
  dnnl::convolution_forward::primitive_desc walk = *pd;
  while (walk.next_impl()) {
    if (want == walk.impl_info_str()) {
      *pd = walk;
      return;
    }
  }
}

bool BuiltLayer::UseWinograd(const PlanLayer& l, const LayerInputs& in) {
  constexpr int64_t kMinMacs = 20'000'000;
  return in.winograd && l.kind == LayerKind::kConv && in.src_dt == dt::f32 &&
         in.dst_dt == dt::f32 && in.layout == ActLayout::kNhwc && l.kernel == 3 && l.stride == 1 &&
         l.pad == 1 && l.groups == 1 && l.ic >= 16 && l.oc >= 16 && l.src >= 0 && l.dst >= 0 &&
         static_cast<int64_t>(l.oc) * l.ic * 9 * l.oh * l.ow >= kMinMacs;
}

bool BuiltLayer::MakeWinogradExec(const dnnl::memory::desc& w_md, bool check_thread_counts,
                                  const dnnl::memory::desc& b_md, Exec* e) const {
  const PlanLayer& l = layer_;
  dnnl::engine& eng = CpuEngine();
  // Always one image: a batch runs the primitives once per image (see Exec::images).
  const dnnl::memory::desc src = ActivationMd(1, l.ic, l.ih, l.iw, dt::f32, ActLayout::kNhwc);
  const dnnl::memory::desc dst = ActivationMd(1, l.oc, l.oh, l.ow, dt::f32, ActLayout::kNhwc);
  const dnnl::memory::desc blk_src =
      ActivationMd(1, l.ic, l.ih, l.iw, dt::f32, ActLayout::kBlocked16);
  const dnnl::memory::desc blk_dst =
      ActivationMd(1, l.oc, l.oh, l.ow, dt::f32, ActLayout::kBlocked16);
  const dnnl::memory::dims strides = {1, 1}, pad = {1, 1};
  auto make = [&](const dnnl::memory::desc& weights) {
    auto d = l.part != 1
                 ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                   dnnl::algorithm::convolution_winograd, blk_src,
                                                   weights, b_md, blk_dst, strides, pad, pad)
                 : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                   dnnl::algorithm::convolution_winograd, blk_src,
                                                   weights, blk_dst, strides, pad, pad);
    return dnnl::convolution_forward::primitive_desc(d, attr_, eng);
  };
  try {
    dnnl::convolution_forward::primitive_desc pd = make(w_md);
    if (std::string(pd.impl_info_str()).find("wino") == std::string::npos) return false;
    if (check_thread_counts) {
      // oneDNN cannot reorder out of a Winograd weight format, so the format chosen here must
      // suit every thread count a workspace can have (1 .. cores); make() throws otherwise.
      const int most = std::max(omp_get_num_procs(), omp_get_max_threads());
      for (int t = 1; t <= most; ++t) {
        ScopedOmpThreads omp(t);
        make(pd.weights_desc());
      }
    }
    dnnl::primitive_attr reorder_attr;
    reorder_attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::reorder::primitive_desc in(eng, src, eng, blk_src, reorder_attr);
    dnnl::reorder::primitive_desc out(eng, blk_dst, eng, dst, reorder_attr);
    if (in.scratchpad_desc().get_size() > 0 || out.scratchpad_desc().get_size() > 0) return false;
    if (l.sum) {
      dnnl::reorder::primitive_desc shortcut(eng, dst, eng, blk_dst, reorder_attr);
      if (shortcut.scratchpad_desc().get_size() > 0) return false;
      e->to_blk_dst = dnnl::reorder(shortcut);
    }
    e->to_blk_src = dnnl::reorder(in);
    e->from_blk_dst = dnnl::reorder(out);
    e->src_md = src;
    e->dst_md = dst;
    e->blk_src_md = blk_src;
    e->blk_dst_md = blk_dst;
    e->impl = pd.impl_info_str();
    e->scratchpad_md = pd.scratchpad_desc();
    e->weights_md = pd.weights_desc();
    e->prim = dnnl::convolution_forward(pd);
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

bool BuiltLayer::IsSlow(const std::string& impl) {
  return impl.find("ref") != std::string::npos || impl.find("gemm") != std::string::npos;
}

bool BuiltLayer::Repack(const dnnl::memory::desc& md, Exec* e) const {
  if (md == weights_md_) return true;
  try {
    dnnl::memory packed(md, CpuEngine());
    dnnl::stream stream(CpuEngine());
    dnnl::memory src = weights_;  // a handle copy: execute() takes non-const references
    dnnl::reorder(src, packed).execute(stream, src, packed);
    stream.wait();
    e->weights = packed;
    return true;
  } catch (const dnnl::error&) {
    return false;  // e.g. int8 layouts with compensation: keep the slower primitive
  }
}

bool BuiltLayer::HasBatch(int batch, int threads) const {
  absl::MutexLock lock(&mu_);
  return execs_.count({batch, threads}) > 0;
}

absl::StatusOr<const BuiltLayer::Exec*> BuiltLayer::ForBatch(int batch, int threads) const {
  absl::MutexLock lock(&mu_);
  auto it = execs_.find({batch, threads});
  if (it != execs_.end()) return it->second.get();
  try {
    auto e = MakeExec(batch, /*first=*/false);
    if (!e.ok()) return e.status();
    const Exec* raw = e->get();
    execs_[{batch, threads}] = std::move(*e);
    return raw;
  } catch (const dnnl::error& err) {
    return FromDnnl(err, absl::StrCat("creating layer ", layer_.name, " for batch ", batch));
  }
}

}  // namespace adaspring::engine::exec
