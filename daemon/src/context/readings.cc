#include "context/readings.h"

#include <algorithm>
#include <limits>

namespace adaspring::context {

void ApplyValues(const ContextValues& v, ContextSnapshot* s) {
  if (v.memory_available_bytes) s->memory_available_bytes = *v.memory_available_bytes;
  if (v.memory_limit_bytes) s->memory_limit_bytes = *v.memory_limit_bytes;
  if (v.memory_used_bytes) s->memory_used_bytes = *v.memory_used_bytes;
  if (v.cpu_busy_fraction) s->cpu_busy_fraction = *v.cpu_busy_fraction;
  if (v.cpu_quota_cores) s->cpu_quota_cores = *v.cpu_quota_cores;
  if (v.cpu_freq_khz) s->cpu_freq_khz = *v.cpu_freq_khz;
  if (v.cpu_max_freq_khz) s->cpu_max_freq_khz = *v.cpu_max_freq_khz;
  if (v.cpu_count) s->cpu_count = *v.cpu_count;
  if (v.psi_cpu_some_avg10) s->psi_cpu_some_avg10 = *v.psi_cpu_some_avg10;
  if (v.psi_memory_some_avg10) s->psi_memory_some_avg10 = *v.psi_memory_some_avg10;
  if (v.psi_io_some_avg10) s->psi_io_some_avg10 = *v.psi_io_some_avg10;
  if (v.temperature_c) s->temperature_c = *v.temperature_c;
  if (v.temperature_trip_c) s->temperature_trip_c = *v.temperature_trip_c;
  if (v.power_w) s->power_w = *v.power_w;
  if (v.battery_percent) {
    s->battery_percent = *v.battery_percent;
    s->has_battery = true;
  }
  if (v.on_ac) s->on_ac = *v.on_ac;
}

ContextSnapshot Combine(const Readings& readings) {
  ContextSnapshot snapshot;
  constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
  int64_t best_available = kNone;
  int64_t best_limit = kNone;
  const MemoryBound* binding = nullptr;
  for (const MemoryBound& bound : readings.memory) {
    int64_t available = kNone;
    if (bound.available_bytes) {
      available = *bound.available_bytes;
    } else if (bound.limit_bytes) {
      // Sources reject negative values; the subtraction still saturates rather than overflow.
      int64_t difference = 0;
      if (__builtin_sub_overflow(*bound.limit_bytes, bound.used_bytes, &difference))
        difference = bound.used_bytes < 0 ? kNone - 1 : 0;
      available = std::max<int64_t>(0, difference);
    }
    if (bound.limit_bytes) best_limit = std::min(best_limit, *bound.limit_bytes);
    if (binding == nullptr || available < best_available) {
      best_available = available;
      binding = &bound;
    }
  }
  if (binding != nullptr) snapshot.memory_used_bytes = binding->used_bytes;
  if (best_available != kNone) snapshot.memory_available_bytes = best_available;
  if (best_limit != kNone) snapshot.memory_limit_bytes = best_limit;
  snapshot.has_battery = readings.has_battery;
  ApplyValues(readings.sensed, &snapshot);
  ApplyValues(readings.replayed, &snapshot);
  snapshot.phase = readings.phase;
  return snapshot;
}

}  // namespace adaspring::context
