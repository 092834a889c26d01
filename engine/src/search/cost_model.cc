// CostModel: latency from the per-device layer table x online correction, exact memory,
// energy from measured or estimated power, accuracy from the bundle's predictor.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "adaspring/engine/build_id.h"
#include "adaspring/engine/predictor.h"
#include "adaspring/engine/search.h"
#include "adaspring/engine/variant.h"
#include "search/layer_index.h"
#include "search/profiler.h"

namespace adaspring::engine {
namespace {

// Before a device is profiled (or for a variant missing from the table) latency is estimated
// from MACs at an assumed 1 GMAC/s per thread (f32; int8 twice that) and 2 us per primitive:
// a ranking aid only, reported with latency_profiled = false.
constexpr double kFallbackUsPerMac = 1e-3;
constexpr double kFallbackPrimitiveUs = 2.0;

// Dense view of a table over the model's layer variants (immutable once built; swapped
// whole when the table changes so that Predict never locks for long).
struct DenseTable {
  std::vector<double> us;  // NaN = unknown
  std::vector<int> primitives;
  double scale = 1.0, per_primitive_us = 0;
  double us_per_mac[2] = {0, 0};  // fallback per precision
  bool complete = false;
};

class CostModelImpl final : public CostModel {
 public:
  CostModelImpl(std::shared_ptr<const Model> model, CostModelOptions options, AccuracyFn accuracy,
                bool accuracy_fitted, bool fixed_table)
      : model_(std::move(model)),
        options_(std::move(options)),
        index_(model_->space()),
        accuracy_(std::move(accuracy)),
        accuracy_fitted_(accuracy_fitted),
        fixed_table_(fixed_table),
        cpu_model_(fixed_table ? "" : CpuModelName(options_.cpuinfo_path)) {
    measured_power_w_.store(options_.measured_power_w);
    LatencyTable empty;
    empty.threads = options_.threads;
    empty.cpu_model = cpu_model_;
    empty.engine_version = EngineBuildId();
    SetTable(std::move(empty));
  }

  void SetTable(LatencyTable table) ABSL_LOCKS_EXCLUDED(mu_) {
    auto dense = std::make_shared<DenseTable>();
    const int n = index_.num_variants();
    dense->us.assign(n, std::numeric_limits<double>::quiet_NaN());
    dense->primitives.assign(n, 0);
    dense->scale = table.scale;
    dense->per_primitive_us = table.per_primitive_us;
    double known_us[2] = {0, 0}, known_macs[2] = {0, 0};
    int known = 0;
    for (int v = 0; v < n; ++v) {
      auto it = table.rows.find(index_.key(v));
      const int p = index_.key(v).ends_with("int8") ? 1 : 0;
      if (it == table.rows.end()) continue;
      dense->us[v] = it->second.us;
      dense->primitives[v] = it->second.primitives;
      known_us[p] += it->second.us;
      known_macs[p] += static_cast<double>(index_.macs(v));
      ++known;
    }
    dense->complete = known == n;
    for (int p = 0; p < 2; ++p) {
      const double assumed = kFallbackUsPerMac / options_.threads / (p == 1 ? 2.0 : 1.0);
      dense->us_per_mac[p] = known_macs[p] > 0 ? known_us[p] / known_macs[p] : assumed;
    }
    if (known == 0) dense->per_primitive_us = kFallbackPrimitiveUs;
    absl::MutexLock lock(&mu_);
    table_ = std::move(table);
    dense_ = std::move(dense);
  }

  std::shared_ptr<const DenseTable> dense() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::ReaderMutexLock lock(&mu_);
    return dense_;
  }

  double RawLatency(const DenseTable& d, const Config& c, bool* profiled) const {
    double sum_us = 0, fallback_us = 0;
    int prims = 0;
    bool all = true;
    const int p = static_cast<int>(c.precision);
    index_.ForEachVariant(model_->space(), c, [&](int v) {
      if (std::isnan(d.us[v])) {
        all = false;
        fallback_us += d.us_per_mac[p] * static_cast<double>(index_.macs(v));
        prims += index_.convs(v);
      } else {
        sum_us += d.us[v];
        prims += d.primitives[v];
      }
    });
    if (profiled) *profiled = all;
    return d.scale * (sum_us + fallback_us) + d.per_primitive_us * prims;
  }

  ConfigCost Predict(const Config& config) const override {
    ConfigCost cost;
    const auto d = dense();
    cost.latency_us = RawLatency(*d, config, &cost.latency_profiled) * correction();
    const VariantStats stats = PredictStats(*model_, config);
    cost.memory_bytes = stats.weight_bytes + stats.arena_bytes;
    cost.macs = stats.macs;
    cost.energy_uj = cost.latency_us * power_w();
    cost.energy_estimated = energy_estimated();
    cost.accuracy = accuracy_(config);
    return cost;
  }

  double PredictAccuracy(const Config& config) const override { return accuracy_(config); }

  double PredictRawLatencyUs(const Config& config) const override {
    return RawLatency(*dense(), config, nullptr);
  }

  absl::Status Profile(bool force) override ABSL_LOCKS_EXCLUDED(profile_mu_) {
    absl::MutexLock profile_lock(&profile_mu_);  // one profiling at a time; Predict goes on
    LatencyTable current = table();
    if (fixed_table_) {
      if (profiled()) return absl::OkStatus();
      return absl::FailedPreconditionError(
          "cost model built from a fixed table that lacks some layer variants");
    }
    const std::string path =
        options_.state_dir.empty()
            ? std::string()
            : LatencyTablePath(options_.state_dir, cpu_model_, options_.threads);
    if (!force && !path.empty() && !profiled()) {
      // Another process (or an earlier run) may have profiled this device meanwhile.
      auto cached = LoadLatencyTable(path);
      if (cached.ok() && Matches(*cached)) {
        for (auto& [k, row] : current.rows) cached->rows.emplace(k, row);
        current = std::move(*cached);
        SetTable(current);
      }
    }
    if (!force && profiled()) return absl::OkStatus();
    std::vector<bool> wanted(index_.num_variants(), true);
    if (!force) {
      for (int v = 0; v < index_.num_variants(); ++v)
        wanted[v] = !current.rows.count(index_.key(v));
    }
    auto out = search::ProfileVariants(model_, index_, options_.threads, options_.profile_reps,
                                       wanted, options_.evolver.get());
    if (!out.ok()) return out.status();
    for (auto& [k, row] : out->rows) current.rows[k] = row;
    if (out->fitted) {
      current.scale = out->scale;
      current.per_primitive_us = out->per_primitive_us;
    }
    current.cpu_model = cpu_model_;
    current.engine_version = EngineBuildId();
    current.threads = options_.threads;
    SetTable(current);
    if (!path.empty()) {
      absl::Status s = SaveLatencyTable(current, path);
      if (!s.ok()) return s;
    }
    if (!profiled() && !out->skipped.empty())
      return absl::FailedPreconditionError(
          absl::StrCat("some layer variants could not be profiled: ", out->skipped.front()));
    return absl::OkStatus();
  }

  bool Matches(const LatencyTable& t) const {
    return t.cpu_model == cpu_model_ && t.engine_version == EngineBuildId() &&
           t.threads == options_.threads;
  }

  absl::Status LoadCache() {
    if (options_.state_dir.empty()) return absl::OkStatus();
    auto cached =
        LoadLatencyTable(LatencyTablePath(options_.state_dir, cpu_model_, options_.threads));
    if (cached.ok() && Matches(*cached)) SetTable(std::move(*cached));
    return absl::OkStatus();  // a missing or damaged cache only means profiling again
  }

  bool profiled() const override { return dense()->complete; }

  void ObserveLatency(const Config& config, double measured_us) override {
    const double raw = PredictRawLatencyUs(config);
    if (!(raw > 0) || !(measured_us > 0) || !std::isfinite(measured_us)) return;
    // Clamp single observations so that one preempted request cannot swing the model.
    const double ratio = std::clamp(measured_us / raw, 0.05, 20.0);
    const double a = std::clamp(options_.correction_alpha, 0.0, 1.0);
    double old = correction_.load(std::memory_order_relaxed);
    while (!correction_.compare_exchange_weak(old, (1 - a) * old + a * ratio)) {
    }
  }

  double correction() const override { return correction_.load(std::memory_order_relaxed); }
  void SetMeasuredPower(double watts) override {
    measured_power_w_.store(watts > 0 && std::isfinite(watts) ? watts : 0);
  }
  double power_w() const override {
    const double measured = measured_power_w_.load();
    return measured > 0 ? measured : options_.threads * EstimatedCoreWatts();
  }
  bool energy_estimated() const override { return !(measured_power_w_.load() > 0); }
  bool accuracy_fitted() const override { return accuracy_fitted_; }

  std::vector<std::pair<std::string, double>> LayerTable() const override {
    std::vector<std::pair<std::string, double>> rows;
    for (const auto& [k, row] : table().rows) rows.emplace_back(k, row.us);
    return rows;
  }
  LatencyTable table() const override {
    absl::ReaderMutexLock lock(&mu_);
    return table_;
  }
  const Model& model() const override { return *model_; }

 private:
  const std::shared_ptr<const Model> model_;
  const CostModelOptions options_;
  const search::LayerIndex index_;
  const AccuracyFn accuracy_;
  const bool accuracy_fitted_;
  const bool fixed_table_;
  const std::string cpu_model_;
  mutable absl::Mutex mu_;
  LatencyTable table_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const DenseTable> dense_ ABSL_GUARDED_BY(mu_);
  absl::Mutex profile_mu_;
  std::atomic<double> correction_{1.0};
  std::atomic<double> measured_power_w_{0};
};

absl::Status CheckArgs(const std::shared_ptr<const Model>& model, const CostModelOptions& options) {
  if (!model) return absl::InvalidArgumentError("cost model: model is null");
  if (options.threads < 1)
    return absl::InvalidArgumentError(
        absl::StrCat("cost model: threads is ", options.threads, ", must be >= 1"));
  return absl::OkStatus();
}

// The model's predictor (or labelled prior), shared by the returned function.
AccuracyFn DefaultAccuracy(const Model& model, bool* fitted) {
  std::shared_ptr<const AccuracyEstimator> estimator = MakeAccuracyEstimator(model);
  *fitted = !estimator->is_prior();
  return [estimator](const Config& c) { return estimator->Predict(c); };
}

}  // namespace

absl::StatusOr<std::unique_ptr<CostModel>> CostModel::Create(std::shared_ptr<const Model> model,
                                                             CostModelOptions options) {
  if (absl::Status s = CheckArgs(model, options); !s.ok()) return s;
  bool fitted = false;
  AccuracyFn accuracy = DefaultAccuracy(*model, &fitted);
  auto impl = std::make_unique<CostModelImpl>(std::move(model), std::move(options),
                                              std::move(accuracy), fitted, false);
  if (absl::Status s = impl->LoadCache(); !s.ok()) return s;
  return std::unique_ptr<CostModel>(std::move(impl));
}

absl::StatusOr<std::unique_ptr<CostModel>> CostModel::CreateWithTable(
    std::shared_ptr<const Model> model, CostModelOptions options, LatencyTable table,
    AccuracyFn accuracy) {
  if (absl::Status s = CheckArgs(model, options); !s.ok()) return s;
  bool fitted = true;
  if (!accuracy) accuracy = DefaultAccuracy(*model, &fitted);
  auto impl = std::make_unique<CostModelImpl>(std::move(model), std::move(options),
                                              std::move(accuracy), fitted, true);
  impl->SetTable(std::move(table));
  return std::unique_ptr<CostModel>(std::move(impl));
}

}  // namespace adaspring::engine
