// Context -> device budgets (DESIGN §4.2): what the policy may hand out to models.
//
//   memory_bytes = memory_available - memory_reserve   (the daemon's variants already count as
//                  used; the evolver cache keeps recently used variants, so a downgrade does
//                  not immediately show up as "available" and the budget does not flap)
//   cpu_capacity = cores x (1 - cpu_reserve_fraction) - outside load, or the cgroup's CPU
//                  quota x (1 - cpu_reserve_fraction) when that is less, scaled by
//                  cpu_freq / cpu_max_freq (throttling) and halved within thermal_headroom_c
//                  of the trip point. Outside load = busy cores minus the daemon's own compute
//                  (an override of cpu_busy_fraction is outside load already).
//   power_w      = 0 (unconstrained) on mains; on battery below battery_low_percent, a saver
//                  budget of one busy core's worth per two cores.
#ifndef ADASPRING_DAEMON_POLICY_BUDGETS_H_
#define ADASPRING_DAEMON_POLICY_BUDGETS_H_

#include <string>
#include <vector>

#include "config/daemon_config.h"
#include "context/snapshot.h"

namespace adaspring::daemon {

struct Budgets {
  // -1 = unknown (no memory source): unconstrained. 0 = nothing left above the reserve: the
  // policy picks the smallest configurations.
  int64_t memory_bytes = -1;
  bool memory_known() const { return memory_bytes >= 0; }
  double cpu_capacity = 0;  // core-seconds per second
  double power_w = 0;       // 0 = unconstrained
  bool energy_saver = false;
  std::vector<std::string> notes;
};

// `own_cpu_cores`: the daemon's inference compute over the last period, in cores.
// `cpu_overridden`: cpu_busy_fraction came from an admin override (outside load only).
Budgets ComputeBudgets(const context::ContextSnapshot& snapshot, const PolicyConfig& policy,
                       double own_cpu_cores, bool cpu_overridden);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_POLICY_BUDGETS_H_
