// Plain C++ mirrors of adaspring.v1.ContextSnapshot / SourceStatus and of the fields of
// SetContextOverrideRequest, so that the daemon converts them 1:1 without this module
// depending on generated proto headers.
#ifndef ADASPRING_DAEMON_CONTEXT_SNAPSHOT_H_
#define ADASPRING_DAEMON_CONTEXT_SNAPSHOT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace adaspring::context {

// Same numbering as adaspring.v1.SourceState.
enum class SourceState {
  kUnspecified = 0,
  kAvailable = 1,  // present and its last read succeeded
  kDegraded = 2,   // exists but cannot be read right now (permission, garbage, timeout)
  kAbsent = 3,     // the device does not have it
};

// "available", "degraded", "absent" (the probe's JSON values).
const char* SourceStateName(SourceState state);

struct SourceStatus {
  std::string name;  // "rapl", "hwmon", "thermal", "cgroup", "meminfo", "psi", ...
  SourceState state = SourceState::kUnspecified;
  std::string reason;  // why degraded or absent; may note a detail when available
  // What the source saw, for the probe (not in the proto): ordered key -> text value,
  // e.g. {"zone0", "x86_pkg_temp 48.0 C"}.
  std::vector<std::pair<std::string, std::string>> values;
};

// Mirrors adaspring.v1.ContextSnapshot field by field (proto field number in comments); the
// last three members are extras the proto does not carry.
struct ContextSnapshot {
  std::chrono::system_clock::time_point time;  // 1
  uint64_t sequence = 0;                       // 2
  int64_t memory_available_bytes = 0;          // 3: min(cgroup limit - usage, MemAvailable)
  int64_t memory_limit_bytes = 0;              // 4: tightest cgroup limit, else MemTotal
  int64_t memory_used_bytes = 0;               // 5
  double cpu_busy_fraction = 0;                // 6: [0, 1] over the last period
  int64_t cpu_freq_khz = 0;                    // 7: mean current frequency, 0 = unknown
  int64_t cpu_max_freq_khz = 0;                // 8
  uint32_t cpu_count = 0;                      // 9
  double psi_cpu_some_avg10 = 0;               // 10: percent
  double psi_memory_some_avg10 = 0;            // 11
  double psi_io_some_avg10 = 0;                // 12
  double temperature_c = 0;                    // 13: hottest zone
  double temperature_trip_c = 0;               // 14: its lowest passive/critical trip
  double power_w = 0;                          // 15: RAPL package or hwmon, 0 = no meter
  double battery_percent = 0;                  // 16
  bool on_ac = true;                           // 17: mains, or no battery at all
  bool has_battery = false;                    // 18
  std::vector<SourceStatus> sources;           // 19
  bool overridden = false;                     // 20
  double cpu_quota_cores = 0;                  // 21: cgroup CPU bandwidth, 0 = no limit

  // Extras: why this snapshot was published ("timer", "psi", "replay", "override",
  // "timeout"), the phase of a replayed trace, and the monotonic sample time.
  std::string cause;
  std::string phase;
  std::chrono::steady_clock::time_point steady_time;

  const SourceStatus* FindSource(const std::string& name) const;
};

// Mirrors SetContextOverrideRequest: each set field replaces the sensed value.
struct ContextOverride {
  std::optional<int64_t> memory_limit_bytes;
  std::optional<int64_t> memory_available_bytes;
  std::optional<double> battery_percent;
  std::optional<bool> on_ac;
  std::optional<double> temperature_c;
  std::optional<double> cpu_busy_fraction;  // outside CPU load, [0, 1]
  std::optional<double> power_w;

  bool empty() const;
};

// INVALID_ARGUMENT naming the field and value when out of range (negative bytes or watts,
// battery outside 0..100, cpu_busy outside 0..1, temperature outside -273..300 C).
absl::Status ValidateOverride(const ContextOverride& override_values);

// Replaces the fields set in `override_values` and sets overridden when any is set. Keeps
// derived invariants: available <= limit, used = limit - available when both memory
// fields change, and has_battery when a battery percentage is forced.
void ApplyOverride(const ContextOverride& override_values, ContextSnapshot* snapshot);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_SNAPSHOT_H_
