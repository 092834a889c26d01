// Cost model and runtime search (DESIGN §3.5-3.6).
//
// CostModel predicts a configuration's latency (per-device layer table x online correction),
// memory (exact), energy (measured power or an estimate, labelled) and accuracy (the bundle's
// predictor, or a labelled prior). Frontier holds a model's Pareto frontier, computed once when
// the model loads; per-app search and the joint multi-app allocation then work on frontiers in
// microseconds.
//
// Thread safety: CostModel::Predict and Frontier queries are const and thread-safe;
// ObserveLatency and Profile are thread-safe (internally synchronised). JointSearch is a pure
// function.
#ifndef ADASPRING_ENGINE_SEARCH_H_
#define ADASPRING_ENGINE_SEARCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/config.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine {

struct ConfigCost {
  double latency_us = 0;        // batch-1, predicted, after online correction
  int64_t memory_bytes = 0;     // weight_bytes + arena_bytes(1)
  double energy_uj = 0;         // per inference
  bool energy_estimated = true; // false only when derived from a measured power source
  double accuracy = 0;          // fraction, predicted
  int64_t macs = 0;
};

struct CostModelOptions {
  int threads = 1;               // threads a run uses (the profile is keyed by it)
  std::string state_dir;         // where profiles are cached ("" = no caching)
  // Measured package power while inferring, watts; 0 = no power meter (energy estimated from
  // CPU time x kEstimatedCoreWatts).
  double measured_power_w = 0;
};

class CostModel {
 public:
  static absl::StatusOr<std::unique_ptr<CostModel>> Create(std::shared_ptr<const Model> model,
                                                           CostModelOptions options);
  virtual ~CostModel() = default;

  virtual ConfigCost Predict(const Config& config) const = 0;
  // Profiles every distinct layer variant on this device (or loads the cached table keyed by
  // CPU model, engine version and threads). Seconds, not minutes.
  virtual absl::Status Profile(bool force) = 0;
  virtual bool profiled() const = 0;
  // Online correction: observed/predicted latency ratio (EWMA), capturing contention and
  // throttling. Applies to all configurations of the model.
  virtual void ObserveLatency(const Config& config, double measured_us) = 0;
  virtual double correction() const = 0;
  virtual void SetMeasuredPower(double watts) = 0;
  // One row per profiled layer variant: name and latency.
  virtual std::vector<std::pair<std::string, double>> LayerTable() const = 0;
  virtual const Model& model() const = 0;
};

struct FrontierPoint {
  Config config;
  ConfigCost cost;
};

// Constraints of one app on one model.
struct AppConstraints {
  double latency_budget_us = 0;  // 0 = none
  int64_t memory_cap_bytes = 0;  // 0 = none
  double energy_budget_uj = 0;   // per inference; 0 = none
  double min_accuracy = 0;
  bool prefer_energy = false;    // energy saver: cheapest config meeting min_accuracy
};

struct SearchResult {
  Config config;
  ConfigCost cost;
  bool feasible = false;
  // When infeasible: the closest configuration and the constraint that binds, e.g.
  // "latency_budget_us", "memory_cap_bytes", "min_accuracy".
  std::string binding;
};

class Frontier {
 public:
  // Pareto frontier of (accuracy up; latency, memory, energy down) over the model's space.
  static absl::StatusOr<Frontier> Compute(const CostModel& cost);
  const std::vector<FrontierPoint>& points() const { return points_; }
  SearchResult Best(const AppConstraints& constraints) const;
  // Re-applies the cost model's current correction to the stored latencies (cheap).
  void Refresh(const CostModel& cost);

 private:
  std::vector<FrontierPoint> points_;
};

// Joint allocation across apps sharing one device.
struct AppDemand {
  std::string app;
  const Frontier* frontier = nullptr;
  const CostModel* cost = nullptr;
  double priority = 10;        // weight of accuracy in the objective
  double rate_hz = 1;          // requests per second (CPU time = rate x latency)
  AppConstraints constraints;
  std::optional<Config> current;  // for hysteresis
};

struct DeviceBudget {
  int64_t memory_bytes = 0;   // for all models' variants together
  double cpu_capacity = 1.0;  // core-seconds per second available to inference
  double power_w = 0;         // 0 = unconstrained
};

struct HysteresisOptions {
  double min_accuracy_gain = 0.002;  // do not switch up for less
  double min_cost_saving = 0.10;     // fraction; do not switch down unless a constraint binds
};

struct JointResult {
  std::vector<SearchResult> per_app;  // parallel to the demands
  double objective = 0;               // sum priority x accuracy
  bool feasible = false;
  std::string binding;  // the device-level resource that binds, if any
};

JointResult JointSearch(const std::vector<AppDemand>& demands, const DeviceBudget& budget,
                        const HysteresisOptions& hysteresis = {});

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_SEARCH_H_
