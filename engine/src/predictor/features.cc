#include "predictor/features.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace adaspring::engine::predictor_internal {

Plan MakePlan(const ConfigSpace& space) {
  Plan plan;
  const ArchSpec& arch = space.arch();
  auto add = [&plan](std::string name) {
    plan.names.push_back(std::move(name));
    return static_cast<int>(plan.names.size()) - 1;
  };
  for (const BlockSpec& blk : space.net().blocks) {
    BlockPlan b;
    b.stage = blk.stage;
    b.index = blk.index;
    const std::string p = absl::StrCat("b", blk.global_index, ".");
    const bool elastic_width = blk.inner_choices.size() > 1;
    const bool elastic_rank = blk.rank_choices > 1;
    b.widths = static_cast<int>(std::min<size_t>(blk.inner_choices.size(), kMaxChoices));
    b.ranks = std::min(blk.rank_choices, kMaxChoices);
    b.width_onehot.fill(-1);
    b.rank_onehot.fill(-1);
    if (elastic_width) b.width_feature = add(p + "width");
    if (elastic_rank) b.rank_feature = add(p + "rank");
    if (blk.index > 0) b.active_feature = add(p + "active");
    if (elastic_width && elastic_rank) b.width_x_rank_feature = add(p + "width_x_rank");
    if (elastic_rank) {
      b.bottleneck_feature = add(p + "bottleneck");
      for (size_t w = 0; w < blk.inner_choices.size() && w < kMaxChoices; ++w) {
        for (int r = 1; r < blk.rank_choices && r < kMaxChoices; ++r) {
          int narrowest = 0;
          for (const ConvSpec& conv : blk.convs) {
            if (!conv.factorisable) continue;
            const int k = blk.inner_choices[w];
            const int out = conv.out_elastic ? k : conv.out_channels;
            const int in = conv.depthwise ? k : (conv.in_elastic ? k : conv.in_channels);
            const int full = std::min(out, in * conv.kernel * conv.kernel);
            const int rank = FactorisedRank(conv, out, in, arch.rank_divisors[r]);
            if (rank < full && (narrowest == 0 || rank < narrowest)) narrowest = rank;
          }
          b.bottleneck[w][r] = narrowest > 0 ? 8.0 / narrowest : 0.0;
        }
      }
    }
    if (elastic_width)
      for (int k = 0; k < b.widths; ++k) b.width_onehot[k] = add(absl::StrCat(p, "width=", k));
    if (elastic_rank)
      for (int k = 0; k < b.ranks; ++k) b.rank_onehot[k] = add(absl::StrCat(p, "rank=", k));
    for (size_t w = 0; w < blk.inner_choices.size() && w < kMaxChoices; ++w)
      b.width_fraction[w] = static_cast<double>(blk.inner_choices[w]) / blk.max_inner;
    b.rank_fraction.fill(1.0);
    if (elastic_rank) {
      for (int r = 0; r < blk.rank_choices && r < kMaxChoices; ++r)
        b.rank_fraction[r] = 1.0 / arch.rank_divisors[r];
    }
    plan.blocks.push_back(b);
  }
  for (size_t s = 0; s < arch.stages.size(); ++s) {
    StagePlan sp;
    sp.max_depth = arch.stages[s].num_blocks;
    sp.inv_max_depth = 1.0 / arch.stages[s].num_blocks;
    if (arch.stages[s].num_blocks > 1) {
      sp.depth_feature = add(absl::StrCat("s", s, ".depth"));
      sp.depth_onehot.assign(arch.stages[s].num_blocks + 1, -1);
      for (int d = 1; d <= arch.stages[s].num_blocks; ++d)
        sp.depth_onehot[d] = add(absl::StrCat("s", s, ".depth=", d));
    }
    plan.stages.push_back(sp);
  }
  plan.int8_feature = add("int8");
  plan.int8_x_width_feature = add("int8_x_width");
  plan.int8_x_rank_feature = add("int8_x_rank");
  plan.local.assign(plan.names.size(), true);
  plan.local[plan.int8_x_width_feature] = false;
  plan.local[plan.int8_x_rank_feature] = false;
  return plan;
}

}  // namespace adaspring::engine::predictor_internal
