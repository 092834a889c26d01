// What the sources of one sample found, before they are folded into a ContextSnapshot.
#ifndef ADASPRING_DAEMON_CONTEXT_READINGS_H_
#define ADASPRING_DAEMON_CONTEXT_READINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "context/snapshot.h"

namespace adaspring::context {

// Every scalar of ContextSnapshot, each optional. Sources fill the ones they measure; a replay
// trace row is one of these.
struct ContextValues {
  std::optional<int64_t> memory_available_bytes;
  std::optional<int64_t> memory_limit_bytes;
  std::optional<int64_t> memory_used_bytes;
  std::optional<double> cpu_busy_fraction;
  std::optional<int64_t> cpu_freq_khz;
  std::optional<int64_t> cpu_max_freq_khz;
  std::optional<uint32_t> cpu_count;
  std::optional<double> cpu_quota_cores;
  std::optional<double> psi_cpu_some_avg10;
  std::optional<double> psi_memory_some_avg10;
  std::optional<double> psi_io_some_avg10;
  std::optional<double> temperature_c;
  std::optional<double> temperature_trip_c;
  std::optional<double> power_w;
  std::optional<double> battery_percent;
  std::optional<bool> on_ac;
};

// Copies the set fields into the snapshot (battery_percent also sets has_battery).
void ApplyValues(const ContextValues& values, ContextSnapshot* snapshot);

// One memory bound on the daemon: a cgroup (own or configured) or the machine (meminfo).
struct MemoryBound {
  std::string source;                  // "cgroup", "cgroup:/apps.slice", "meminfo"
  std::optional<int64_t> limit_bytes;  // nullopt: unlimited ("max", v1's huge value)
  int64_t used_bytes = 0;
  std::optional<int64_t> available_bytes;  // when known directly (MemAvailable)
};

struct Readings {
  std::vector<MemoryBound> memory;
  ContextValues sensed;
  bool has_battery = false;
  // Values of a replayed trace: they replace sensed ones.
  ContextValues replayed;
  std::string phase;
};

// Folds the readings into a snapshot (sources, time, sequence and cause are left to the
// caller). Memory: available = min over bounds of (limit - used, or available when given);
// limit = the tightest limit (MemTotal when nothing else limits); used = used of the bound
// that gives the least available memory. Replayed values are applied last.
ContextSnapshot Combine(const Readings& readings);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_READINGS_H_
