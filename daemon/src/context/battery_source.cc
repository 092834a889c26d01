#include "context/battery_source.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

// energy_full is the gauge's estimate, which energy_now exceeds a little on a full battery:
// up to this the ratio counts as 100 %, above it the gauge is broken.
constexpr double kMaxOverfullPercent = 105;

// The charge from energy_now / energy_full (batteries without a capacity file). Errors name
// the file and the value.
absl::StatusOr<double> EnergyPercent(FileSystem& fs, const std::string& dir) {
  const std::string now_path = dir + "/energy_now";
  const std::string full_path = dir + "/energy_full";
  absl::StatusOr<double> now = ReadDouble(fs, now_path);
  if (!now.ok()) return now.status();
  absl::StatusOr<double> full = ReadDouble(fs, full_path);
  if (!full.ok()) return full.status();
  if (!(std::isfinite(*now) && *now >= 0))
    return absl::OutOfRangeError(absl::StrFormat("%s: implausible %g uWh", now_path, *now));
  if (!(std::isfinite(*full) && *full > 0))
    return absl::OutOfRangeError(absl::StrFormat("%s: implausible %g uWh", full_path, *full));
  const double percent = 100 * *now / *full;
  if (percent > kMaxOverfullPercent)
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: implausible %g uWh, %.0f %% of energy_full %g uWh", now_path, *now, percent, *full));
  return std::min(percent, 100.0);
}

}  // namespace

BatterySource::BatterySource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

SourceStatus BatterySource::Sample(SteadyTime, Readings* out) {
  constexpr char kSupplies[] = "/sys/class/power_supply";
  absl::StatusOr<std::vector<std::string>> entries = fs_->ListDirectory(kSupplies);
  if (absl::IsNotFound(entries.status()))
    return MakeStatus(name(), SourceState::kAbsent, "no /sys/class/power_supply");
  if (!entries.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(entries.status().message()));

  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  double capacity_sum = 0;
  int batteries = 0;
  bool have_ac_supply = false;
  bool ac_online = false;
  bool charging = false;
  // A supply that cannot be read costs only itself (another supply's broken driver must not
  // hide the battery); the problems are reported in the reason.
  std::vector<std::string> problems;
  for (const std::string& entry : *entries) {
    const std::string dir = absl::StrCat(kSupplies, "/", entry);
    absl::StatusOr<std::string> type = ReadAttribute(*fs_, dir + "/type");
    if (absl::IsNotFound(type.status())) continue;  // unplugged
    if (!type.ok()) {
      problems.emplace_back(type.status().message());
      continue;
    }
    if (*type == "Battery") {
      absl::StatusOr<std::string> scope = ReadAttribute(*fs_, dir + "/scope");
      if (scope.ok() && *scope == "Device") continue;
      std::string percent_path = dir + "/capacity";
      absl::StatusOr<double> percent = ReadDouble(*fs_, percent_path);
      if (absl::IsNotFound(percent.status()) && fs_->Exists(dir + "/energy_now")) {
        percent_path = dir + "/energy_now";
        percent = EnergyPercent(*fs_, dir);
      }
      if (!percent.ok()) {
        problems.emplace_back(percent.status().message());
        continue;
      }
      if (!(*percent >= 0 && *percent <= 100)) {  // also false for NaN
        problems.push_back(absl::StrFormat("%s: implausible %g %%", percent_path, *percent));
        continue;
      }
      absl::StatusOr<std::string> state = ReadAttribute(*fs_, dir + "/status");
      const std::string state_text = state.ok() ? *state : "Unknown";
      if (state_text == "Charging" || state_text == "Full") charging = true;
      capacity_sum += *percent;
      ++batteries;
      status.values.emplace_back(entry, absl::StrFormat("%.0f %% %s", *percent, state_text));
    } else if (*type == "Mains" || type->rfind("USB", 0) == 0 || *type == "Wireless") {
      have_ac_supply = true;
      absl::StatusOr<int64_t> online = ReadInt64(*fs_, dir + "/online");
      if (online.ok() && *online == 1) ac_online = true;
      status.values.emplace_back(
          entry, absl::StrCat(*type, online.ok() ? (*online ? " online" : " offline") : " ?"));
    }
  }
  if (batteries == 0) {
    if (!problems.empty()) {
      return MakeStatus(name(), SourceState::kDegraded, absl::StrJoin(problems, "; "));
    }
    out->sensed.on_ac = true;
    return MakeStatus(name(), SourceState::kAbsent,
                      have_ac_supply ? "no battery (mains only)" : "no battery");
  }
  if (!problems.empty()) {
    status.reason =
        ValidUtf8(absl::StrCat(problems.size(), " supply entr", problems.size() == 1 ? "y" : "ies",
                               " skipped: ", absl::StrJoin(problems, "; ")));
  }
  const bool on_ac = have_ac_supply ? ac_online : charging;
  out->has_battery = true;
  out->sensed.battery_percent = capacity_sum / batteries;
  out->sensed.on_ac = on_ac;
  status.values.emplace_back("on_ac", on_ac ? "yes" : "no");
  return status;
}

}  // namespace adaspring::context
