// A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered
// in the text exposition format 0.0.4.
//
// Hot-path contract: a series (one combination of label values) is looked up ONCE (e.g. when
// a session opens) with WithLabels(), which takes the family's mutex; the returned reference
// stays valid for the registry's lifetime, and Increment/Set/Add/Observe on it are lock-free
// relaxed atomics (no allocation, no global lock). Render() (one scrape) takes each family's
// mutex briefly to walk the series; it never blocks updates.
//
// Thread safety: everything may be called from any thread. Families are created at start-up
// (Add* is mutex-protected too, but names must be unique: a duplicate name returns the
// existing family if the type and labels match, else it is a programming error -> abort).
#ifndef ADASPRING_DAEMON_METRICS_REGISTRY_H_
#define ADASPRING_DAEMON_METRICS_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace adaspring::daemon::metrics {

class Counter {
 public:
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Bucket upper bounds are shared by all series of a family (ascending, +Inf implied).
class Histogram {
 public:
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds);
  // Lock-free: one binary search over the bounds and three relaxed atomic updates.
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  // Consistent enough for scraping: count is the sum of the bucket counts read.
  Snapshot TakeSnapshot() const;
  const std::vector<double>& bounds() const { return *bounds_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_->size() + 1, not cumulative
  std::atomic<double> sum_{0.0};
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  virtual void Render(std::string* out) const = 0;
  virtual const char* type() const = 0;
  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  // `{a="x",b="y"}` (escaped), or "" without labels; `extra` is appended (histogram le=).
  std::string LabelText(const std::vector<std::string>& values, const std::string& extra) const;
  void RenderHeader(std::string* out) const;

  std::string name_, help_;
  std::vector<std::string> label_names_;
};

// A metric family: one series per combination of label values.
template <typename T>
class Family final : public FamilyBase {
 public:
  using Factory = std::function<std::unique_ptr<T>()>;
  Family(std::string name, std::string help, std::vector<std::string> label_names, Factory factory,
         const char* type_name)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        factory_(std::move(factory)),
        type_name_(type_name) {}

  // The series for `values` (created on first use). Exactly one value per label name: missing
  // values are treated as "" and extra ones ignored (a programming error, not a crash).
  T& WithLabels(std::vector<std::string> values) {
    values.resize(label_names_.size());
    absl::MutexLock lock(&mu_);
    std::unique_ptr<T>& slot = series_[values];
    if (!slot) slot = factory_();
    return *slot;
  }

  void Render(std::string* out) const override;
  const char* type() const override { return type_name_; }

 private:
  Factory factory_;
  const char* type_name_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_ ABSL_GUARDED_BY(mu_);
};

// Defined in registry.cc, one per metric type.
template <>
void Family<Counter>::Render(std::string* out) const;
template <>
void Family<Gauge>::Render(std::string* out) const;
template <>
void Family<Histogram>::Render(std::string* out) const;

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]*
  // (checked; a bad name aborts: it is a bug in the daemon, not an input).
  CounterFamily& AddCounter(const std::string& name, const std::string& help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(const std::string& name, const std::string& help,
                        std::vector<std::string> label_names = {});
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names,
                                std::vector<double> bucket_bounds);

  // Called at the start of every Render() (e.g. to refresh a sessions gauge from a count).
  // Hooks run on the scraping thread; they must be cheap and thread-safe.
  void AddCollectHook(std::function<void()> hook);

  // Text exposition format 0.0.4, families in registration order.
  std::string Render() const;

 private:
  FamilyBase* Find(const std::string& name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> hooks_ ABSL_GUARDED_BY(mu_);
};

// Formats a sample value as Prometheus expects: integers without exponent, +Inf, -Inf, NaN.
std::string FormatSampleValue(double value);

}  // namespace adaspring::daemon::metrics

#endif  // ADASPRING_DAEMON_METRICS_REGISTRY_H_
