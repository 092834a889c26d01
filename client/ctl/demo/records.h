// Per-request records of a demo run and the summary computed from them.
#ifndef ADASPRING_CLIENT_CTL_DEMO_RECORDS_H_
#define ADASPRING_CLIENT_CTL_DEMO_RECORDS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "demo/scenario.h"

namespace adaspring::ctl {

struct RequestRecord {
  std::string policy, app, phase;
  double t_s = 0;         // since the policy's start
  double latency_ms = 0;  // client-observed, end to end
  bool ok = false;
  int code = 0;  // gRPC status code
  bool correct = false;
  uint64_t config_id = 0;
  double compute_us = 0;  // daemon-reported compute time
  double queue_us = 0;    // daemon-reported time queued before compute
  int64_t macs = 0;       // of the configuration that served it (0 = unknown)
};

struct PolicyRun {
  std::string policy;
  double duration_s = 0;
  std::vector<RequestRecord> records;
  std::vector<double> reaction_ms;                     // evolution events (adaptive)
  std::map<std::string, int> switches;                 // per app
  std::vector<std::pair<double, std::string>> phases;  // start time (policy s) -> phase
  std::string static_config;                           // pinned text, for static policies
};

struct AppFigures {
  double slo_violation_pct = 0, accuracy = 0, p50_ms = 0, p99_ms = 0;
  // The daemon's compute time alone (what the model configuration decides; the end-to-end
  // figures also hold gRPC, queueing and the OS scheduler's delays under contention).
  double compute_p50_ms = 0, compute_p99_ms = 0;
  // Time in the daemon (queued + compute): what the daemon's scheduling and the configuration
  // decide together; the rest of the end-to-end time is gRPC and the client's own scheduling.
  double daemon_p50_ms = 0, daemon_p99_ms = 0;
  double energy_mj_per_inference = 0;
  std::string energy_source = "estimated";
  int switches = 0;
  int64_t requests = 0, failed_requests = 0;
};

// Figures of one app's records (all, or only those in `phase` when it is non-empty).
AppFigures Summarise(const std::vector<RequestRecord>& records, const std::string& app,
                     const std::string& phase, uint32_t budget_us, double watts,
                     bool measured_power);

// Writes requests.csv, summary.json (the documented shape), plot.png (gnuplot) and prints the
// summary table. Returns false (and prints why) when a file cannot be written.
bool WriteReport(const std::vector<PolicyRun>& runs, const Scenario& scenario,
                 const std::vector<DemoApp>& apps, double watts, bool measured_power,
                 const std::string& out_dir, const std::string& model, bool json);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_DEMO_RECORDS_H_
