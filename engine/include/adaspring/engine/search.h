// Cost model and runtime search (DESIGN §3.5-3.6).
//
// CostModel predicts a configuration's latency (per-device layer table x online correction),
// memory (exact), energy (measured power or an estimate, labelled) and accuracy (the bundle's
// predictor, or a labelled prior). Frontier holds a model's Pareto frontier, computed once when
// the model loads; per-app search and the joint multi-app allocation then work on frontiers in
// microseconds.
//
// Thread safety: CostModel::Predict and Frontier queries are const and thread-safe;
// ObserveLatency, SetMeasuredPower and Profile are thread-safe (internally synchronised;
// Predict keeps working on the previous table while Profile runs). Frontier::Refresh mutates
// the frontier: do not call it concurrently with queries on the same object (refresh a copy
// and swap it in). JointSearch is a pure function.
//
// Costs (2 shared cores, heavily loaded, see adaspring-bench search): Profile() seconds per
// model (it builds and times ~2 x 12 variants; run it off the request path), Frontier::Compute
// 0.5 s for smallres28 (Predict's exact memory is the expensive part), Best() ~0.05-2 us,
// JointSearch for 16 apps ~0.1 ms.
#ifndef ADASPRING_ENGINE_SEARCH_H_
#define ADASPRING_ENGINE_SEARCH_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/config.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine {

class Evolver;  // variant.h

struct ConfigCost {
  double latency_us = 0;         // batch-1, predicted, after online correction
  int64_t memory_bytes = 0;      // weight_bytes + arena_bytes(1)
  double energy_uj = 0;          // per inference
  bool energy_estimated = true;  // false only when derived from a measured power source
  double accuracy = 0;           // fraction, predicted
  int64_t macs = 0;
  // false while the latency comes from the analytic fallback (no profile of this device yet,
  // or a layer variant missing from the table): use it for ranking only.
  bool latency_profiled = false;
};

// Per-device latency table (DESIGN §3.5). A row is one distinct layer variant: a block at one
// (shape, inner width, rank, precision), or the fixed part of a network (stem, pooling, head,
// classifier) at one precision; see LayerVariantKeys(). A configuration's latency is
//   scale x sum(rows of its layers) + per_primitive_us x (number of oneDNN primitives).
// scale and per_primitive_us are fitted against whole-network Run() timings, because running
// each primitive alone (cold caches, no inter-layer overlap) misestimates the network.
struct LatencyTable {
  struct Row {
    double us = 0;       // median time of the layer variant's primitives, run alone
    int primitives = 0;  // oneDNN primitives the layer variant executes
  };
  std::string cpu_model;       // /proc/cpuinfo "model name" (or the closest field)
  std::string engine_version;  // ADASPRING_VERSION of the engine that profiled
  int threads = 1;
  std::map<std::string, Row> rows;
  double scale = 1.0;
  double per_primitive_us = 0;
};

// Keys of the layer variants a configuration executes (block variants of active blocks, then
// the fixed part). Keys depend only on shapes and choices, never on tensor names, so models
// with the same layer shapes share rows.
std::vector<std::string> LayerVariantKeys(const Model& model, const Config& config);
// Every distinct layer variant of the model's space (what Profile() measures).
std::vector<std::string> DistinctLayerVariants(const Model& model);
// Deterministic table for tests and what-if analysis: each row costs
// us_per_mmac x (its multiply-accumulates / 1e6), int8 rows at int8_speedup times less, and
// every row one primitive per conv.
LatencyTable SyntheticLatencyTable(const Model& model, int threads, double us_per_mmac,
                                   double int8_speedup = 2.0, double per_primitive_us = 1.0);
// Cache file I/O: a small text file ("adaspring-latency-table v1" header, one row per line).
// SaveLatencyTable writes a temporary file in the same directory, fsyncs and renames it, so a
// reader never sees a torn table. Load: NOT_FOUND when absent, INVALID_ARGUMENT (naming the
// line) when damaged.
absl::Status SaveLatencyTable(const LatencyTable& table, const std::string& path);
absl::StatusOr<LatencyTable> LoadLatencyTable(const std::string& path);
// This CPU's model name from a cpuinfo file ("model name", else "Hardware"/"Model"/"CPU part";
// "unknown" when none can be read).
std::string CpuModelName(const std::string& cpuinfo_path = "/proc/cpuinfo");
// Cache file name of a table for (cpu model, engine version, threads) inside state_dir.
std::string LatencyTablePath(const std::string& state_dir, const std::string& cpu_model,
                             int threads);

// Per-core power used for estimated energy when no meter exists, watts, by instruction set
// (see search/energy.cc for the figures and their sources).
double EstimatedCoreWatts();

struct CostModelOptions {
  int threads = 1;        // threads a run uses (the profile is keyed by it)
  std::string state_dir;  // where profiles are cached ("" = no caching)
  // Measured package power while inferring, watts; 0 = no power meter (energy estimated from
  // CPU time x kEstimatedCoreWatts).
  double measured_power_w = 0;
  // Weight of a new observation in the observed/predicted EWMA.
  double correction_alpha = 0.1;
  // Repetitions per timing while profiling (median taken).
  int profile_reps = 5;
  std::string cpuinfo_path = "/proc/cpuinfo";
  // Evolver to build the profiled variants with (shares its layer cache and int8
  // calibration); null = Profile() creates its own, which costs the model's calibration again.
  std::shared_ptr<Evolver> evolver;
};

// Predicted accuracy of a configuration (fraction). Must be thread-safe.
using AccuracyFn = std::function<double(const Config&)>;

class CostModel {
 public:
  // Uses the bundle's accuracy predictor (or a labelled prior when the model has none) and
  // loads the cached latency table of this device if one exists (Profile() otherwise).
  // INVALID_ARGUMENT for a null model or threads < 1.
  static absl::StatusOr<std::unique_ptr<CostModel>> Create(std::shared_ptr<const Model> model,
                                                           CostModelOptions options);
  // Deterministic cost model from a given table (no timing, no cache): for tests and
  // what-if analysis. `accuracy` null = as Create(). profiled() is true when the table has
  // every distinct layer variant of the model. Profile() then only re-checks the table.
  static absl::StatusOr<std::unique_ptr<CostModel>> CreateWithTable(
      std::shared_ptr<const Model> model, CostModelOptions options, LatencyTable table,
      AccuracyFn accuracy = nullptr);
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

  // Additions (search engineer):
  // Latency before the online correction (what the table predicts). Sub-microsecond.
  virtual double PredictRawLatencyUs(const Config& config) const = 0;
  // Predicted accuracy alone (Predict also computes the exact memory, which costs tens of
  // microseconds; searches use this and compute memory only where it matters).
  virtual double PredictAccuracy(const Config& config) const = 0;
  // Power used for energy (measured when set, else threads x EstimatedCoreWatts()), and
  // whether energy is estimated. energy_uj = latency_us x power_w.
  virtual double power_w() const = 0;
  virtual bool energy_estimated() const = 0;
  // Whether accuracy comes from a fitted predictor (false: a prior; label it as such).
  virtual bool accuracy_fitted() const = 0;
  // A copy of the current table (empty rows before profiling).
  virtual LatencyTable table() const = 0;
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
  bool prefer_energy = false;  // energy saver: cheapest config meeting min_accuracy
};

struct SearchResult {
  Config config;
  ConfigCost cost;
  bool feasible = false;
  // When infeasible: the closest configuration and the constraint that binds, e.g.
  // "latency_budget_us", "memory_cap_bytes", "min_accuracy".
  std::string binding;
};

struct FrontierOptions {
  // Spaces with at most this many canonical configurations are enumerated (exact frontier).
  double exhaustive_max_configs = 200000;
  // Otherwise: Pareto local search (archive of non-dominated points, every archive member's
  // one-step neighbours evaluated, seeded with uniform, extreme and random configurations),
  // stopping when no member is left unexplored or after this many evaluations.
  int max_evaluations = 150000;
  int random_seeds = 2000;
  uint64_t seed = 1;
  // A point is dropped when another has all costs <= and accuracy >= its accuracy -
  // accuracy_epsilon, which bounds the frontier's size and costs at most this much accuracy
  // on any query (0 = exact dominance). 0.002 = 0.2 points, < 0.3% of a 70% accuracy.
  double accuracy_epsilon = 0.002;
  // Wall-clock bound of the local search (the frontier found so far is returned; every point
  // in it is still non-dominated among the points evaluated).
  double max_compute_ms = 10000;
  bool force_local_search = false;  // for measuring the local search against exhaustive
};

struct FrontierStats {
  bool exhaustive = false;
  bool converged = false;         // local search: every archive member's neighbours were evaluated
  int64_t evaluations = 0;        // configurations costed
  int64_t exact_evaluations = 0;  // of which needed the exact memory (PredictStats)
  double compute_ms = 0;
};

class Frontier {
 public:
  // Pareto frontier of (accuracy up; latency, memory, energy down) over the model's space.
  // Points are sorted by accuracy, highest first.
  static absl::StatusOr<Frontier> Compute(const CostModel& cost);
  static absl::StatusOr<Frontier> Compute(const CostModel& cost, const FrontierOptions& options);
  // From given points (tests, exhaustive references): keeps the non-dominated ones.
  static Frontier FromPoints(std::vector<FrontierPoint> points, double accuracy_epsilon = 0);
  const FrontierStats& stats() const { return stats_; }
  const std::vector<FrontierPoint>& points() const { return points_; }
  // Best: the most accurate point meeting every constraint; with prefer_energy, the
  // least-energy point meeting them. Infeasible: the point with the smallest total relative
  // violation, `binding` naming the constraint it violates most. Thread-safe, no allocation
  // beyond the result.
  SearchResult Best(const AppConstraints& constraints) const;
  // Re-applies the cost model's current correction and power to the stored latencies and
  // energies (cheap: no re-prediction; membership is unchanged because the correction scales
  // every latency alike).
  void Refresh(const CostModel& cost);

 private:
  std::vector<FrontierPoint> points_;
  std::vector<double> raw_latency_us_;  // parallel to points_, before correction
  FrontierStats stats_;
};

// Whether a dominates b: accuracy >= and every cost <=, one of them strictly.
bool Dominates(const ConfigCost& a, const ConfigCost& b);
// Whether a point meets an app's constraints.
bool MeetsConstraints(const ConfigCost& cost, const AppConstraints& constraints);

// Joint allocation across apps sharing one device.
struct AppDemand {
  std::string app;
  const Frontier* frontier = nullptr;
  const CostModel* cost = nullptr;
  double priority = 10;  // weight of accuracy in the objective
  double rate_hz = 1;    // requests per second (CPU time = rate x latency)
  AppConstraints constraints;
  std::optional<Config> current;  // for hysteresis
  // Seconds since this app last switched configuration (cool-down); infinity = never.
  double seconds_since_switch = std::numeric_limits<double>::infinity();
};

struct DeviceBudget {
  int64_t memory_bytes = 0;   // for all models' variants together
  double cpu_capacity = 1.0;  // core-seconds per second available to inference
  double power_w = 0;         // 0 = unconstrained
};

struct HysteresisOptions {
  double min_accuracy_gain = 0.002;  // do not switch up for less
  double min_cost_saving = 0.10;     // fraction; do not switch down unless a constraint binds
  // Within this many seconds of its last switch an app keeps its configuration unless it
  // violates a constraint.
  double cooldown_s = 5.0;
};

struct JointResult {
  std::vector<SearchResult> per_app;  // parallel to the demands
  double objective = 0;               // sum priority x accuracy
  bool feasible = false;
  std::string binding;  // the device-level resource that binds, if any
};

// Maximises sum(priority x accuracy) subject to every app's own constraints and the device
// budget: memory (sum of apps' memory_bytes), CPU (sum rate_hz x latency <= cpu_capacity) and
// power (sum rate_hz x energy <= power_w). Greedy: every app starts at its cheapest feasible
// frontier point, then the upgrade with the best accuracy gain per unit of the scarcest
// resource is applied until none fits, then a fill pass; this runs with several resource
// weightings and keeps the best (measured within ~0.6% of exhaustive enumeration on small
// cases; 16 apps ~0.1-0.3 ms). Hysteresis: an app with a
// `current` configuration that still fits keeps it unless the new one gains at least
// min_accuracy_gain (up) or saves min_cost_saving of latency and memory at no accuracy loss,
// and never switches within its cool-down; kept configurations still count against the budget.
// Infeasible (even every app's cheapest point exceeds the budget, or an app cannot meet its
// own constraints): feasible = false, per_app holds the cheapest points, binding names the
// resource ("memory_bytes", "cpu_capacity", "power_w") or "app:<name>:<constraint>".
// Demands with a null frontier or cost are infeasible with binding "no_frontier".
JointResult JointSearch(const std::vector<AppDemand>& demands, const DeviceBudget& budget,
                        const HysteresisOptions& hysteresis = {});

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_SEARCH_H_
