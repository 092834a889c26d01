#include "search/layer_index.h"

#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "adaspring/engine/search.h"

namespace adaspring::engine::search {
namespace {

int ConvOut(int size, int kernel, int stride) {
  return (size + 2 * (kernel / 2) - kernel) / stride + 1;
}

const char* PrecisionName(Precision p) { return p == Precision::kInt8 ? "int8" : "f32"; }

// MACs and conv count of one conv at `out_hw` output pixels, factorised at `divisor` when the
// conv allows it (k x k conv to rank r, then 1 x 1 conv r -> out).
void AddConv(const ConvSpec& conv, int in, int out, int out_hw, int divisor, int64_t* macs,
             int* convs) {
  const int64_t k2 = static_cast<int64_t>(conv.kernel) * conv.kernel;
  if (conv.depthwise) {
    *macs += static_cast<int64_t>(out_hw) * out * k2;
    *convs += 1;
    return;
  }
  if (conv.factorisable && divisor > 1) {
    const int r = FactorisedRank(conv, out, in, divisor);
    *macs += static_cast<int64_t>(out_hw) * (in * k2 * r + static_cast<int64_t>(r) * out);
    *convs += 2;
    return;
  }
  *macs += static_cast<int64_t>(out_hw) * in * k2 * out;
  *convs += 1;
}

}  // namespace

int LayerIndex::AddKey(std::string key, int64_t macs, int convs) {
  keys_.push_back(std::move(key));
  macs_.push_back(macs);
  convs_.push_back(convs);
  return static_cast<int>(keys_.size()) - 1;
}

LayerIndex::LayerIndex(const ConfigSpace& space) {
  const ArchSpec& arch = space.arch();
  const NetSpec& net = space.net();
  std::unordered_map<std::string, int> seen;
  auto slot = [&](std::string key, int64_t macs, int convs) {
    auto it = seen.find(key);
    if (it != seen.end()) return it->second;
    const int s = AddKey(key, macs, convs);
    seen.emplace(std::move(key), s);
    return s;
  };

  int h = ConvOut(arch.in_height, arch.stem_kernel, arch.stem_stride);
  int w = ConvOut(arch.in_width, arch.stem_kernel, arch.stem_stride);
  const int stem_h = h, stem_w = w;
  if (arch.stem_max_pool) {
    h = ConvOut(h, 3, 2);
    w = ConvOut(w, 3, 2);
  }
  for (const BlockSpec& b : net.blocks) {
    const int oh = ConvOut(h, 3, b.stride), ow = ConvOut(w, 3, b.stride);
    const int nw = static_cast<int>(b.inner_choices.size());
    widths_.push_back(nw);
    ranks_.push_back(b.rank_choices);
    std::vector<int> slots(2 * nw * b.rank_choices);
    for (int p = 0; p < 2; ++p) {
      for (int wi = 0; wi < nw; ++wi) {
        for (int ri = 0; ri < b.rank_choices; ++ri) {
          const int inner = b.inner_choices[wi];
          const int divisor = arch.rank_divisors[ri];
          int64_t macs = 0;
          int convs = 0;
          for (const ConvSpec& c : b.convs) {
            const int in = c.in_elastic ? inner : c.in_channels;
            const int out = c.out_elastic ? inner : c.out_channels;
            // Only the stride-carrying conv (conv1 / dw) shrinks the map; 1x1 expand runs at
            // the input size.
            const bool at_input = b.kind == BlockKind::kInverted && c.name.size() >= 7 &&
                                  c.name.compare(c.name.size() - 7, 7, ".expand") == 0;
            AddConv(c, in, out, at_input ? h * w : oh * ow, divisor, &macs, &convs);
          }
          if (b.has_downsample)
            AddConv(b.downsample, b.in_channels, b.out_channels, oh * ow, 1, &macs, &convs);
          std::string key =
              absl::StrCat(b.kind == BlockKind::kBasic ? "basic" : "inverted",
                           " in=", b.in_channels, " out=", b.out_channels, " s=", b.stride,
                           " hw=", h, "x", w, " inner=", inner, "/", b.max_inner, " rank=", divisor,
                           " act=", arch.activation == Activation::kRelu ? "relu" : "relu6",
                           " res=", b.residual ? 1 : 0, " ds=", b.has_downsample ? 1 : 0,
                           " p=", PrecisionName(static_cast<Precision>(p)));
          slots[(p * nw + wi) * b.rank_choices + ri] = slot(std::move(key), macs, convs);
        }
      }
    }
    block_slots_.push_back(std::move(slots));
    h = oh;
    w = ow;
  }
  // Fixed part: stem (+ pooling), head conv, global pooling and classifier.
  for (int p = 0; p < 2; ++p) {
    int64_t macs = static_cast<int64_t>(stem_h) * stem_w * arch.in_channels * arch.stem_kernel *
                   arch.stem_kernel * arch.stem_channels;
    int convs = 1;
    if (net.has_head_conv) {
      macs += static_cast<int64_t>(h) * w * net.head.in_channels * net.head.out_channels;
      ++convs;
    }
    macs += static_cast<int64_t>(net.fc_in) * net.num_classes;
    ++convs;
    std::string key = absl::StrCat(
        "fixed in=", arch.in_channels, "x", arch.in_height, "x", arch.in_width,
        " stem=", arch.stem_channels, "k", arch.stem_kernel, "s", arch.stem_stride,
        arch.stem_max_pool ? "+pool" : "", " head=", net.has_head_conv ? net.head.out_channels : 0,
        " last=", net.fc_in, "@", h, "x", w, " classes=", net.num_classes,
        " act=", arch.activation == Activation::kRelu ? "relu" : "relu6",
        " p=", PrecisionName(static_cast<Precision>(p)));
    fixed_slots_[p] = slot(std::move(key), macs, convs);
  }
}

}  // namespace adaspring::engine::search

namespace adaspring::engine {

std::vector<std::string> LayerVariantKeys(const Model& model, const Config& config) {
  search::LayerIndex index(model.space());
  std::vector<std::string> keys;
  index.ForEachVariant(model.space(), config, [&](int v) { keys.push_back(index.key(v)); });
  return keys;
}

std::vector<std::string> DistinctLayerVariants(const Model& model) {
  search::LayerIndex index(model.space());
  std::vector<std::string> keys;
  for (int v = 0; v < index.num_variants(); ++v) keys.push_back(index.key(v));
  return keys;
}

LatencyTable SyntheticLatencyTable(const Model& model, int threads, double us_per_mmac,
                                   double int8_speedup, double per_primitive_us) {
  search::LayerIndex index(model.space());
  LatencyTable t;
  t.cpu_model = "synthetic";
  t.engine_version = "synthetic";
  t.threads = threads;
  t.per_primitive_us = per_primitive_us;
  for (int v = 0; v < index.num_variants(); ++v) {
    const std::string& key = index.key(v);
    const bool int8 = key.size() >= 4 && key.compare(key.size() - 4, 4, "int8") == 0;
    LatencyTable::Row row;
    row.us = us_per_mmac * static_cast<double>(index.macs(v)) / 1e6 / (int8 ? int8_speedup : 1);
    row.primitives = index.convs(v);
    t.rows[key] = row;
  }
  return t;
}

}  // namespace adaspring::engine
