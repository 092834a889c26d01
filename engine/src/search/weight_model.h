// Weight bytes of a configuration as a sum over its blocks' choices, for fast searching.
//
// Every layer's weights depend only on its own block's (width, rank, precision), so the
// engine's exact weight_bytes (PredictStats) is additive over blocks. The per-block terms are
// derived from a few hundred PredictStats calls by differencing against the full network and
// verified on random configurations; when the check fails (the engine changed its layout),
// exact() is false and WeightBytes() returns 0, which is still a valid lower bound.
//
// Thread safety: immutable after construction.
#ifndef ADASPRING_ENGINE_SRC_SEARCH_WEIGHT_MODEL_H_
#define ADASPRING_ENGINE_SRC_SEARCH_WEIGHT_MODEL_H_

#include <cstdint>
#include <vector>

#include "adaspring/engine/model.h"

namespace adaspring::engine::search {

class WeightModel {
 public:
  explicit WeightModel(const Model& model);
  bool exact() const { return exact_; }
  // Exact weight bytes when exact(), else 0 (a lower bound of memory_bytes either way).
  int64_t WeightBytes(const Config& c) const;
  // A lower bound of memory_bytes (weight_bytes + arena_bytes): WeightBytes() plus the
  // largest (source + destination) activation pair of any conv that runs, since both live in
  // the arena at once. Checked against PredictStats on random configurations; the arena part
  // is dropped (0) when a check fails.
  int64_t MemoryLowerBound(const Config& c) const;

 private:
  int64_t Compute(const Config& c) const;

  const ConfigSpace& space_;
  bool exact_ = false;
  int64_t full_[2] = {0, 0};                    // weight bytes of Full(p)
  std::vector<std::vector<int64_t>> delta_;     // [block][(p * widths + w) * ranks + r]
  std::vector<int64_t> absent_[2];              // bytes a block adds at full choice, per p
  std::vector<std::vector<int64_t>> arena_lb_;  // [block][(p * widths + w) * ranks + r]
  bool arena_lb_valid_ = false;
};

}  // namespace adaspring::engine::search

#endif  // ADASPRING_ENGINE_SRC_SEARCH_WEIGHT_MODEL_H_
