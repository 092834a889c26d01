// The daemon's view of the engine: bundle reading, per-model evolution/cost/search, worker
// scratch and the joint multi-app search, behind one small interface.
//
// Why an interface: the real engine (engine/include/adaspring/engine/*.h) is one
// implementation (real_engine.cc); SimEngine (sim_engine.h) is a deterministic in-memory
// double with the same contracts, used by tests that need exact, fast costs and by builds in
// which the engine's evolution is not available. Nothing above this layer knows which one runs.
//
// Thread safety: every method of EngineFacade and ModelBackend is thread-safe. Variants are
// immutable and may run concurrently, each caller with its own Scratch.
#ifndef ADASPRING_DAEMON_MODELS_ENGINE_FACADE_H_
#define ADASPRING_DAEMON_MODELS_ENGINE_FACADE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/config.h"
#include "adaspring/engine/model.h"
#include "adaspring/engine/search.h"

namespace adaspring::daemon {

// Per-worker execution scratch (wraps an engine Workspace sized for `threads`). Not
// thread-safe: one per worker thread.
class Scratch {
 public:
  virtual ~Scratch() = default;
};

// A built configuration of a model, ready to run (wraps an engine Variant). Immutable and
// thread-safe; each concurrent Run needs its own Scratch.
class ServedVariant {
 public:
  virtual ~ServedVariant() = default;
  virtual const engine::Config& config() const = 0;
  virtual const std::string& text() const = 0;
  virtual uint64_t id() const = 0;
  // `input`: batch x C x H x W floats, normalised. Writes batch x classes logits.
  virtual absl::Status Run(const float* input, int batch, float* logits,
                           Scratch* scratch) const = 0;
  // Whether a Run of `batch` images on `scratch` finds everything made already; a first run
  // at a new batch size creates that size's primitives (milliseconds). MakeReady does that
  // without running. Backends without such a cost keep the defaults.
  virtual bool Ready(int /*batch*/, const Scratch& /*scratch*/) const { return true; }
  virtual absl::Status MakeReady(int /*batch*/, Scratch* /*scratch*/) const {
    return absl::OkStatus();
  }
};

struct BackendOptions {
  int threads = 1;        // threads one run uses (keys the latency profile)
  std::string state_dir;  // profile cache ("" = none)
  int64_t cache_bytes = 256ll << 20;
  bool warm_up = true;   // ModelBackend::WarmUp at load
  bool winograd = true;  // EvolverOptions::winograd
};

// One loaded model: its evolver, cost model and Pareto frontier.
class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  virtual const std::shared_ptr<const engine::Model>& model() const = 0;
  // Builds (or returns the cached) variant. Milliseconds; never call on the request path.
  virtual absl::StatusOr<std::shared_ptr<const ServedVariant>> Evolve(
      const engine::Config& config) = 0;
  virtual engine::ConfigCost Predict(const engine::Config& config) const = 0;
  virtual engine::SearchResult Best(const engine::AppConstraints& constraints) const = 0;
  virtual void ObserveLatency(const engine::Config& config, double measured_us) = 0;
  // Re-applies the latest latency correction to the frontier (policy thread only).
  virtual void RefreshFrontier() = 0;
  virtual absl::Status Profile(bool force) = 0;
  virtual bool profiled() const = 0;
  virtual std::vector<std::pair<std::string, double>> LayerTable() const = 0;
  virtual size_t frontier_size() const = 0;
  // Frontier points with costs under the current latency correction.
  virtual std::vector<engine::FrontierPoint> FrontierPoints() const = 0;
  virtual int64_t cache_bytes() const = 0;
  // Builds the current frontier's configurations once and drops them, so that their kernels
  // exist before a switch needs them (see BackendOptions::warm_up). Returns the number built.
  virtual int WarmUp() = 0;
};

// One app's demand in the joint search (parallel to engine::AppDemand).
struct PlanDemand {
  ModelBackend* backend = nullptr;
  double priority = 10;
  double rate_hz = 1;
  engine::AppConstraints constraints;
  std::optional<engine::Config> current;
};

class EngineFacade {
 public:
  virtual ~EngineFacade() = default;
  virtual const char* name() const = 0;  // "onednn" | "sim"
  // A damaged file gives INVALID_ARGUMENT naming the file and the problem.
  virtual absl::StatusOr<std::shared_ptr<const engine::Model>> ReadBundle(
      const std::string& path) = 0;
  virtual absl::Status WriteBundle(const engine::Model& model, const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<ModelBackend>> Prepare(
      std::shared_ptr<const engine::Model> model, const BackendOptions& options) = 0;
  virtual std::unique_ptr<Scratch> NewScratch(int threads) = 0;
  // Frees the kernels of layers no live variant uses (after a profile of every layer); the
  // caller warms the loaded models again. Backends without a kernel cache do nothing.
  virtual void DropKernelCache() {}
  // Backends in `demands` must come from this facade.
  virtual engine::JointResult Joint(const std::vector<PlanDemand>& demands,
                                    const engine::DeviceBudget& budget,
                                    const engine::HysteresisOptions& hysteresis) = 0;
};

// The engine the daemon uses by default (the real one when it is built in).
std::unique_ptr<EngineFacade> NewDefaultEngine();
// `compute_slowdown` > 0 makes sim variants take that many times their predicted latency
// (sleeping), to simulate contention the cost model does not know about.
std::unique_ptr<EngineFacade> NewSimEngine(double compute_slowdown = 0);
std::unique_ptr<EngineFacade> NewRealEngine();

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_MODELS_ENGINE_FACADE_H_
