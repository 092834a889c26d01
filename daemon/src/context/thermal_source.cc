#include "context/thermal_source.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

constexpr char kThermal[] = "/sys/class/thermal";
// Readings outside this range come from disabled or broken sensors, not from a CPU.
constexpr double kMinPlausibleC = -60;
constexpr double kMaxPlausibleC = 250;

// Lowest passive/hot/critical trip of a zone, degrees C; nullopt when it has none. Trips at or
// below 0 C are unset ones and skipped; a trip that cannot be read or lies above the plausible
// range is skipped and the first such is described in `problem`.
std::optional<double> LowestTrip(FileSystem& fs, const std::string& dir,
                                 const std::vector<std::string>& files, std::string* problem) {
  std::optional<double> lowest;
  for (const std::string& file : files) {
    if (file.rfind("trip_point_", 0) != 0 || !absl::EndsWith(file, "_type")) continue;
    absl::StatusOr<std::string> type = ReadAttribute(fs, dir + "/" + file);
    if (!type.ok() || (*type != "passive" && *type != "hot" && *type != "critical")) continue;
    const std::string temp_path = dir + "/" + file.substr(0, file.size() - 5) + "_temp";
    absl::StatusOr<int64_t> milli_c = ReadInt64(fs, temp_path);
    if (!milli_c.ok()) {
      if (problem->empty()) *problem = std::string(milli_c.status().message());
      continue;
    }
    if (*milli_c <= 0) continue;  // unset
    const double c = static_cast<double>(*milli_c) / 1000;
    if (c > kMaxPlausibleC) {
      if (problem->empty())
        *problem = absl::StrCat(temp_path, ": implausible ", *milli_c, " millidegrees, ignored");
      continue;
    }
    if (!lowest || c < *lowest) lowest = c;
  }
  return lowest;
}

}  // namespace

ThermalSource::ThermalSource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

SourceStatus ThermalSource::Sample(SteadyTime, Readings* out) {
  absl::StatusOr<std::vector<std::string>> entries = fs_->ListDirectory(kThermal);
  if (absl::IsNotFound(entries.status()))
    return MakeStatus(name(), SourceState::kAbsent, "no /sys/class/thermal");
  if (!entries.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(entries.status().message()));

  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  int zones = 0;
  int skipped = 0;  // unreadable or implausible zones
  std::string first_error;
  std::optional<double> hottest_c;
  std::string hottest_dir;
  for (const std::string& entry : *entries) {
    if (entry.rfind("thermal_zone", 0) != 0) continue;
    ++zones;
    const std::string dir = absl::StrCat(kThermal, "/", entry);
    absl::StatusOr<int64_t> milli_c = ReadInt64(*fs_, dir + "/temp");
    if (absl::IsNotFound(milli_c.status())) {
      status.values.emplace_back(entry, "vanished");
      continue;
    }
    absl::StatusOr<std::string> type = ReadAttribute(*fs_, dir + "/type");
    const std::string type_name = type.ok() ? *type : "?";
    if (!milli_c.ok()) {
      const std::string error(milli_c.status().message());
      if (first_error.empty()) first_error = error;
      ++skipped;
      status.values.emplace_back(entry, absl::StrCat(type_name, " unreadable: ", error));
      continue;
    }
    const double c = static_cast<double>(*milli_c) / 1000;
    if (c < kMinPlausibleC || c > kMaxPlausibleC) {
      const std::string error = absl::StrCat(dir, "/temp: implausible ", *milli_c, " millidegrees");
      if (first_error.empty()) first_error = error;
      ++skipped;
      status.values.emplace_back(entry, absl::StrCat(type_name, " ", error));
      continue;
    }
    status.values.emplace_back(entry, absl::StrFormat("%s %.1f C", type_name, c));
    if (!hottest_c || c > *hottest_c) {
      hottest_c = c;
      hottest_dir = dir;
    }
  }
  if (zones == 0) return MakeStatus(name(), SourceState::kAbsent, "no thermal zones");
  if (!hottest_c) {
    return MakeStatus(name(), SourceState::kDegraded,
                      first_error.empty() ? "every thermal zone vanished" : first_error);
  }
  out->sensed.temperature_c = *hottest_c;
  // The hottest readable zone is reported; a skipped zone (which may be hotter) is named.
  if (skipped > 0)
    status.reason = absl::StrCat(skipped, " of ", zones, " zones skipped: ", first_error);
  absl::StatusOr<std::vector<std::string>> files = fs_->ListDirectory(hottest_dir);
  if (files.ok()) {
    std::string trip_problem;
    if (std::optional<double> trip = LowestTrip(*fs_, hottest_dir, *files, &trip_problem)) {
      out->sensed.temperature_trip_c = *trip;
      status.values.emplace_back("trip_c", absl::StrFormat("%.1f", *trip));
    }
    if (!trip_problem.empty()) {
      status.values.emplace_back("trip_note", trip_problem);
      if (status.reason.empty()) status.reason = trip_problem;
    }
  }
  return status;
}

}  // namespace adaspring::context
