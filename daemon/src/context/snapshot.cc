#include "context/snapshot.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace adaspring::context {

const char* SourceStateName(SourceState state) {
  switch (state) {
    case SourceState::kAvailable:
      return "available";
    case SourceState::kDegraded:
      return "degraded";
    case SourceState::kAbsent:
      return "absent";
    case SourceState::kUnspecified:
      break;
  }
  return "unspecified";
}

const SourceStatus* ContextSnapshot::FindSource(const std::string& name) const {
  for (const SourceStatus& source : sources) {
    if (source.name == name) return &source;
  }
  return nullptr;
}

bool ContextOverride::empty() const {
  return !memory_limit_bytes && !memory_available_bytes && !battery_percent && !on_ac &&
         !temperature_c && !cpu_busy_fraction && !power_w;
}

absl::Status ValidateOverride(const ContextOverride& o) {
  auto bad = [](const char* field, double value, const char* range) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " = ", value, " is out of range (", range, ")"));
  };
  if (o.memory_limit_bytes && *o.memory_limit_bytes < 0)
    return bad("memory_limit_bytes", static_cast<double>(*o.memory_limit_bytes), ">= 0");
  if (o.memory_available_bytes && *o.memory_available_bytes < 0)
    return bad("memory_available_bytes", static_cast<double>(*o.memory_available_bytes), ">= 0");
  if (o.battery_percent && !(*o.battery_percent >= 0 && *o.battery_percent <= 100))
    return bad("battery_percent", *o.battery_percent, "0..100");
  if (o.temperature_c && !(*o.temperature_c >= -273 && *o.temperature_c <= 300))
    return bad("temperature_c", *o.temperature_c, "-273..300");
  if (o.cpu_busy_fraction && !(*o.cpu_busy_fraction >= 0 && *o.cpu_busy_fraction <= 1))
    return bad("cpu_busy_fraction", *o.cpu_busy_fraction, "0..1");
  if (o.power_w && !(*o.power_w >= 0 && std::isfinite(*o.power_w)))
    return bad("power_w", *o.power_w, "finite, >= 0");
  // Both given: the one cannot exceed the other (given alone, available is clamped to the
  // sensed limit when the limit is overridden, else taken as is).
  if (o.memory_limit_bytes && o.memory_available_bytes &&
      *o.memory_available_bytes > *o.memory_limit_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("memory_available_bytes = ", *o.memory_available_bytes,
                     " exceeds memory_limit_bytes = ", *o.memory_limit_bytes));
  }
  return absl::OkStatus();
}

void ApplyOverride(const ContextOverride& o, ContextSnapshot* s) {
  if (o.empty()) return;
  s->overridden = true;
  if (o.memory_limit_bytes) {
    s->memory_limit_bytes = *o.memory_limit_bytes;
    // "memory.max dropped to 200 MB": what is already used stays used.
    if (!o.memory_available_bytes)
      s->memory_available_bytes = std::max<int64_t>(
          0, std::min(s->memory_available_bytes, s->memory_limit_bytes - s->memory_used_bytes));
  }
  if (o.memory_available_bytes) s->memory_available_bytes = *o.memory_available_bytes;
  if (s->memory_available_bytes > s->memory_limit_bytes && o.memory_limit_bytes)
    s->memory_available_bytes = s->memory_limit_bytes;
  if (o.memory_limit_bytes && o.memory_available_bytes)
    s->memory_used_bytes = s->memory_limit_bytes - s->memory_available_bytes;
  if (o.battery_percent) {
    s->battery_percent = *o.battery_percent;
    s->has_battery = true;
  }
  if (o.on_ac) s->on_ac = *o.on_ac;
  if (o.temperature_c) s->temperature_c = *o.temperature_c;
  if (o.cpu_busy_fraction) s->cpu_busy_fraction = *o.cpu_busy_fraction;
  if (o.power_w) s->power_w = *o.power_w;
}

}  // namespace adaspring::context
