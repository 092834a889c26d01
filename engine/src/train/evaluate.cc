#include "train/evaluate.h"

#include <algorithm>
#include <numeric>

#include "adaspring/engine/train/layers.h"

namespace adaspring::engine::train {

EvalSet MakeEvalSet(const Dataset& d, const Normalization& norm, int max_images) {
  EvalSet s;
  s.count = max_images > 0 ? std::min(max_images, d.count) : d.count;
  s.image_size = d.image_size();
  s.images.resize(static_cast<size_t>(s.count) * s.image_size);
  s.labels.resize(s.count);
  std::vector<int> idx(s.count);
  std::iota(idx.begin(), idx.end(), 0);
  MakeBatch(d, idx.data(), s.count, norm, Augment{}, nullptr, s.images.data(), s.labels.data());
  return s;
}

absl::StatusOr<double> VariantAccuracy(Evolver& evolver, Workspace* ws, const Config& config,
                                       const EvalSet& set, int max_images) {
  absl::StatusOr<std::shared_ptr<const Variant>> v = evolver.Evolve(config);
  if (!v.ok()) return v.status();
  const int total = max_images > 0 ? std::min(max_images, set.count) : set.count;
  const int classes = evolver.model().net().num_classes;
  std::vector<float> logits(static_cast<size_t>(kMaxBatch) * classes);
  int64_t correct = 0;
  for (int start = 0; start < total; start += kMaxBatch) {
    const int n = std::min(kMaxBatch, total - start);
    absl::Status s = (*v)->Run(set.images.data() + start * set.image_size, n, logits.data(), ws);
    if (!s.ok()) return s;
    correct += CountCorrect(logits.data(), set.labels.data() + start, n, classes);
  }
  return total > 0 ? static_cast<double>(correct) / total : 0.0;
}

}  // namespace adaspring::engine::train
