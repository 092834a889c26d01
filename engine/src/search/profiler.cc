#include "search/profiler.h"

#include "absl/status/status.h"

namespace adaspring::engine::search {

void FitScaleAndOverhead(const std::vector<double>& alone_us, const std::vector<int>& primitives,
                         const std::vector<double>& run_us, double* scale,
                         double* per_primitive_us) {
  double suma = 0, sumr = 0;
  for (size_t i = 0; i < run_us.size(); ++i) {
    suma += alone_us[i];
    sumr += run_us[i];
  }
  (void)primitives;
  *scale = suma > 0 ? sumr / suma : 1.0;
  *per_primitive_us = 0;
}

// Temporary until the Evolver lands (variant.cc): profiling is unavailable.
absl::StatusOr<ProfileOutput> ProfileVariants(std::shared_ptr<const Model>, const LayerIndex&,
                                              int, int, const std::vector<bool>&) {
  return absl::UnimplementedError("profiling needs the Evolver (not built yet)");
}

}  // namespace adaspring::engine::search
