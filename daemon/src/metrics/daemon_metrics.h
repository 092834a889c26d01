// The metrics adaspringd exports (names fixed by issue 7; see docs/CONFIG.md [metrics]).
// Create one DaemonMetrics at start; cache the per-session series pointers when a session
// opens (WithLabels takes a mutex), then update them lock-free per request:
//   metrics::Counter* requests = &m.requests_total->WithLabels({app, model});
//   requests->Increment();  m.request_latency_seconds->WithLabels({app}).Observe(0.0012);
#ifndef ADASPRING_DAEMON_METRICS_DAEMON_METRICS_H_
#define ADASPRING_DAEMON_METRICS_DAEMON_METRICS_H_

#include "metrics/registry.h"

namespace adaspring::daemon::metrics {

struct DaemonMetrics {
  // Registers every family in `registry` (which must outlive this struct).
  explicit DaemonMetrics(Registry& registry);

  CounterFamily* requests_total;             // adaspring_requests_total{app,model}
  CounterFamily* request_errors_total;       // adaspring_request_errors_total{app,model,code}
  HistogramFamily* request_latency_seconds;  // adaspring_request_latency_seconds{app}
  CounterFamily* config_switches_total;      // adaspring_config_switches_total{app}
  Histogram* evolution_latency_seconds;      // adaspring_evolution_latency_seconds
  Histogram* reaction_latency_seconds;       // adaspring_reaction_latency_seconds
                                             // (context change -> all affected evolved)
  Gauge* sessions;                           // adaspring_sessions
  Gauge* models_loaded;                      // adaspring_models_loaded
  // Context values (NaN while a source is unavailable: Prometheus shows NaN, not a lie).
  Gauge* context_memory_available_bytes;  // adaspring_context_memory_available_bytes
  Gauge* context_cpu_busy_ratio;          // adaspring_context_cpu_busy_ratio (0..1)
  Gauge* context_temperature_celsius;     // adaspring_context_temperature_celsius
  Gauge* context_battery_percent;         // adaspring_context_battery_percent
  Gauge* context_power_watts;             // adaspring_context_power_watts
};

// Bucket bounds (seconds) used above; exposed for tests and dashboards.
const std::vector<double>& RequestLatencyBucketsSeconds();
const std::vector<double>& EvolutionLatencyBucketsSeconds();

}  // namespace adaspring::daemon::metrics

#endif  // ADASPRING_DAEMON_METRICS_DAEMON_METRICS_H_
