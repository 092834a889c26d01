#include "adaspring/engine/arch.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace adaspring::engine {
namespace {

// Channel count for `percent` of `max_channels`: a multiple of 8 where the maximum allows
// (vector-friendly for oneDNN's blocked layouts), never below 8 or above the maximum.
int RoundedChannels(int max_channels, int percent) {
  const double exact = max_channels * percent / 100.0;
  if (max_channels < 8) return std::max(1, static_cast<int>(exact + 0.5));
  int rounded = static_cast<int>((exact + 4) / 8) * 8;
  return std::clamp(rounded, 8, max_channels);
}

ConvSpec MakeConv(std::string name, std::string bn, int in, int out, int kernel, int stride) {
  ConvSpec c;
  c.name = std::move(name);
  c.bn = std::move(bn);
  c.in_channels = in;
  c.out_channels = out;
  c.kernel = kernel;
  c.stride = stride;
  c.pad = kernel / 2;
  return c;
}

BlockSpec BasicBlock(const ArchSpec& arch, int in, int out, int stride, const std::string& p) {
  BlockSpec b;
  b.kind = BlockKind::kBasic;
  b.in_channels = in;
  b.out_channels = out;
  b.stride = stride;
  b.max_inner = out;
  ConvSpec c1 = MakeConv(p + ".conv1", p + ".bn1", in, out, 3, stride);
  c1.out_elastic = true;
  c1.factorisable = true;
  ConvSpec c2 = MakeConv(p + ".conv2", p + ".bn2", out, out, 3, 1);
  c2.in_elastic = true;
  c2.act = false;  // activation follows the residual add
  c2.factorisable = true;
  b.convs = {c1, c2};
  b.residual = true;
  if (stride != 1 || in != out) {
    b.has_downsample = true;
    b.downsample = MakeConv(p + ".down", p + ".down_bn", in, out, 1, stride);
    b.downsample.act = false;
  }
  for (int pct : arch.width_percent) b.inner_choices.push_back(RoundedChannels(out, pct));
  return b;
}

BlockSpec InvertedBlock(const ArchSpec& arch, int in, int out, int stride, int t,
                        const std::string& p) {
  BlockSpec b;
  b.kind = BlockKind::kInverted;
  b.in_channels = in;
  b.out_channels = out;
  b.stride = stride;
  b.max_inner = in * t;
  const bool elastic = t > 1;
  if (elastic) {
    ConvSpec e = MakeConv(p + ".expand", p + ".expand_bn", in, in * t, 1, 1);
    e.out_elastic = true;
    e.factorisable = true;
    b.convs.push_back(e);
  }
  ConvSpec dw = MakeConv(p + ".dw", p + ".dw_bn", in * t, in * t, 3, stride);
  dw.depthwise = true;
  dw.in_elastic = dw.out_elastic = elastic;
  b.convs.push_back(dw);
  ConvSpec pr = MakeConv(p + ".project", p + ".project_bn", in * t, out, 1, 1);
  pr.in_elastic = elastic;
  pr.act = false;  // linear bottleneck
  pr.factorisable = true;
  b.convs.push_back(pr);
  b.residual = stride == 1 && in == out;
  if (elastic) {
    for (int pct : arch.width_percent) b.inner_choices.push_back(RoundedChannels(in * t, pct));
  } else {
    b.inner_choices = {in};
  }
  return b;
}

}  // namespace

absl::Status ValidateArch(const ArchSpec& a) {
  auto bad = [&](auto&&... what) {
    return absl::InvalidArgumentError(absl::StrCat("architecture '", a.name, "': ", what...));
  };
  if (a.in_channels < 1 || a.in_height < 1 || a.in_width < 1 || a.in_channels > 64 ||
      a.in_height > 4096 || a.in_width > 4096)
    return bad("input shape [", a.in_channels, ",", a.in_height, ",", a.in_width,
               "] (CHW) outside the limits: channels 1..64, height and width 1..4096");
  if (a.num_classes < 1 || a.num_classes > 100000)
    return bad("num_classes ", a.num_classes, " outside 1..100000");
  if (a.stem_channels < 1 || a.stem_channels > 4096)
    return bad("stem_channels ", a.stem_channels, " outside 1..4096");
  if (a.stem_kernel < 1 || a.stem_kernel > 11 || a.stem_kernel % 2 == 0)
    return bad("stem_kernel ", a.stem_kernel, " must be odd, 1..11");
  if (a.stem_stride < 1 || a.stem_stride > 4)
    return bad("stem_stride ", a.stem_stride, " outside 1..4");
  if (a.stages.empty() || a.stages.size() > 16)
    return bad("need 1..16 stages, got ", a.stages.size());
  for (size_t i = 0; i < a.stages.size(); ++i) {
    const StageSpec& s = a.stages[i];
    if (s.out_channels < 1 || s.out_channels > 4096)
      return bad("stage ", i, " out_channels ", s.out_channels, " outside 1..4096");
    if (s.num_blocks < 1 || s.num_blocks > 16)
      return bad("stage ", i, " num_blocks ", s.num_blocks, " must be 1..16");
    if (s.stride < 1 || s.stride > 2)
      return bad("stage ", i, " stride ", s.stride, " must be 1 or 2");
    if (s.expand_ratio < 1 || s.expand_ratio > 8)
      return bad("stage ", i, " expand_ratio ", s.expand_ratio, " must be 1..8");
  }
  if (a.head_channels < 0 || a.head_channels > 8192)
    return bad("head_channels ", a.head_channels, " outside 0..8192");
  if (a.width_percent.empty() || a.width_percent.size() > 8)
    return bad("need 1..8 widths, got ", a.width_percent.size());
  if (!std::is_sorted(a.width_percent.begin(), a.width_percent.end()) ||
      a.width_percent.front() < 1 || a.width_percent.back() != 100)
    return bad("width_percent must ascend, within 1..100, ending at 100");
  if (a.rank_divisors.empty() || a.rank_divisors.size() > 8 || a.rank_divisors.front() != 1 ||
      !std::is_sorted(a.rank_divisors.begin(), a.rank_divisors.end()) ||
      a.rank_divisors.back() > 64)
    return bad("rank_divisors must ascend from 1, at most 64");
  // Spatial size must stay >= 1 through every stride.
  int h = (a.in_height + 2 * (a.stem_kernel / 2) - a.stem_kernel) / a.stem_stride + 1;
  if (a.stem_max_pool) h = (h + 2 - 3) / 2 + 1;
  for (const StageSpec& s : a.stages) h = (h + 2 - 3) / s.stride + 1;
  if (h < 1) return bad("input too small for the strides");
  return absl::OkStatus();
}

NetSpec BuildNetSpec(const ArchSpec& a) {
  NetSpec n;
  n.stem =
      MakeConv("stem", "stem.bn", a.in_channels, a.stem_channels, a.stem_kernel, a.stem_stride);
  int in = a.stem_channels;
  int global = 0;
  for (size_t s = 0; s < a.stages.size(); ++s) {
    const StageSpec& st = a.stages[s];
    for (int b = 0; b < st.num_blocks; ++b) {
      const std::string prefix = absl::StrCat("s", s, ".b", b);
      const int stride = b == 0 ? st.stride : 1;
      BlockSpec blk = a.block_kind == BlockKind::kBasic
                          ? BasicBlock(a, in, st.out_channels, stride, prefix)
                          : InvertedBlock(a, in, st.out_channels, stride, st.expand_ratio, prefix);
      blk.stage = static_cast<int>(s);
      blk.index = b;
      blk.global_index = global++;
      blk.bn_widths = static_cast<int>(blk.inner_choices.size());
      const bool any_factorisable = std::any_of(blk.convs.begin(), blk.convs.end(),
                                                [](const ConvSpec& c) { return c.factorisable; });
      blk.rank_choices = any_factorisable ? static_cast<int>(a.rank_divisors.size()) : 1;
      n.blocks.push_back(std::move(blk));
      in = st.out_channels;
    }
  }
  if (a.head_channels > 0) {
    n.has_head_conv = true;
    n.head = MakeConv("head", "head.bn", in, a.head_channels, 1, 1);
    in = a.head_channels;
  }
  n.fc_in = in;
  n.num_classes = a.num_classes;
  return n;
}

int FactorisedRank(const ConvSpec& conv, int out_channels, int in_channels, int divisor) {
  const int full = std::min(out_channels, in_channels * conv.kernel * conv.kernel);
  if (divisor <= 1) return full;
  const int r = (full + divisor - 1) / divisor;
  if (r >= 8) return std::min(full, (r + 7) / 8 * 8);
  return std::max(1, r);
}

absl::StatusOr<ArchSpec> BuiltinArch(std::string_view name) {
  ArchSpec a;
  a.name = std::string(name);
  if (name == "smallres28") {
    a.in_channels = 1;
    a.in_height = a.in_width = 28;
    a.num_classes = 10;
    a.stem_channels = 16;
    a.stem_kernel = 3;
    a.stem_stride = 1;
    a.stages = {{32, 2, 2, 1}, {64, 2, 2, 1}, {128, 2, 2, 1}};
  } else if (name == "resnet18") {
    a.in_channels = 3;
    a.in_height = a.in_width = 224;
    a.num_classes = 1000;
    a.stem_channels = 64;
    a.stem_kernel = 7;
    a.stem_stride = 2;
    a.stem_max_pool = true;
    a.stages = {{64, 2, 1, 1}, {128, 2, 2, 1}, {256, 2, 2, 1}, {512, 2, 2, 1}};
  } else if (name == "mobilenetv2") {
    a.in_channels = 3;
    a.in_height = a.in_width = 224;
    a.num_classes = 1000;
    a.stem_channels = 32;
    a.stem_kernel = 3;
    a.stem_stride = 2;
    a.block_kind = BlockKind::kInverted;
    a.activation = Activation::kRelu6;
    a.stages = {{16, 1, 1, 1}, {24, 2, 2, 6},  {32, 3, 2, 6}, {64, 4, 2, 6},
                {96, 3, 1, 6}, {160, 3, 2, 6}, {320, 1, 1, 6}};
    a.head_channels = 1280;
  } else {
    return absl::NotFoundError(absl::StrCat("unknown architecture '", std::string(name),
                                            "' (built-in: smallres28, resnet18, "
                                            "mobilenetv2)"));
  }
  return a;
}

std::vector<std::string> BuiltinArchNames() { return {"smallres28", "resnet18", "mobilenetv2"}; }

}  // namespace adaspring::engine
