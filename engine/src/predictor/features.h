// Feature layout of the accuracy predictor for one configuration space (names and meaning:
// adaspring/engine/predictor.h). A Plan is built once per space; ForEachFeature then walks a
// configuration with table lookups only, so that Predict allocates nothing and stays well
// under a microsecond.
#ifndef ADASPRING_ENGINE_SRC_PREDICTOR_FEATURES_H_
#define ADASPRING_ENGINE_SRC_PREDICTOR_FEATURES_H_

#include <array>
#include <string>
#include <utility>
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
  int widths = 1, ranks = 1;  // number of width / rank choices
  // One-hot choice indicators "b<b>.width=<k>" / "b<b>.rank=<k>" by choice index (-1 when the
  // dimension is not elastic); 1 when the block runs at that choice.
  std::array<int, kMaxChoices> width_onehot, rank_onehot;
  std::array<double, kMaxChoices> width_fraction{};  // by width choice: inner / max inner
  std::array<double, kMaxChoices> rank_fraction{};   // by rank choice: 1 / divisor
  // By [width choice][rank choice]: 8 / r for the narrowest reduced-rank conv of the block
  // (r its absolute rank), 0 when no conv is reduced.
  std::array<std::array<double, kMaxChoices>, kMaxChoices> bottleneck{};
};

struct StagePlan {
  int depth_feature = -1;
  int max_depth = 1;
  double inv_max_depth = 1;
  // One-hot "s<s>.depth=<d>" by depth d (index 0 unused); empty for single-block stages.
  std::vector<int> depth_onehot;
};

struct Plan {
  std::vector<BlockPlan> blocks;  // by global block index
  std::vector<StagePlan> stages;
  int int8_feature = -1, int8_x_width_feature = -1, int8_x_rank_feature = -1;
  std::vector<std::string> names;  // by feature index
  // By feature index: true when the value depends on one block's choices, one stage's depth
  // or the precision alone (every feature but int8_x_width and int8_x_rank). Only these can be
  // inputs of the "krr" kernel, whose Predict works from per-block tables.
  std::vector<bool> local;
};

Plan MakePlan(const ConfigSpace& space);

// Per-configuration aggregates that the prior also uses.
struct Totals {
  double width_sum = 0, rank_sum = 0;  // of the effective per-block fractions
};

// Calls sink(feature_index, value) once for every feature of block `b` in the given state
// (w, r: choice indices; ignored when the block does not run); returns the block's effective
// width and rank fractions (0 when it does not run).
template <typename Sink>
inline std::pair<double, double> ForEachBlockFeature(const BlockPlan& b, bool active, int w, int r,
                                                     Sink&& sink) {
  const double wf = active ? b.width_fraction[w] : 0.0;
  const double rf = active ? b.rank_fraction[r] : 0.0;
  if (b.width_feature >= 0) sink(b.width_feature, wf);
  if (b.rank_feature >= 0) sink(b.rank_feature, rf);
  if (b.active_feature >= 0) sink(b.active_feature, active ? 1.0 : 0.0);
  if (b.width_x_rank_feature >= 0) sink(b.width_x_rank_feature, wf * rf);
  if (b.bottleneck_feature >= 0) sink(b.bottleneck_feature, active ? b.bottleneck[w][r] : 0.0);
  for (int k = 0; k < b.widths; ++k)
    if (b.width_onehot[k] >= 0) sink(b.width_onehot[k], active && w == k ? 1.0 : 0.0);
  for (int k = 0; k < b.ranks; ++k)
    if (b.rank_onehot[k] >= 0) sink(b.rank_onehot[k], active && r == k ? 1.0 : 0.0);
  return {wf, rf};
}

// The same for stage `sp` at `depth`.
template <typename Sink>
inline void ForEachStageFeature(const StagePlan& sp, int depth, Sink&& sink) {
  if (sp.depth_feature >= 0) sink(sp.depth_feature, depth * sp.inv_max_depth);
  for (size_t d = 1; d < sp.depth_onehot.size(); ++d)
    sink(sp.depth_onehot[d], static_cast<int>(d) == depth ? 1.0 : 0.0);
}

// Calls sink(feature_index, value) once for every feature of `plan`, in no particular order.
template <typename Sink>
inline Totals ForEachFeature(const Plan& plan, const Config& c, Sink&& sink) {
  Totals t;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const BlockPlan& b = plan.blocks[i];
    const auto [w, r] =
        ForEachBlockFeature(b, b.index < c.depth[b.stage], c.width_idx[i], c.rank_idx[i], sink);
    t.width_sum += w;
    t.rank_sum += r;
  }
  for (size_t s = 0; s < plan.stages.size(); ++s)
    ForEachStageFeature(plan.stages[s], c.depth[s], sink);
  const double int8 = c.precision == Precision::kInt8 ? 1.0 : 0.0;
  const double inv_blocks = plan.blocks.empty() ? 0.0 : 1.0 / plan.blocks.size();
  sink(plan.int8_feature, int8);
  sink(plan.int8_x_width_feature, int8 * t.width_sum * inv_blocks);
  sink(plan.int8_x_rank_feature, int8 * t.rank_sum * inv_blocks);
  return t;
}

}  // namespace adaspring::engine::predictor_internal

#endif  // ADASPRING_ENGINE_SRC_PREDICTOR_FEATURES_H_
