// Copies the daemon's own statistics (per-session atomics, adaptation stats, the latest
// context) into the Prometheus families of metrics/daemon_metrics.h. Runs on the event loop
// once per scrape period, so the request path never touches the metrics registry.
#ifndef ADASPRING_DAEMON_SERVER_METRICS_BRIDGE_H_
#define ADASPRING_DAEMON_SERVER_METRICS_BRIDGE_H_

#include <array>
#include <map>
#include <string>

#include "metrics/daemon_metrics.h"
#include "server/daemon.h"

namespace adaspring::daemon {

class MetricsBridge {
 public:
  MetricsBridge(Daemon* daemon, metrics::DaemonMetrics* metrics)
      : daemon_(daemon), metrics_(metrics) {}
  // Not thread-safe: call from one thread (the event loop).
  void Update();

 private:
  struct Seen {
    uint64_t requests = 0, switches = 0;
    std::array<uint64_t, SessionStats::kCodes> errors_by_code{};
    LatencyHistogram::Counts latency{};
  };
  Daemon* const daemon_;
  metrics::DaemonMetrics* const metrics_;
  std::map<std::string, Seen> seen_;  // by session id
  uint64_t evolutions_ = 0;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVER_METRICS_BRIDGE_H_
