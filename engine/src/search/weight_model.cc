#include "search/weight_model.h"

#include <random>

#include "adaspring/engine/variant.h"

namespace adaspring::engine::search {

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
  // Verify additivity on random configurations before trusting it.
  std::mt19937_64 rng(12345);
  exact_ = true;
  for (int i = 0; i < 24 && exact_; ++i) {
    const Config c = space_.Sample(rng);
    exact_ = Compute(c) == weights(c);
  }
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
