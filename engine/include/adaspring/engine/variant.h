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

// Batch-norm epsilon used when folding and by the reference (the trainer must use the same).
inline constexpr float kBnEpsilon = 1e-5f;
// Largest batch a Variant runs.
inline constexpr int kMaxBatch = 256;

struct VariantStats {
  int64_t macs = 0;          // multiply-accumulates per image
  int64_t params = 0;        // weights + biases actually used
  int64_t weight_bytes = 0;  // packed weights, scales and biases held by the variant
  int64_t arena_bytes = 0;   // activation arena for batch 1
  // weight_bytes counts the dense elements (f32: 4 B; int8: 1 B + 4 B bias + 4 B scale per
  // output channel), so it can be predicted exactly; oneDNN's packed layouts may pad channels
  // to the ISA's block (Variant::PackedWeightBytes() reports the real allocation). The arena
  // holds activations only: oneDNN's scratchpad lives in the Workspace (sized by the largest
  // primitive's need, shared by the layers as they run one at a time) and is not included.

  bool operator==(const VariantStats&) const = default;
};

// Per-thread scratch for running variants: the activation arena (grow-only, 64-byte aligned),
// a oneDNN stream and the bound memory objects of the last few (variant, batch) pairs, so a
// steady state of runs allocates nothing. Not thread-safe: one workspace per running thread.
// Runs set the calling thread's OpenMP thread count (omp_set_num_threads) to threads().
class Workspace {
 public:
  virtual ~Workspace() = default;
  virtual int threads() const = 0;
  virtual int64_t arena_bytes() const = 0;  // activations + scratchpad allocated now
};

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
  virtual absl::Status Run(const float* input, int batch, float* logits, Workspace* ws) const = 0;

  // Whether a Run of `batch` images on a workspace with `threads` OpenMP threads finds that
  // size's primitives made already (batch 1 is made at Evolve() for the evolver's threads).
  // A latency-critical caller can run a batch it would otherwise have to wait for (a few ms
  // of primitive creation) as smaller runs, and MakeReady() when it is idle.
  virtual bool Ready(int batch, int threads) const = 0;
  // Creates what the first Run of `batch` images on `ws` would create, without running.
  virtual absl::Status MakeReady(int batch, Workspace* ws) const = 0;

  // Per-layer view, for profiling and the overhead benchmark: "name [oneDNN implementation]" of the
  // primitives in execution order, and the median time of each when run alone (ms, `reps`
  // repetitions).
  virtual std::vector<std::string> LayerNames() const = 0;
  virtual absl::StatusOr<std::vector<double>> TimeLayersAlone(int batch, int reps,
                                                              Workspace* ws) const = 0;
  // Bytes actually allocated for packed weights, biases and scales (layers shared with other
  // variants are counted in full).
  virtual int64_t PackedWeightBytes() const = 0;
  // Number of oneDNN layers (primitives) run per batch.
  virtual int num_layers() const = 0;
};

struct EvolverOptions {
  // LRU bound on built variants: packed weight bytes of the distinct layers they hold (a layer
  // shared by several cached variants counts once).
  int64_t cache_bytes = 256ll << 20;
  // OpenMP threads the batch-1 primitives are created for at Evolve() (0 = all cores). oneDNN
  // fixes a primitive's thread count at creation, so a Workspace with another thread count
  // creates its own primitives on its first run (once, under a lock).
  int threads = 0;
  // Large f32 3 x 3 stride-1 convolutions (>= 20 M multiply-adds: the 224-pixel networks)
  // use oneDNN's Winograd kernel: ResNet-18 runs ~1.5x faster, but building such a layer
  // takes longer (oneDNN's Winograd weight transform: 5-45 ms for a 512-channel layer, so a
  // cold ResNet-18 evolution p50 ~21 ms instead of ~5 ms) and its packed weights are 1.8-4x
  // larger. false = the direct kernel everywhere.
  bool winograd = true;
};

struct EvolverStats {
  uint64_t builds = 0, cache_hits = 0, reused_layers = 0, built_layers = 0;
  int64_t cache_bytes = 0;
  int cached_variants = 0;
  uint64_t svd_computed = 0;     // (conv, width) SVDs computed so far (each once)
  bool self_calibrated = false;  // int8 scales came from the synthetic-input calibration
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
  // Drops the cached variants and the shared-layer index (variants still held by callers stay
  // valid). The per-(conv, width) SVD cache is kept: it is a pure function of the model.
  virtual void ClearCache() = 0;
  // Builds a few full-depth configurations that together hold every block's (width, rank)
  // choice at each precision, then drops them (ClearCache): afterwards oneDNN's primitive
  // cache holds the kernels of every layer any configuration can use, so a first evolution
  // does not wait for JIT code generation. Meant for model load, before serving. Returns the
  // number of configurations built (a precision the model cannot build, e.g. int8 without
  // calibration, is skipped).
  virtual int WarmUp() = 0;
  // The same for the given configurations only (e.g. a search frontier, the configurations an
  // adaptation loop chooses among): each is built and run once, then all are dropped. Returns
  // the number built; a configuration that fails to build is skipped.
  virtual int WarmUp(const std::vector<Config>& configs) = 0;
  // Computes every SVD any configuration can need (otherwise done lazily on first use), so
  // that later evolutions only slice. Returns the number computed.
  virtual int PrecomputeFactorisations() = 0;
  // Activation scales in use (max |x| per quantisation point).
  virtual const std::map<std::string, float>& activation_amax() const = 0;
};

// Drops oneDNN's process-wide cache of created kernels (primitives that live variants hold stay
// valid and keep running). A profile of every layer of a space fills that cache with kernels
// no variant uses any more; this returns their memory, and Evolver::WarmUp(configs) then
// makes the wanted ones again. Thread-safe; later builds of dropped kernels generate them anew.
void DropKernelCache();

// Memory of a configuration without building it (must equal the built variant's
// weight_bytes + arena_bytes(batch 1)).
VariantStats PredictStats(const Model& model, const Config& config);

// Plain reference forward pass (no oneDNN, no folding; straightforward loops), for tests.
// Int8 configurations are evaluated in f32 by the reference. Writes [batch, classes] logits.
absl::Status ReferenceForward(const Model& model, const Config& config, const float* input,
                              int batch, float* logits);

// The reference of the factorised network: like ReferenceForward, but every conv with a rank
// divisor > 1 uses W_r = U_r S_r V_r^T, the rank-r SVD truncation of its sliced, BN-folded
// weights (plus the folded bias). A k x k conv with W_r equals the variant's k x k conv to r
// channels followed by the 1 x 1 conv, so variants with low rank are compared against this.
absl::Status ReferenceForwardLowRank(const Model& model, const Config& config, const float* input,
                                     int batch, float* logits);

// int8 calibration: runs the f32 reference/variant on `images` under `configs` and returns
// max |activation| per quantisation point (the keys of Model::activation_amax).
absl::StatusOr<std::map<std::string, float>> CalibrateActivations(
    const Model& model, const std::vector<Config>& configs, const float* images, int count);

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_VARIANT_H_
