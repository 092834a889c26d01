// RoundWeightsToF16: float16 storage of a model's weights (bundle.h).
#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "adaspring/engine/bundle.h"
#include "bundle/half.h"

namespace adaspring::engine {

absl::StatusOr<std::shared_ptr<Model>> RoundWeightsToF16(const Model& model) {
  using bundle_internal::FloatToHalf;
  using bundle_internal::HalfToFloat;
  TensorStore store;
  for (const auto& [name, e] : model.tensors().entries()) {
    const bool weight = absl::EndsWith(name, ".weight");
    std::vector<float> values(e.data, e.data + e.numel);
    if (weight) {
      for (int64_t i = 0; i < e.numel; ++i) {
        const float r = HalfToFloat(FloatToHalf(values[i]));
        if (std::isinf(r) && !std::isinf(values[i]))
          return absl::OutOfRangeError(absl::StrCat(
              "tensor '", name, "' element ", i, " = ", values[i],
              " is beyond float16's range (|x| <= 65504); keep this model in float32"));
        values[i] = r;
      }
    }
    store.Add(name, e.shape, std::move(values), weight ? TensorStorage::kF16 : TensorStorage::kF32);
  }
  auto out = std::make_shared<Model>(model.arch(), model.meta(), std::move(store));
  out->activation_amax = model.activation_amax;
  out->predictor = model.predictor;
  out->measured = model.measured;
  out->source_path = model.source_path;
  return out;
}

}  // namespace adaspring::engine
