#include "server/metrics_bridge.h"

#include <cmath>
#include <limits>
#include <set>

namespace adaspring::daemon {

void MetricsBridge::Update() {
  std::set<std::string> live;
  for (const auto& s : daemon_->sessions().All()) {
    live.insert(s->id());
    Seen& seen = seen_[s->id()];
    const std::string& app = s->app();
    const std::string& model = s->model()->name;
    const uint64_t requests = s->stats.requests.load();
    const uint64_t switches = s->stats.switches.load();
    metrics_->requests_total->WithLabels({app, model}).Increment(requests - seen.requests);
    for (int c = 0; c < SessionStats::kCodes; ++c) {
      const uint64_t n = s->stats.errors_by_code[c].load();
      if (n == seen.errors_by_code[c]) continue;
      metrics_->request_errors_total
          ->WithLabels({app, model, absl::StatusCodeToString(static_cast<absl::StatusCode>(c))})
          .Increment(n - seen.errors_by_code[c]);
      seen.errors_by_code[c] = n;
    }
    metrics_->config_switches_total->WithLabels({app}).Increment(switches - seen.switches);
    // Each new latency sample is replayed at its bucket's midpoint (the daemon's histogram
    // is finer than the exported buckets, so nothing is lost at the exported resolution).
    const LatencyHistogram::Counts counts = s->stats.latency.Snapshot();
    metrics::Histogram& h = metrics_->request_latency_seconds->WithLabels({app});
    for (int b = 0; b < LatencyHistogram::kBuckets; ++b) {
      const uint64_t n = counts[b] - seen.latency[b];
      if (n == 0) continue;
      const double lo = b == 0 ? 0 : LatencyHistogram::UpperUs(b - 1);
      const double mid_s = 0.5 * (lo + LatencyHistogram::UpperUs(b)) * 1e-6;
      for (uint64_t i = 0; i < n; ++i) h.Observe(mid_s);
    }
    seen.requests = requests;
    seen.switches = switches;
    seen.latency = counts;
  }
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = live.count(it->first) ? std::next(it) : seen_.erase(it);
  }
  metrics_->sessions->Set(static_cast<double>(live.size()));
  metrics_->models_loaded->Set(static_cast<double>(daemon_->models().size()));
  for (double ms : daemon_->policy().TakeEvolutionTimes()) {
    metrics_->evolution_latency_seconds->Observe(ms * 1e-3);
  }
  const AdaptationStats st = daemon_->policy().stats();
  if (st.evolutions > evolutions_) {
    metrics_->reaction_latency_seconds->Observe(st.last_reaction_ms * 1e-3);
    evolutions_ = st.evolutions;
  }
  const context::ContextSnapshot c = daemon_->policy().latest();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto available = [&](const char* source) {
    const context::SourceStatus* s = c.FindSource(source);
    return c.overridden || s == nullptr || s->state == context::SourceState::kAvailable;
  };
  metrics_->context_memory_available_bytes->Set(
      c.sequence ? static_cast<double>(c.memory_available_bytes) : nan);
  metrics_->context_cpu_busy_ratio->Set(c.sequence && available("cpu") ? c.cpu_busy_fraction : nan);
  metrics_->context_temperature_celsius->Set(
      available("thermal") && c.temperature_c > 0 ? c.temperature_c : nan);
  metrics_->context_battery_percent->Set(c.has_battery ? c.battery_percent : nan);
  metrics_->context_power_watts->Set(c.power_w > 0 ? c.power_w : nan);
}

}  // namespace adaspring::daemon
