// Layer variants of a model's configuration space, indexed densely for fast prediction.
//
// A layer variant is the unit the latency table stores: one block at one (input shape, inner
// width, rank, precision), or the fixed part of the network (stem, pooling, head, classifier)
// at one precision. Blocks with identical shapes and choices share a variant (one row), so
// ResNet-18's repeated blocks are profiled once.
//
// Thread safety: immutable after construction.
#ifndef ADASPRING_ENGINE_SRC_SEARCH_LAYER_INDEX_H_
#define ADASPRING_ENGINE_SRC_SEARCH_LAYER_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "adaspring/engine/config.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine::search {

class LayerIndex {
 public:
  explicit LayerIndex(const ConfigSpace& space);

  int num_variants() const { return static_cast<int>(keys_.size()); }
  const std::string& key(int variant) const { return keys_[variant]; }
  // Multiply-accumulates and convolutions (primitives before factorisation) of a variant; used
  // by the analytic fallback and synthetic tables.
  int64_t macs(int variant) const { return macs_[variant]; }
  int convs(int variant) const { return convs_[variant]; }

  int BlockVariant(int block, int width_idx, int rank_idx, Precision p) const {
    return block_slots_[block][(static_cast<int>(p) * widths_[block] + width_idx) * ranks_[block] +
                               rank_idx];
  }
  int FixedVariant(Precision p) const { return fixed_slots_[static_cast<int>(p)]; }
  int num_blocks() const { return static_cast<int>(block_slots_.size()); }

  // Calls fn(variant) for each layer variant the configuration runs (active blocks in order,
  // then the fixed part).
  template <typename Fn>
  void ForEachVariant(const ConfigSpace& space, const Config& c, Fn&& fn) const {
    for (int b = 0; b < num_blocks(); ++b) {
      if (!space.BlockActive(c, b)) continue;
      fn(BlockVariant(b, c.width_idx[b], c.rank_idx[b], c.precision));
    }
    fn(FixedVariant(c.precision));
  }

 private:
  int AddKey(std::string key, int64_t macs, int convs);

  std::vector<std::string> keys_;
  std::vector<int64_t> macs_;
  std::vector<int> convs_;
  std::vector<std::vector<int>> block_slots_;  // [block][(p * widths + w) * ranks + r]
  std::vector<int> widths_, ranks_;
  int fixed_slots_[2] = {0, 0};
};

}  // namespace adaspring::engine::search

#endif  // ADASPRING_ENGINE_SRC_SEARCH_LAYER_INDEX_H_
