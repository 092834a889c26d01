#include "context/rapl_source.h"

#include <chrono>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

constexpr char kPowercap[] = "/sys/class/powercap";

bool IsPackageZone(const std::string& entry) {
  // "intel-rapl:0" or "amd-rapl:0"; not "intel-rapl" (the control type), "intel-rapl:0:0"
  // (a sub-zone) or "intel-rapl-mmio:0" (the same package through MMIO).
  const size_t colon = entry.find(':');
  return colon != std::string::npos && entry.find(':', colon + 1) == std::string::npos &&
         absl::StrContains(entry, "rapl") && !absl::StrContains(entry, "mmio");
}

std::string DegradedReason(const absl::Status& status) {
  std::string reason(status.message());
  if (absl::IsPermissionDenied(status)) reason += " (root-only since CVE-2020-8694)";
  return reason;
}

}  // namespace

RaplSource::RaplSource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

int64_t RaplSource::EnergyDeltaUj(int64_t previous_uj, int64_t current_uj, int64_t max_range_uj) {
  if (current_uj >= previous_uj) return current_uj - previous_uj;
  return max_range_uj - previous_uj + current_uj;
}

SourceStatus RaplSource::Sample(SteadyTime now, Readings* out) {
  absl::StatusOr<std::vector<std::string>> entries = fs_->ListDirectory(kPowercap);
  if (absl::IsNotFound(entries.status()))
    return MakeStatus(name(), SourceState::kAbsent,
                      "no /sys/class/powercap (no RAPL: not Intel/AMD, or the powercap driver "
                      "is not loaded)");
  if (!entries.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(entries.status().message()));

  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  double total_w = 0;
  int zones = 0;
  bool have_power = true;
  for (const std::string& entry : *entries) {
    if (!IsPackageZone(entry)) continue;
    ++zones;
    const std::string dir = absl::StrCat(kPowercap, "/", entry);
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    const std::string energy_path = dir + "/energy_uj";
    absl::StatusOr<int64_t> energy = ReadInt64InRange(*fs_, energy_path, 0, kMax);
    if (!energy.ok()) {
      previous_.erase(dir);
      return MakeStatus(name(), SourceState::kDegraded, DegradedReason(energy.status()));
    }
    auto it = previous_.find(dir);
    if (it == previous_.end()) {
      absl::StatusOr<int64_t> range = ReadInt64InRange(*fs_, dir + "/max_energy_range_uj", 1, kMax);
      if (!range.ok())
        return MakeStatus(name(), SourceState::kDegraded, DegradedReason(range.status()));
      if (*energy > *range)
        return MakeStatus(
            name(), SourceState::kDegraded,
            absl::StrCat(energy_path, ": ", *energy, " exceeds max_energy_range_uj ", *range));
      it = previous_.emplace(dir, ZoneState{*energy, *range, now}).first;
      have_power = false;
      absl::StatusOr<std::string> zone_name = ReadAttribute(*fs_, dir + "/name");
      status.values.emplace_back(entry, zone_name.ok() ? *zone_name : "?");
      continue;
    }
    ZoneState& zone = it->second;
    const double seconds = std::chrono::duration<double>(now - zone.time).count();
    if (seconds <= 0) {
      have_power = false;
      continue;
    }
    if (*energy > zone.max_range_uj) {
      const int64_t range_uj = zone.max_range_uj;
      previous_.erase(it);
      return MakeStatus(
          name(), SourceState::kDegraded,
          absl::StrCat(energy_path, ": ", *energy, " exceeds max_energy_range_uj ", range_uj));
    }
    // Both readings lie in 0..max_range_uj here, so the delta cannot overflow.
    const double watts =
        static_cast<double>(EnergyDeltaUj(zone.energy_uj, *energy, zone.max_range_uj)) / 1e6 /
        seconds;
    if (watts > kMaxPlausibleWatts) {
      // More energy than the package can use in the interval: a counter that went backwards
      // further than a wrap explains (reset on resume, driver reload) or jumped ahead. The
      // current reading becomes the new baseline; power comes back with the next sample.
      const int64_t previous_uj = zone.energy_uj;
      zone.energy_uj = *energy;
      zone.time = now;
      const std::string what = *energy < previous_uj ? "counter reset" : "counter jumped";
      return MakeStatus(
          name(), SourceState::kDegraded,
          absl::StrFormat("%s: %s (%d -> %d uJ in %.3f s would be %.0f W, above %.0f W); new "
                          "baseline taken",
                          energy_path, what, previous_uj, *energy, seconds, watts,
                          kMaxPlausibleWatts));
    }
    zone.energy_uj = *energy;
    zone.time = now;
    total_w += watts;
    status.values.emplace_back(entry, absl::StrFormat("%.2f W", watts));
  }
  if (zones == 0)
    return MakeStatus(name(), SourceState::kAbsent,
                      "no RAPL package zones under /sys/class/powercap");
  if (have_power) {
    out->sensed.power_w = total_w;
    status.values.emplace_back("power_w", absl::StrFormat("%.2f", total_w));
  } else {
    status.values.emplace_back("power_w", "baseline taken; power from the next sample");
  }
  return status;
}

}  // namespace adaspring::context
