// Feature layout of the accuracy predictor for one configuration space (names and meaning:
// adaspring/engine/predictor.h). A Plan is built once per space; ForEachFeature then walks a
// configuration with table lookups only, so that Predict allocates nothing and stays well
// under a microsecond.
#ifndef ADASPRING_ENGINE_SRC_PREDICTOR_FEATURES_H_
#define ADASPRING_ENGINE_SRC_PREDICTOR_FEATURES_H_

#include <array>
#include <string>
#include <vector>

#include "adaspring/engine/config.h"

namespace adaspring::engine::predictor_internal {

// ValidateArch allows at most 8 width and 8 rank choices.
inline constexpr int kMaxChoices = 8;

struct BlockPlan {
  int stage = 0, index = 0;  // the block runs iff index < depth[stage]
  // Feature indices; -1 when the block has no such feature.
  int width_feature = -1, rank_feature = -1, active_feature = -1, width_x_rank_feature = -1;
  int bottleneck_feature = -1;
  std::array<double, kMaxChoices> width_fraction{};  // by width choice: inner / max inner
  std::array<double, kMaxChoices> rank_fraction{};   // by rank choice: 1 / divisor
  // By [width choice][rank choice]: 8 / r for the narrowest reduced-rank conv of the block
  // (r its absolute rank), 0 when no conv is reduced.
  std::array<std::array<double, kMaxChoices>, kMaxChoices> bottleneck{};
};

struct StagePlan {
  int depth_feature = -1;
  double inv_max_depth = 1;
};

struct Plan {
  std::vector<BlockPlan> blocks;  // by global block index
  std::vector<StagePlan> stages;
  int int8_feature = -1, int8_x_width_feature = -1, int8_x_rank_feature = -1;
  std::vector<std::string> names;  // by feature index
};

Plan MakePlan(const ConfigSpace& space);

// Per-configuration aggregates that the prior also uses.
struct Totals {
  double width_sum = 0, rank_sum = 0;  // of the effective per-block fractions
};

// Calls sink(feature_index, value) once for every feature of `plan`, in no particular order.
template <typename Sink>
inline Totals ForEachFeature(const Plan& plan, const Config& c, Sink&& sink) {
  Totals t;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const BlockPlan& b = plan.blocks[i];
    const bool active = b.index < c.depth[b.stage];
    const double w = active ? b.width_fraction[c.width_idx[i]] : 0.0;
    const double r = active ? b.rank_fraction[c.rank_idx[i]] : 0.0;
    t.width_sum += w;
    t.rank_sum += r;
    if (b.width_feature >= 0) sink(b.width_feature, w);
    if (b.rank_feature >= 0) sink(b.rank_feature, r);
    if (b.active_feature >= 0) sink(b.active_feature, active ? 1.0 : 0.0);
    if (b.width_x_rank_feature >= 0) sink(b.width_x_rank_feature, w * r);
    if (b.bottleneck_feature >= 0)
      sink(b.bottleneck_feature, active ? b.bottleneck[c.width_idx[i]][c.rank_idx[i]] : 0.0);
  }
  for (size_t s = 0; s < plan.stages.size(); ++s) {
    const StagePlan& sp = plan.stages[s];
    if (sp.depth_feature >= 0) sink(sp.depth_feature, c.depth[s] * sp.inv_max_depth);
  }
  const double int8 = c.precision == Precision::kInt8 ? 1.0 : 0.0;
  const double inv_blocks = plan.blocks.empty() ? 0.0 : 1.0 / plan.blocks.size();
  sink(plan.int8_feature, int8);
  sink(plan.int8_x_width_feature, int8 * t.width_sum * inv_blocks);
  sink(plan.int8_x_rank_feature, int8 * t.rank_sum * inv_blocks);
  return t;
}

}  // namespace adaspring::engine::predictor_internal

#endif  // ADASPRING_ENGINE_SRC_PREDICTOR_FEATURES_H_
