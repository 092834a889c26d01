// Profiling of layer variants on this device (DESIGN §3.5, "Latency").
//
// A handful of full-depth configurations covers every layer variant: configuration k gives
// every block its (k mod choices)-th (width, rank) choice, at each precision. Each is built
// with the Evolver; Variant::TimeLayersAlone gives every primitive's time, attributed to its
// block by the "s<stage>.b<block>." prefix of the primitive's name (the rest is the fixed
// part), and a timed Run() of the whole network fits the table's scale and per-primitive
// overhead (least squares), since primitives run alone misestimate the network.
//
// Thread safety: a pure function of its inputs; runs inference (seconds of CPU).
#ifndef ADASPRING_ENGINE_SRC_SEARCH_PROFILER_H_
#define ADASPRING_ENGINE_SRC_SEARCH_PROFILER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/model.h"
#include "adaspring/engine/search.h"
#include "search/layer_index.h"

namespace adaspring::engine::search {

struct ProfileOutput {
  std::map<std::string, LatencyTable::Row> rows;  // measured variants
  bool fitted = false;  // scale / per_primitive_us were fitted (enough configurations)
  double scale = 1.0, per_primitive_us = 0;
  int configs = 0;
  std::vector<std::string> skipped;  // why some configurations could not be built
};

// Measures the variants flagged in `wanted` (indexed like LayerIndex variants). Variants of
// configurations that cannot be built (e.g. int8 on an uncalibrated model) stay unmeasured
// and are listed in `skipped`. FAILED_PRECONDITION when nothing could be measured.
// `evolver` may be null (one is created for the model).
absl::StatusOr<ProfileOutput> ProfileVariants(std::shared_ptr<const Model> model,
                                              const LayerIndex& index, int threads, int reps,
                                              const std::vector<bool>& wanted,
                                              Evolver* evolver = nullptr);

// Least-squares fit run_us ~ scale x alone_us + per_primitive_us x primitives (falls back to
// a pure scale when the overhead comes out negative or the system is degenerate).
void FitScaleAndOverhead(const std::vector<double>& alone_us, const std::vector<int>& primitives,
                         const std::vector<double>& run_us, double* scale,
                         double* per_primitive_us);

}  // namespace adaspring::engine::search

#endif  // ADASPRING_ENGINE_SRC_SEARCH_PROFILER_H_
