#include "exec/plan.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace adaspring::engine::exec {
namespace {

int64_t RoundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

int ConvOut(int in, int kernel, int stride, int pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

class PlanBuilder {
 public:
  PlanBuilder(const NetSpec& net, const ArchSpec& arch, const Config& config, ActLayout layout)
      : net_(net), arch_(arch), config_(config) {
    plan_.precision = config.precision;
    plan_.layout = layout;
    plan_.in_c = arch.in_channels;
    plan_.in_h = arch.in_height;
    plan_.in_w = arch.in_width;
    plan_.num_classes = net.num_classes;
  }

  Plan Build() {
    const bool int8 = config_.precision == Precision::kInt8;
    const PostAct act = arch_.activation == Activation::kRelu6 ? PostAct::kRelu6 : PostAct::kRelu;
    cur_ = kUserInput;
    cur_q_ = "input";
    h_ = arch_.in_height;
    w_ = arch_.in_width;
    c_ = arch_.in_channels;
    // The network input: int8 needs one quantising reorder into the arena; f32 too unless the
    // input has one channel (then NCHW and NHWC are the same bytes and the stem reads the
    // caller's buffer). oneDNN 2.6 has no fast f32 conv from NCHW to NHWC (its reference
    // kernel ran 40x slower than the whole rest of smallres28).
    if (int8 || c_ > 1 || plan_.layout != ActLayout::kNhwc) {
      const int t = NewTensor(c_, h_, w_, /*is_signed=*/true);
      PlanLayer l;
      l.kind = LayerKind::kInputReorder;
      l.name = "input";
      l.oc = l.ic = c_;
      l.ih = l.oh = h_;
      l.iw = l.ow = w_;
      l.src = kUserInput;
      l.dst = t;
      l.src_q = l.dst_q = "input";
      Add(std::move(l));
      cur_ = t;
    }
    // Stem.
    cur_ = Conv(net_.stem, 0, net_.stem.out_channels, net_.stem.in_channels, 0, 0, act, "stem",
                /*new_dst=*/true, -1);
    if (arch_.stem_max_pool) {
      PlanLayer l;
      l.kind = LayerKind::kMaxPool;
      l.name = "stem.pool";
      l.oc = l.ic = c_;
      l.kernel = 3;
      l.stride = 2;
      l.pad = 1;
      l.ih = h_;
      l.iw = w_;
      l.oh = ConvOut(h_, 3, 2, 1);
      l.ow = ConvOut(w_, 3, 2, 1);
      l.src = cur_;
      l.src_q = l.dst_q = cur_q_;  // max pooling keeps the scale
      h_ = l.oh;
      w_ = l.ow;
      l.dst = NewTensor(c_, h_, w_, plan_.tensors[cur_].is_signed);
      cur_ = l.dst;
      Add(std::move(l));
    }
    for (const BlockSpec& b : net_.blocks) {
      if (b.index >= config_.depth[b.stage]) continue;
      if (b.kind == BlockKind::kBasic) {
        BasicBlock(b, act);
      } else {
        InvertedBlock(b, act);
      }
    }
    if (net_.has_head_conv) {
      cur_ = Conv(net_.head, 0, net_.head.out_channels, net_.head.in_channels, 0, 0, act, "head",
                  true, -1);
    }
    {
      PlanLayer l;
      l.kind = LayerKind::kGlobalAvgPool;
      l.name = "pool";
      l.oc = l.ic = c_;
      l.ih = h_;
      l.iw = w_;
      l.oh = l.ow = 1;
      l.kernel = h_;
      l.src = cur_;
      l.src_q = l.dst_q = cur_q_;  // averaging keeps the scale
      l.dst = NewTensor(c_, 1, 1, plan_.tensors[cur_].is_signed);
      cur_ = l.dst;
      Add(std::move(l));
    }
    {
      PlanLayer l;
      l.kind = LayerKind::kFc;
      l.name = "fc";
      l.ic = c_;
      l.oc = net_.num_classes;
      l.ih = l.iw = l.oh = l.ow = 1;
      l.src = cur_;
      l.dst = kUserLogits;
      l.src_q = cur_q_;
      l.macs = static_cast<int64_t>(l.oc) * l.ic;
      l.params = l.macs + l.oc;
      l.weight_bytes = int8 ? l.macs + 8 * l.oc : 4 * l.params;
      Add(std::move(l));
    }
    Finish();
    return std::move(plan_);
  }

 private:
  // Appends conv `spec` sliced to [out, in] (1 or 2 layers when factorised) reading cur_,
  // returns the dst tensor. `sum_dst` >= 0: accumulate into that tensor (residual add).
  int Conv(const ConvSpec& spec, int bn_row, int out, int in, int divisor, int width_idx,
           PostAct act, const std::string& dst_q, bool new_dst, int sum_dst,
           bool force_act = false) {
    // Basic blocks apply the activation after the residual add (their conv2 has act=false);
    // MobileNetV2's projection stays linear.
    const bool act_on = spec.act || force_act;
    const PostAct a = act_on ? act : PostAct::kNone;
    const int full_rank = FactorisedRank(spec, out, in, 1);
    const int rank = spec.factorisable && divisor > 1 ? FactorisedRank(spec, out, in, divisor) : 0;
    const int oh = ConvOut(h_, spec.kernel, spec.stride, spec.pad);
    const int ow = ConvOut(w_, spec.kernel, spec.stride, spec.pad);
    auto base = [&](int part) {
      PlanLayer l;
      l.kind = LayerKind::kConv;
      l.conv = &spec;
      l.bn_row = bn_row;
      l.src_out = out;
      l.src_in = in;
      l.rank = rank;
      l.part = part;
      l.width_idx = width_idx;
      return l;
    };
    (void)full_rank;
    if (rank > 0) {
      // k x k conv to `rank` channels (no bias, no activation), then 1 x 1 rank -> out.
      PlanLayer l1 = base(1);
      l1.name = spec.name + ".lr";
      l1.oc = rank;
      l1.ic = in;
      l1.kernel = spec.kernel;
      l1.stride = spec.stride;
      l1.pad = spec.pad;
      l1.ih = h_;
      l1.iw = w_;
      l1.oh = oh;
      l1.ow = ow;
      l1.src = cur_;
      l1.src_q = cur_q_;
      l1.dst_q = spec.name + ".lr";
      l1.dst = NewTensor(rank, oh, ow, true);
      cur_ = l1.dst;
      cur_q_ = l1.dst_q;
      h_ = oh;
      w_ = ow;
      c_ = rank;
      Add(std::move(l1));
      PlanLayer l2 = base(2);
      l2.name = spec.name;
      l2.oc = out;
      l2.ic = rank;
      l2.kernel = 1;
      l2.stride = 1;
      l2.pad = 0;
      return Finalise(std::move(l2), a, dst_q, new_dst, sum_dst);
    }
    PlanLayer l = base(0);
    l.name = spec.name;
    l.oc = out;
    l.ic = in;
    l.groups = spec.depthwise ? in : 1;
    l.kernel = spec.kernel;
    l.stride = spec.stride;
    l.pad = spec.pad;
    return Finalise(std::move(l), a, dst_q, new_dst, sum_dst);
  }

  int Finalise(PlanLayer l, PostAct act, const std::string& dst_q, bool new_dst, int sum_dst) {
    l.ih = h_;
    l.iw = w_;
    l.oh = ConvOut(h_, l.kernel, l.stride, l.pad);
    l.ow = ConvOut(w_, l.kernel, l.stride, l.pad);
    l.act = act;
    l.src = cur_;
    l.src_q = cur_q_;
    l.dst_q = dst_q;
    if (sum_dst >= 0) {
      l.sum = true;
      l.dst = sum_dst;
      l.sum_q = sum_q_;
    } else {
      (void)new_dst;
      l.dst = NewTensor(l.oc, l.oh, l.ow, act == PostAct::kNone);
    }
    h_ = l.oh;
    w_ = l.ow;
    c_ = l.oc;
    cur_ = l.dst;
    cur_q_ = dst_q;
    Add(std::move(l));
    return cur_;
  }

  // What every block kind needs from the configuration.
  struct BlockChoice {
    int inner = 0, row = 0, divisor = 1;
    std::string prefix;
  };
  BlockChoice Choose(const BlockSpec& b) const {
    const int g = b.global_index;
    return {b.inner_choices[config_.width_idx[g]], config_.width_idx[g],
            arch_.rank_divisors[config_.rank_idx[g]], absl::StrCat("s", b.stage, ".b", b.index)};
  }

  void BasicBlock(const BlockSpec& b, PostAct act) {
    const auto [inner, row, divisor, prefix] = Choose(b);
    const int x = cur_;
    const std::string x_q = cur_q_;
    const int x_h = h_, x_w = w_, x_c = c_;
    Conv(b.convs[0], row, inner, b.in_channels, divisor, row, act, b.convs[0].name, true, -1);
    const int t1 = cur_;
    const std::string t1_q = cur_q_;
    const int t1_h = h_, t1_w = w_, t1_c = c_;
    int shortcut = x;
    if (b.has_downsample) {
      cur_ = x;
      cur_q_ = x_q;
      h_ = x_h;
      w_ = x_w;
      c_ = x_c;
      shortcut = Conv(b.downsample, row, b.out_channels, b.in_channels, 1, row, act,
                      b.downsample.name, true, -1);
      sum_q_ = b.downsample.name;
    } else {
      sum_q_ = x_q;
    }
    cur_ = t1;
    cur_q_ = t1_q;
    h_ = t1_h;
    w_ = t1_w;
    c_ = t1_c;
    Conv(b.convs[1], row, b.out_channels, inner, divisor, row, act, prefix + ".out", false,
         shortcut, /*force_act=*/true);
  }

  void InvertedBlock(const BlockSpec& b, PostAct act) {
    const auto [inner, row, divisor, prefix] = Choose(b);
    const int x = cur_;
    const std::string x_q = cur_q_;
    for (size_t i = 0; i + 1 < b.convs.size(); ++i) {
      const ConvSpec& c = b.convs[i];
      const int in = c.depthwise ? inner : (c.in_elastic ? inner : c.in_channels);
      const int out = c.out_elastic ? inner : c.out_channels;
      Conv(c, row, out, in, divisor, row, act, c.name, true, -1);
    }
    const ConvSpec& pr = b.convs.back();
    sum_q_ = x_q;
    Conv(pr, row, b.out_channels, inner, divisor, row, act, prefix + ".out", true,
         b.residual ? x : -1);
  }

  int NewTensor(int c, int h, int w, bool is_signed) {
    PlanTensor t;
    t.c = c;
    t.h = h;
    t.w = w;
    t.is_signed = is_signed;
    const int64_t elem = plan_.precision == Precision::kInt8 ? 1 : 4;
    const int64_t ch = plan_.layout == ActLayout::kBlocked16 ? RoundUp(c, 16) : c;
    t.bytes_per_image = RoundUp(ch * h * w * elem, 64);
    t.first_layer = static_cast<int>(plan_.layers.size());
    t.last_layer = t.first_layer;
    plan_.tensors.push_back(t);
    return static_cast<int>(plan_.tensors.size()) - 1;
  }

  void Add(PlanLayer l) {
    const int idx = static_cast<int>(plan_.layers.size());
    const bool int8 = plan_.precision == Precision::kInt8;
    if (l.kind == LayerKind::kConv) {
      const int64_t wcount = static_cast<int64_t>(l.oc) * (l.ic / l.groups) * l.kernel * l.kernel;
      const int64_t bias = l.part == 1 ? 0 : l.oc;
      l.macs = wcount * l.oh * l.ow;
      l.params = wcount + bias;
      l.weight_bytes = int8 ? wcount + 4 * bias + 4 * l.oc : 4 * (wcount + bias);
    }
    if (l.src >= 0) plan_.tensors[l.src].last_layer = idx;
    if (l.dst >= 0) plan_.tensors[l.dst].last_layer = idx;
    const PlanTensor* s = l.src >= 0 ? &plan_.tensors[l.src] : nullptr;
    const PlanTensor* d = l.dst >= 0 ? &plan_.tensors[l.dst] : nullptr;
    l.key = absl::StrCat(
        static_cast<int>(l.kind), "|", l.name, "|", l.bn_row, "|", l.src_out, "x", l.src_in, "|r",
        l.rank, "p", l.part, "|", l.oc, ",", l.ic, ",", l.groups, ",", l.kernel, ",", l.stride, ",",
        l.pad, "|", l.ih, "x", l.iw, ">", l.oh, "x", l.ow, "|a", static_cast<int>(l.act),
        l.sum ? "+sum" : "", "|", int8 ? "i8" : "f32", static_cast<int>(plan_.layout), "|",
        s ? (s->is_signed ? "s" : "u") : "user", d ? (d->is_signed ? "s" : "u") : "user", "|",
        l.src_q, "|", l.dst_q, "|", l.sum_q);
    plan_.layers.push_back(std::move(l));
  }

  // Arena offsets: first fit by offset among tensors live at the same time (deterministic, so
  // PredictStats and the built variant agree). Offsets are per image; a batch of N scales
  // every offset and size by N, which keeps the packing valid.
  void Finish() {
    struct Placed {
      int64_t begin, end;
      int first, last;
    };
    std::vector<Placed> placed;
    int64_t total = 0;
    for (PlanTensor& t : plan_.tensors) {
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (const Placed& p : placed) {
        if (p.last >= t.first_layer && p.first <= t.last_layer) busy.push_back({p.begin, p.end});
      }
      std::sort(busy.begin(), busy.end());
      int64_t off = 0;
      for (const auto& [b, e] : busy) {
        if (off + t.bytes_per_image <= b) break;
        off = std::max(off, e);
      }
      t.offset_per_image = off;
      placed.push_back({off, off + t.bytes_per_image, t.first_layer, t.last_layer});
      total = std::max(total, off + t.bytes_per_image);
    }
    plan_.arena_bytes_per_image = total;
    VariantStats& s = plan_.stats;
    for (const PlanLayer& l : plan_.layers) {
      s.macs += l.macs;
      s.params += l.params;
      s.weight_bytes += l.weight_bytes;
    }
    s.arena_bytes = total;
  }

  const NetSpec& net_;
  const ArchSpec& arch_;
  const Config& config_;
  Plan plan_;
  int cur_ = kUserInput;
  std::string cur_q_, sum_q_;
  int h_ = 0, w_ = 0, c_ = 0;
};

}  // namespace

ActLayout DefaultLayout(Precision precision) {
  (void)precision;
  return ActLayout::kNhwc;
}

Plan MakePlan(const NetSpec& net, const ArchSpec& arch, const Config& config, ActLayout layout) {
  return PlanBuilder(net, arch, config, layout).Build();
}

std::vector<std::string> AllQuantNames(const NetSpec& net) {
  std::vector<std::string> names = {"input", "stem"};
  for (const BlockSpec& b : net.blocks) {
    for (size_t i = 0; i < b.convs.size(); ++i) {
      const ConvSpec& c = b.convs[i];
      if (c.factorisable) names.push_back(c.name + ".lr");
      if (i + 1 < b.convs.size()) names.push_back(c.name);
    }
    if (b.has_downsample) names.push_back(b.downsample.name);
    names.push_back(absl::StrCat("s", b.stage, ".b", b.index, ".out"));
  }
  if (net.has_head_conv) names.push_back("head");
  return names;
}

}  // namespace adaspring::engine::exec
