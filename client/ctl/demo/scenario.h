// The demo's context scenario: a CSV of timed phases whose values are applied through the
// admin API's context override, plus a number of real busy processes (CPU contention the daemon
// must notice by itself). Format (docs/USER-GUIDE.md):
//   # tight_phase: <phase name>         (directive: the phase reported as "tight")
//   t_s,phase,memory_available_mb,battery_pct,on_ac,temp_c,busy_procs[,cpu_cap_cores]
// An empty cell leaves that value to the daemon's sensors. Times are scenario seconds; the
// runner stretches them to each policy's share of --duration. cpu_cap_cores is not an
// override: the runner puts the daemon into a CPU-capped cgroup for that step (what a
// board's thermal or power manager, or systemd's CPUQuota=, does to a service); empty: no cap.
#ifndef ADASPRING_CLIENT_CTL_DEMO_SCENARIO_H_
#define ADASPRING_CLIENT_CTL_DEMO_SCENARIO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace adaspring::ctl {

struct ScenarioStep {
  double t_s = 0;
  std::string phase;
  std::optional<double> memory_available_mb, battery_pct, temp_c, cpu_cap_cores;
  std::optional<bool> on_ac;
  int busy_procs = 0;
};

struct Scenario {
  std::string name;
  std::string tight_phase;
  std::vector<ScenarioStep> steps;  // ascending t_s
  double length_s = 0;              // the last step's time plus its hold (final t_s x 1.15)
  // The step in force at scenario time t.
  const ScenarioStep& At(double t_s) const;
};

absl::StatusOr<Scenario> ParseScenario(const std::string& text, const std::string& name);
absl::StatusOr<Scenario> LoadScenario(const std::string& path);

// One client app of the demo.
struct DemoApp {
  std::string name;
  double rate_hz;
  uint32_t latency_budget_us;
  double min_accuracy;
  uint32_t priority;
  int energy_preference;  // client::EnergyPreference value
};
std::vector<DemoApp> DefaultApps();

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_DEMO_SCENARIO_H_
