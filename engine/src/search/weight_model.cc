#include "search/weight_model.h"

#include <algorithm>
#include <random>

#include "adaspring/engine/variant.h"

namespace adaspring::engine::search {

namespace {

int ConvOut(int size, int kernel, int stride) {
  return (size + 2 * (kernel / 2) - kernel) / stride + 1;
}

int64_t TensorBytes(int64_t c, int64_t hw, int elem) {
  return (c * hw * elem + 63) / 64 * 64;  // the arena rounds every tensor up to 64 bytes
}

}  // namespace

WeightModel::WeightModel(const Model& model) : space_(model.space()) {
  const NetSpec& net = space_.net();
  const int nb = space_.num_blocks();
  auto weights = [&](const Config& c) { return PredictStats(model, c).weight_bytes; };
  delta_.assign(nb, {});
  for (int p = 0; p < 2; ++p) {
    const Config full = space_.Full(static_cast<Precision>(p));
    full_[p] = weights(full);
    absent_[p].assign(nb, 0);
    // Blocks after the first of a stage: what they add at full choice (depth j+1 vs j).
    for (int s = 0; s < space_.num_stages(); ++s) {
      Config c = full;
      int64_t prev = 0;
      for (int d = 1; d <= space_.arch().stages[s].num_blocks; ++d) {
        c.depth[s] = static_cast<uint8_t>(d);
        const int64_t w = weights(space_.Canonical(c));
        for (const BlockSpec& b : net.blocks)
          if (b.stage == s && b.index == d - 1 && d > 1) absent_[p][b.global_index] = w - prev;
        prev = w;
      }
    }
    for (const BlockSpec& b : net.blocks) {
      const int nw = static_cast<int>(b.inner_choices.size());
      delta_[b.global_index].resize(2 * nw * b.rank_choices);
      for (int wi = 0; wi < nw; ++wi) {
        for (int ri = 0; ri < b.rank_choices; ++ri) {
          Config c = full;
          c.width_idx[b.global_index] = static_cast<uint8_t>(wi);
          c.rank_idx[b.global_index] = static_cast<uint8_t>(ri);
          delta_[b.global_index][(p * nw + wi) * b.rank_choices + ri] = weights(c) - full_[p];
        }
      }
    }
  }
  // Activation lower bounds per block variant: for each conv (both halves when factorised),
  // source + destination bytes.
  const ArchSpec& arch = space_.arch();
  int h = ConvOut(arch.in_height, arch.stem_kernel, arch.stem_stride);
  int w = ConvOut(arch.in_width, arch.stem_kernel, arch.stem_stride);
  if (arch.stem_max_pool) {
    h = ConvOut(h, 3, 2);
    w = ConvOut(w, 3, 2);
  }
  arena_lb_.assign(nb, {});
  for (const BlockSpec& b : net.blocks) {
    const int oh = ConvOut(h, 3, b.stride), ow = ConvOut(w, 3, b.stride);
    const int nw = static_cast<int>(b.inner_choices.size());
    auto& lb = arena_lb_[b.global_index];
    lb.assign(2 * nw * b.rank_choices, 0);
    for (int p = 0; p < 2; ++p) {
      const int elem = p == 1 ? 1 : 4;
      for (int wi = 0; wi < nw; ++wi) {
        for (int ri = 0; ri < b.rank_choices; ++ri) {
          const int inner = b.inner_choices[wi];
          int64_t best = 0;
          int ch = b.in_channels;
          int64_t hw = static_cast<int64_t>(h) * w;
          for (const ConvSpec& c : b.convs) {
            const int out = c.out_elastic ? inner : c.out_channels;
            const int64_t out_hw = c.stride > 1 ? static_cast<int64_t>(oh) * ow : hw;
            if (c.factorisable && arch.rank_divisors[ri] > 1 && !c.depthwise) {
              const int in = c.in_elastic ? inner : c.in_channels;
              const int r = FactorisedRank(c, out, in, arch.rank_divisors[ri]);
              best = std::max(best, TensorBytes(ch, hw, elem) + TensorBytes(r, out_hw, elem));
              best = std::max(best, TensorBytes(r, out_hw, elem) + TensorBytes(out, out_hw, elem));
            } else {
              best = std::max(best, TensorBytes(ch, hw, elem) + TensorBytes(out, out_hw, elem));
            }
            ch = out;
            hw = out_hw;
          }
          lb[(p * nw + wi) * b.rank_choices + ri] = best;
        }
      }
    }
    h = oh;
    w = ow;
  }
  // Verify additivity and the bound on random configurations before trusting them.
  std::mt19937_64 rng(12345);
  exact_ = true;
  arena_lb_valid_ = true;
  for (int i = 0; i < 24 && exact_; ++i) {
    const Config c = space_.Sample(rng);
    const VariantStats s = PredictStats(model, c);
    exact_ = Compute(c) == s.weight_bytes;
    if (MemoryLowerBound(c) > s.weight_bytes + s.arena_bytes) arena_lb_valid_ = false;
  }
}

int64_t WeightModel::MemoryLowerBound(const Config& c) const {
  int64_t arena = 0;
  if (arena_lb_valid_) {
    const int p = static_cast<int>(c.precision);
    for (const BlockSpec& b : space_.net().blocks) {
      const int g = b.global_index;
      if (!space_.BlockActive(c, g)) continue;
      const int nw = static_cast<int>(b.inner_choices.size());
      arena =
          std::max(arena, arena_lb_[g][(p * nw + c.width_idx[g]) * b.rank_choices + c.rank_idx[g]]);
    }
  }
  return WeightBytes(c) + arena;
}

int64_t WeightModel::Compute(const Config& c) const {
  const int p = static_cast<int>(c.precision);
  int64_t total = full_[p];
  const NetSpec& net = space_.net();
  for (const BlockSpec& b : net.blocks) {
    const int g = b.global_index;
    if (!space_.BlockActive(c, g)) {
      total -= absent_[p][g];
      continue;
    }
    const int nw = static_cast<int>(b.inner_choices.size());
    total += delta_[g][(p * nw + c.width_idx[g]) * b.rank_choices + c.rank_idx[g]];
  }
  return total;
}

int64_t WeightModel::WeightBytes(const Config& c) const { return exact_ ? Compute(c) : 0; }

}  // namespace adaspring::engine::search
