// Evolution and execution: a Config of a Model becomes a Variant (BN folded, sliced,
// factorised, quantised weights reordered into oneDNN's chosen layouts, primitives created),
// which then only executes.
//
// Thread safety: a Variant is immutable after Evolve() returns and may be run concurrently
// from many threads, each with its own Workspace. The Evolver is thread-safe; Evolve() may
// block for the build time of one variant (milliseconds) but never blocks Run() of already
// built variants.
#ifndef ADASPRING_ENGINE_VARIANT_H_
#define ADASPRING_ENGINE_VARIANT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/config.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine {

struct VariantStats {
  int64_t macs = 0;          // multiply-accumulates per image
  int64_t params = 0;        // weights + biases actually used
  int64_t weight_bytes = 0;  // packed weights, scales and biases held by the variant
  int64_t arena_bytes = 0;   // activation arena for batch 1
};

class Workspace;  // per-thread scratch: activation arena, oneDNN stream (variant.cc)

// Creates a workspace whose runs use `threads` OpenMP threads (0 = all cores).
std::unique_ptr<Workspace> NewWorkspace(int threads);

class Variant {
 public:
  virtual ~Variant() = default;
  virtual const Config& config() const = 0;
  virtual const std::string& text() const = 0;  // canonical config text
  virtual uint64_t id() const = 0;
  virtual const VariantStats& stats() const = 0;
  // Arena bytes for a batch of `batch` images.
  virtual int64_t ArenaBytes(int batch) const = 0;

  // Runs `batch` images (NCHW float32, already normalised) and writes logits
  // [batch, num_classes]. INVALID_ARGUMENT for batch < 1 or > max batch (256). The first run
  // at a new batch size creates that size's primitives (once, under a lock).
  virtual absl::Status Run(const float* input, int batch, float* logits,
                           Workspace* ws) const = 0;

  // Per-layer view, for profiling and the overhead benchmark: names of the oneDNN primitives
  // in execution order, and the median time of each when run alone (ms, `reps` repetitions).
  virtual std::vector<std::string> LayerNames() const = 0;
  virtual absl::StatusOr<std::vector<double>> TimeLayersAlone(int batch, int reps,
                                                              Workspace* ws) const = 0;
};

struct EvolverOptions {
  int64_t cache_bytes = 256ll << 20;  // LRU bound on built variants (weight bytes)
};

struct EvolverStats {
  uint64_t builds = 0, cache_hits = 0, reused_layers = 0, built_layers = 0;
  int64_t cache_bytes = 0;
  int cached_variants = 0;
};

// Builds variants of one model. Layers whose slice of the configuration matches a previously
// built one (same conv, width, rank, precision) are shared, not rebuilt.
class Evolver {
 public:
  static absl::StatusOr<std::unique_ptr<Evolver>> Create(std::shared_ptr<const Model> model,
                                                         EvolverOptions options = {});
  virtual ~Evolver() = default;
  virtual absl::StatusOr<std::shared_ptr<const Variant>> Evolve(const Config& config) = 0;
  virtual EvolverStats stats() const = 0;
  virtual const Model& model() const = 0;
  virtual void ClearCache() = 0;
};

// Memory of a configuration without building it (must equal the built variant's
// weight_bytes + arena_bytes(batch 1)).
VariantStats PredictStats(const Model& model, const Config& config);

// Plain reference forward pass (no oneDNN, no folding; straightforward loops), for tests.
// Int8 configurations are evaluated in f32 by the reference. Writes [batch, classes] logits.
absl::Status ReferenceForward(const Model& model, const Config& config, const float* input,
                              int batch, float* logits);

// int8 calibration: runs the f32 reference/variant on `images` under `configs` and returns
// max |activation| per quantisation point (the keys of Model::activation_amax).
absl::StatusOr<std::map<std::string, float>> CalibrateActivations(
    const Model& model, const std::vector<Config>& configs, const float* images, int count);

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_VARIANT_H_
