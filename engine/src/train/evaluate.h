// Accuracy of built variants (the engine's Evolver: BN folded, low-rank, int8) on a dataset.
#ifndef ADASPRING_ENGINE_SRC_TRAIN_EVALUATE_H_
#define ADASPRING_ENGINE_SRC_TRAIN_EVALUATE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/train/dataset.h"
#include "adaspring/engine/variant.h"

namespace adaspring::engine::train {

// A dataset normalised once into NCHW floats, ready for Variant::Run.
struct EvalSet {
  int count = 0;
  int64_t image_size = 0;
  std::vector<float> images;
  std::vector<int32_t> labels;
};
EvalSet MakeEvalSet(const Dataset& d, const Normalization& norm, int max_images);

// Top-1 accuracy of `config` evolved by `evolver` on the first `max_images` (0 = all).
absl::StatusOr<double> VariantAccuracy(Evolver& evolver, Workspace* ws, const Config& config,
                                       const EvalSet& set, int max_images = 0);

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_SRC_TRAIN_EVALUATE_H_
