#include "policy/budgets.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace adaspring::daemon {

Budgets ComputeBudgets(const context::ContextSnapshot& s, const PolicyConfig& policy,
                       double own_cpu_cores, bool cpu_overridden) {
  Budgets b;
  const double cores =
      s.cpu_count > 0 ? s.cpu_count : std::max(1u, std::thread::hardware_concurrency());
  // Memory.
  if (s.memory_available_bytes > 0 || s.memory_limit_bytes > 0) {
    b.memory_bytes = std::max<int64_t>(0, s.memory_available_bytes - policy.memory_reserve_bytes);
    b.notes.push_back(absl::StrFormat("memory: %.1f MB available - %.1f MB reserve",
                                      s.memory_available_bytes / 1048576.0,
                                      policy.memory_reserve_bytes / 1048576.0));
  } else {
    b.memory_bytes = -1;  // unknown: unconstrained
    b.notes.push_back("memory: unknown (no memory source)");
  }
  // CPU.
  const double busy_cores = std::clamp(s.cpu_busy_fraction, 0.0, 1.0) * cores;
  const double outside = cpu_overridden ? busy_cores : std::max(0.0, busy_cores - own_cpu_cores);
  double capacity = cores * (1.0 - policy.cpu_reserve_fraction) - outside;
  std::string cpu_note =
      absl::StrFormat("cpu: %.0f cores, outside load %.2f cores", cores, outside);
  if (s.cpu_quota_cores > 0) {
    // The cgroup's bandwidth limit counts all of the daemon's threads, whatever else runs.
    const double quota = s.cpu_quota_cores * (1.0 - policy.cpu_reserve_fraction);
    if (quota < capacity) {
      capacity = quota;
      absl::StrAppend(&cpu_note, absl::StrFormat(", cgroup quota %.2f cores", s.cpu_quota_cores));
    }
  }
  if (s.cpu_freq_khz > 0 && s.cpu_max_freq_khz > 0 && s.cpu_freq_khz < s.cpu_max_freq_khz) {
    const double scale = static_cast<double>(s.cpu_freq_khz) / s.cpu_max_freq_khz;
    capacity *= scale;
    absl::StrAppend(&cpu_note, absl::StrFormat(", throttled to %.0f%%", scale * 100));
  }
  if (s.temperature_trip_c > 0 &&
      s.temperature_c > s.temperature_trip_c - policy.thermal_headroom_c) {
    capacity *= 0.5;
    absl::StrAppend(
        &cpu_note, absl::StrFormat(", %.1f C within %.0f C of trip %.1f C: halved", s.temperature_c,
                                   policy.thermal_headroom_c, s.temperature_trip_c));
  }
  b.cpu_capacity = std::max(0.05, capacity);  // always let a trickle through
  b.notes.push_back(cpu_note);
  // Power.
  if (s.has_battery && !s.on_ac && s.battery_percent < policy.battery_low_percent) {
    b.energy_saver = true;
    b.power_w = std::max(0.5, cores);  // ~1 W per core at the saver operating point
    b.notes.push_back(absl::StrFormat("battery %.0f%% < %.0f%%: saver, %.1f W", s.battery_percent,
                                      policy.battery_low_percent, b.power_w));
  }
  return b;
}

}  // namespace adaspring::daemon
