#include "metrics/daemon_metrics.h"

#include <limits>

namespace adaspring::daemon::metrics {

const std::vector<double>& RequestLatencyBucketsSeconds() {
  // 100 us .. 2.5 s: batch-1 inference on the reference model is ~0.1-5 ms; the tail covers
  // queueing under overload.
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                               0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  return kBuckets;
}

const std::vector<double>& EvolutionLatencyBucketsSeconds() {
  // The targets are 2 ms cold / 0.2 ms cached (DESIGN.md section 5): buckets around both.
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002,
                                               0.005,   0.01,   0.02,   0.05,   0.1,   0.5};
  return kBuckets;
}

namespace {
const std::vector<double>& ReactionLatencyBucketsSeconds() {
  // Timer path: one sampling period (200 ms default) + 10 ms; PSI path: 20 ms.
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.02, 0.05, 0.1, 0.2,
                                               0.25,  0.5,  1,    2.5,  5};
  return kBuckets;
}

Gauge* UnlabelledGauge(Registry& registry, const std::string& name, const std::string& help,
                       double initial) {
  Gauge* gauge = &registry.AddGauge(name, help).WithLabels({});
  gauge->Set(initial);
  return gauge;
}
}  // namespace

DaemonMetrics::DaemonMetrics(Registry& registry) {
  const double kUnknown = std::numeric_limits<double>::quiet_NaN();
  requests_total =
      &registry.AddCounter("adaspring_requests_total",
                           "Inference requests received, per app and model.", {"app", "model"});
  request_errors_total = &registry.AddCounter(
      "adaspring_request_errors_total",
      "Inference requests that failed, per app, model and gRPC status code name.",
      {"app", "model", "code"});
  request_latency_seconds =
      &registry.AddHistogram("adaspring_request_latency_seconds",
                             "Inference request latency from arrival to response, per app.",
                             {"app"}, RequestLatencyBucketsSeconds());
  config_switches_total = &registry.AddCounter(
      "adaspring_config_switches_total", "Compression configuration switches, per app.", {"app"});
  evolution_latency_seconds = &registry
                                   .AddHistogram("adaspring_evolution_latency_seconds",
                                                 "Time to instantiate (evolve) one model variant.",
                                                 {}, EvolutionLatencyBucketsSeconds())
                                   .WithLabels({});
  reaction_latency_seconds =
      &registry
           .AddHistogram("adaspring_reaction_latency_seconds",
                         "Time from a context change to all affected sessions evolved.", {},
                         ReactionLatencyBucketsSeconds())
           .WithLabels({});
  sessions = UnlabelledGauge(registry, "adaspring_sessions", "Open sessions.", 0);
  models_loaded = UnlabelledGauge(registry, "adaspring_models_loaded", "Loaded models.", 0);
  context_memory_available_bytes =
      UnlabelledGauge(registry, "adaspring_context_memory_available_bytes",
                      "Memory available to models before the reserve (NaN: unknown).", kUnknown);
  context_cpu_busy_ratio =
      UnlabelledGauge(registry, "adaspring_context_cpu_busy_ratio",
                      "Fraction of all CPU time busy in the last period (0..1).", kUnknown);
  context_temperature_celsius = UnlabelledGauge(registry, "adaspring_context_temperature_celsius",
                                                "Hottest thermal zone.", kUnknown);
  context_battery_percent = UnlabelledGauge(registry, "adaspring_context_battery_percent",
                                            "Battery charge (NaN: no battery).", kUnknown);
  context_power_watts =
      UnlabelledGauge(registry, "adaspring_context_power_watts",
                      "Package or board power draw (NaN: no power sensor).", kUnknown);
}

}  // namespace adaspring::daemon::metrics
