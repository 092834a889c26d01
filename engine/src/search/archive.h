// Pareto archive: the non-dominated set of (accuracy up; latency, memory, energy down).
//
// Insert rejects a point that an archived one covers (all costs <= and accuracy >= the
// point's accuracy - epsilon) and removes archived points the new one dominates exactly.
// Removal by exact dominance only keeps the guarantee at epsilon: every rejected or removed
// point stays covered within epsilon by some archived point.
//
// Thread safety: none (owned by one search).
#ifndef ADASPRING_ENGINE_SRC_SEARCH_ARCHIVE_H_
#define ADASPRING_ENGINE_SRC_SEARCH_ARCHIVE_H_

#include <vector>

#include "adaspring/engine/search.h"

namespace adaspring::engine::search {

class ParetoArchive {
 public:
  explicit ParetoArchive(double accuracy_epsilon) : epsilon_(accuracy_epsilon) {}

  // True when the point was added. `tag` is carried along (e.g. "explored").
  bool Insert(const FrontierPoint& point, int tag = 0);

  // Whether an archived point covers `cost` (see Insert). With a lower bound of the memory in
  // `cost`, true still means the exact point is covered.
  bool Covered(const ConfigCost& cost) const;

  int size() const { return static_cast<int>(points_.size()); }
  const FrontierPoint& point(int i) const { return points_[i]; }
  int tag(int i) const { return tags_[i]; }
  void set_tag(int i, int tag) { tags_[i] = tag; }
  std::vector<FrontierPoint> Take() { return std::move(points_); }

 private:
  double epsilon_;
  // Structure of arrays for the dominance scans.
  std::vector<double> acc_, lat_, energy_;
  std::vector<int64_t> mem_;
  std::vector<FrontierPoint> points_;
  std::vector<int> tags_;
};

}  // namespace adaspring::engine::search

#endif  // ADASPRING_ENGINE_SRC_SEARCH_ARCHIVE_H_
