// The real engine behind EngineFacade: bundles (engine/bundle.h), Evolver + Workspace
// (engine/variant.h), CostModel + Frontier + JointSearch (engine/search.h).
#include <malloc.h>

#include <algorithm>
#include <limits>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "adaspring/engine/bundle.h"
#include "adaspring/engine/search.h"
#include "adaspring/engine/variant.h"
#include "models/engine_facade.h"

namespace adaspring::daemon {
namespace {

class RealScratch final : public Scratch {
 public:
  explicit RealScratch(int threads) : ws_(engine::NewWorkspace(threads)) {}
  engine::Workspace* ws() { return ws_.get(); }
  int threads() const { return ws_->threads(); }

 private:
  std::unique_ptr<engine::Workspace> ws_;
};

class RealVariant final : public ServedVariant {
 public:
  explicit RealVariant(std::shared_ptr<const engine::Variant> v) : v_(std::move(v)) {}
  const engine::Config& config() const override { return v_->config(); }
  const std::string& text() const override { return v_->text(); }
  uint64_t id() const override { return v_->id(); }
  absl::Status Run(const float* input, int batch, float* logits, Scratch* scratch) const override {
    return v_->Run(input, batch, logits, static_cast<RealScratch*>(scratch)->ws());
  }
  bool Ready(int batch, const Scratch& scratch) const override {
    return v_->Ready(batch, static_cast<const RealScratch&>(scratch).threads());
  }
  absl::Status MakeReady(int batch, Scratch* scratch) const override {
    return v_->MakeReady(batch, static_cast<RealScratch*>(scratch)->ws());
  }

 private:
  std::shared_ptr<const engine::Variant> v_;
};

engine::FrontierOptions DaemonFrontierOptions() {
  engine::FrontierOptions o;
  o.max_compute_ms = 3000;  // bounded start-up per model; the result is still non-dominated
  return o;
}

class RealBackend final : public ModelBackend {
 public:
  RealBackend(std::shared_ptr<const engine::Model> model, std::shared_ptr<engine::Evolver> evolver,
              std::unique_ptr<engine::CostModel> cost, engine::Frontier frontier)
      : model_(std::move(model)),
        evolver_(std::move(evolver)),
        cost_(std::move(cost)),
        frontier_(std::make_shared<engine::Frontier>(std::move(frontier))),
        frontier_profiled_(cost_->profiled()) {}

  const std::shared_ptr<const engine::Model>& model() const override { return model_; }

  absl::StatusOr<std::shared_ptr<const ServedVariant>> Evolve(
      const engine::Config& config) override {
    absl::StatusOr<std::shared_ptr<const engine::Variant>> v = evolver_->Evolve(config);
    if (!v.ok()) return v.status();
    // Wrappers are cached per variant so that sessions on the same configuration share one
    // pointer (the scheduler batches by pointer).
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = wrappers_[(*v)->id()];
    std::shared_ptr<const ServedVariant> w = slot.lock();
    if (!w || static_cast<const RealVariant*>(w.get())->id() != (*v)->id()) {
      w = std::make_shared<RealVariant>(*v);
      slot = w;
    }
    return w;
  }

  engine::ConfigCost Predict(const engine::Config& config) const override {
    return cost_->Predict(config);
  }
  engine::SearchResult Best(const engine::AppConstraints& constraints) const override {
    return frontier()->Best(constraints);
  }
  void ObserveLatency(const engine::Config& config, double measured_us) override {
    cost_->ObserveLatency(config, measured_us);
  }
  void RefreshFrontier() override {
    std::shared_ptr<engine::Frontier> next;
    if (cost_->profiled() && !frontier_profiled_) {
      // The profile changes latencies layer by layer, not uniformly: recompute.
      absl::StatusOr<engine::Frontier> f =
          engine::Frontier::Compute(*cost_, DaemonFrontierOptions());
      if (!f.ok()) return;
      next = std::make_shared<engine::Frontier>(std::move(*f));
      frontier_profiled_ = true;
    } else {
      next = std::make_shared<engine::Frontier>(*frontier());
      next->Refresh(*cost_);
    }
    std::lock_guard<std::mutex> lock(mu_);
    frontier_ = std::move(next);
  }
  absl::Status Profile(bool force) override {
    const uint64_t builds = evolver_->stats().builds;
    absl::Status s = cost_->Profile(force);
    if (evolver_->stats().builds != builds) {
      // Profiling built its variants through the shared evolver (whether or not it finished);
      // without this they would stay in its LRU cache (bounded by models.cache_bytes) long after: a
      // first start idled at ~89 MB instead of ~66 MB. Variants that sessions hold stay valid; the
      // kernels stay in oneDNN's primitive cache, so later builds remain fast.
      evolver_->ClearCache();
      malloc_trim(0);
    }
    return s;
  }
  bool profiled() const override { return cost_->profiled(); }
  std::vector<std::pair<std::string, double>> LayerTable() const override {
    return cost_->LayerTable();
  }
  size_t frontier_size() const override { return frontier()->points().size(); }
  std::vector<engine::FrontierPoint> FrontierPoints() const override {
    return frontier()->points();
  }
  int64_t cache_bytes() const override { return evolver_->stats().cache_bytes; }
  int WarmUp() override {
    // Only the frontier: its configurations are the only ones the adaptation loop switches
    // among. Warming every layer of the space (Evolver::WarmUp()) kept smallres28's idle
    // daemon at ~72 MB instead of ~56 MB, for kernels only a session pinned off the frontier
    // could use (it pays their generation once, at its first build).
    std::vector<engine::Config> configs;
    for (const engine::FrontierPoint& p : frontier()->points()) configs.push_back(p.config);
    return evolver_->WarmUp(configs);
  }

  std::shared_ptr<const engine::Frontier> frontier() const {
    std::lock_guard<std::mutex> lock(mu_);
    return frontier_;
  }
  const engine::CostModel* cost() const { return cost_.get(); }

 private:
  std::shared_ptr<const engine::Model> model_;
  std::shared_ptr<engine::Evolver> evolver_;
  std::unique_ptr<engine::CostModel> cost_;
  mutable std::mutex mu_;
  std::shared_ptr<engine::Frontier> frontier_;
  std::map<uint64_t, std::weak_ptr<const ServedVariant>> wrappers_;
  std::atomic<bool> frontier_profiled_;
};

class RealEngine final : public EngineFacade {
 public:
  const char* name() const override { return "onednn"; }

  absl::StatusOr<std::shared_ptr<const engine::Model>> ReadBundle(
      const std::string& path) override {
    return engine::ReadBundle(path);
  }
  absl::Status WriteBundle(const engine::Model& model, const std::string& path) override {
    return engine::WriteBundle(model, path);
  }

  absl::StatusOr<std::unique_ptr<ModelBackend>> Prepare(std::shared_ptr<const engine::Model> model,
                                                        const BackendOptions& options) override {
    engine::EvolverOptions eo;
    eo.cache_bytes = options.cache_bytes;
    eo.threads = options.threads;
    eo.winograd = options.winograd;
    absl::StatusOr<std::unique_ptr<engine::Evolver>> evolver = engine::Evolver::Create(model, eo);
    if (!evolver.ok()) return evolver.status();
    std::shared_ptr<engine::Evolver> shared = std::move(*evolver);
    engine::CostModelOptions co;
    co.threads = std::max(1, options.threads);
    co.state_dir = options.state_dir;
    co.evolver = shared;
    absl::StatusOr<std::unique_ptr<engine::CostModel>> cost = engine::CostModel::Create(model, co);
    if (!cost.ok()) return cost.status();
    absl::StatusOr<engine::Frontier> frontier =
        engine::Frontier::Compute(**cost, DaemonFrontierOptions());
    if (!frontier.ok()) return frontier.status();
    auto backend = std::make_unique<RealBackend>(std::move(model), std::move(shared),
                                                 std::move(*cost), std::move(*frontier));
    if (options.warm_up) {
      // The frontier's kernels and low-rank factors now rather than at an app's first switches;
      // the heap the throw-away variants used goes back to the system.
      backend->WarmUp();
      malloc_trim(0);
    }
    return backend;
  }

  void DropKernelCache() override { engine::DropKernelCache(); }

  std::unique_ptr<Scratch> NewScratch(int threads) override {
    return std::make_unique<RealScratch>(threads);
  }

  engine::JointResult Joint(const std::vector<PlanDemand>& demands,
                            const engine::DeviceBudget& budget,
                            const engine::HysteresisOptions& hysteresis) override {
    std::vector<std::shared_ptr<const engine::Frontier>> hold;  // alive during the search
    std::vector<engine::AppDemand> apps;
    for (const PlanDemand& d : demands) {
      auto* b = static_cast<RealBackend*>(d.backend);
      hold.push_back(b->frontier());
      engine::AppDemand a;
      a.frontier = hold.back().get();
      a.cost = b->cost();
      a.priority = d.priority;
      a.rate_hz = d.rate_hz;
      a.constraints = d.constraints;
      a.current = d.current;
      apps.push_back(std::move(a));
    }
    engine::HysteresisOptions h = hysteresis;
    h.cooldown_s = 0;  // the adaptation loop applies its own cool-down
    return engine::JointSearch(apps, budget, h);
  }
};

}  // namespace

std::unique_ptr<EngineFacade> NewRealEngine() { return std::make_unique<RealEngine>(); }

}  // namespace adaspring::daemon
