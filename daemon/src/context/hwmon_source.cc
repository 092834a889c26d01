#include "context/hwmon_source.h"

#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

constexpr char kHwmon[] = "/sys/class/hwmon";

// Channel numbers N of files "<prefix>N_input" in a directory listing.
std::set<int> Channels(const std::vector<std::string>& files, const std::string& prefix) {
  std::set<int> channels;
  for (const std::string& file : files) {
    if (file.rfind(prefix, 0) != 0 || !absl::EndsWith(file, "_input")) continue;
    const std::string digits = file.substr(prefix.size(), file.size() - prefix.size() - 6);
    int n = 0;
    if (!digits.empty() && absl::SimpleAtoi(digits, &n)) channels.insert(n);
  }
  return channels;
}

bool IsInputRail(const std::string& label) {
  const std::string lower = absl::AsciiStrToLower(label);
  return lower == "vdd_in" || lower == "in" || lower == "sys" || lower == "vin" ||
         absl::StrContains(lower, "total") || absl::StrContains(lower, "board");
}

struct Rail {
  std::string label;
  double watts = 0;
};

}  // namespace

HwmonSource::HwmonSource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

SourceStatus HwmonSource::Sample(SteadyTime, Readings* out) {
  absl::StatusOr<std::vector<std::string>> devices = fs_->ListDirectory(kHwmon);
  if (absl::IsNotFound(devices.status()))
    return MakeStatus(name(), SourceState::kAbsent, "no /sys/class/hwmon");
  if (!devices.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(devices.status().message()));

  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  std::vector<std::string> other_devices;
  std::string first_error;  // a device that could not be listed (EACCES, ...)
  double total_w = 0;
  int metered = 0;
  for (const std::string& device : *devices) {
    const std::string dir = absl::StrCat(kHwmon, "/", device);
    absl::StatusOr<std::vector<std::string>> files = fs_->ListDirectory(dir);
    if (absl::IsNotFound(files.status())) continue;  // unplugged between the two listings
    if (!files.ok()) {
      if (first_error.empty()) first_error = std::string(files.status().message());
      status.values.emplace_back(device, std::string(files.status().message()));
      continue;
    }
    absl::StatusOr<std::string> chip = ReadAttribute(*fs_, dir + "/name");
    const std::string chip_name = chip.ok() ? *chip : device;
    const std::set<int> power = Channels(*files, "power");
    std::set<int> pairs;
    if (power.empty()) {
      const std::set<int> volts = Channels(*files, "in");
      for (int n : Channels(*files, "curr"))
        if (volts.count(n)) pairs.insert(n);
    }
    if (power.empty() && pairs.empty()) {
      other_devices.push_back(chip_name);
      continue;
    }
    std::vector<Rail> rails;
    auto label_of = [&](const std::string& prefix, int n) {
      absl::StatusOr<std::string> label =
          ReadAttribute(*fs_, absl::StrCat(dir, "/", prefix, n, "_label"));
      return label.ok() ? *label : absl::StrCat(prefix, n);
    };
    // A negative reading, or one above kMaxPlausibleWatts, is a broken meter: degraded.
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    auto implausible = [&](const std::string& what, double watts) {
      return MakeStatus(name(), SourceState::kDegraded,
                        absl::StrFormat("%s: implausible %g W (expected at most %.0f W)", what,
                                        watts, kMaxPlausibleWatts));
    };
    for (int n : power) {
      const std::string path = absl::StrCat(dir, "/power", n, "_input");
      absl::StatusOr<int64_t> uw = ReadInt64InRange(*fs_, path, 0, kMax, " uW");
      if (!uw.ok())
        return MakeStatus(name(), SourceState::kDegraded, std::string(uw.status().message()));
      const double watts = static_cast<double>(*uw) / 1e6;
      if (watts > kMaxPlausibleWatts) return implausible(path, watts);
      rails.push_back(Rail{label_of("power", n), watts});
    }
    for (int n : pairs) {
      const std::string in_path = absl::StrCat(dir, "/in", n, "_input");
      const std::string curr_path = absl::StrCat(dir, "/curr", n, "_input");
      absl::StatusOr<int64_t> mv = ReadInt64InRange(*fs_, in_path, 0, kMax, " mV");
      absl::StatusOr<int64_t> ma = ReadInt64InRange(*fs_, curr_path, 0, kMax, " mA");
      const absl::Status bad = !mv.ok() ? mv.status() : ma.status();
      if (!bad.ok()) return MakeStatus(name(), SourceState::kDegraded, std::string(bad.message()));
      const double watts = static_cast<double>(*mv) * static_cast<double>(*ma) / 1e6;
      if (watts > kMaxPlausibleWatts)
        return implausible(
            absl::StrCat(in_path, " (", *mv, " mV) x curr", n, "_input (", *ma, " mA)"), watts);
      rails.push_back(Rail{label_of("in", n), watts});
    }
    double device_w = 0;
    const Rail* input = nullptr;
    for (const Rail& rail : rails) {
      device_w += rail.watts;
      if (input == nullptr && IsInputRail(rail.label)) input = &rail;
      status.values.emplace_back(absl::StrCat(chip_name, ".", rail.label),
                                 absl::StrFormat("%.3f W", rail.watts));
    }
    if (input != nullptr) device_w = input->watts;
    total_w += device_w;
    ++metered;
  }
  if (metered == 0) {
    if (!first_error.empty()) return MakeStatus(name(), SourceState::kDegraded, first_error);
    return MakeStatus(name(), SourceState::kAbsent,
                      other_devices.empty()
                          ? "no hwmon devices"
                          : absl::StrCat("no power sensors among hwmon devices (",
                                         absl::StrJoin(other_devices, ", "), ")"));
  }
  status.reason = first_error;  // power from the readable devices; the other one is named
  if (!out->sensed.power_w) out->sensed.power_w = total_w;  // RAPL, when present, wins
  status.values.emplace_back("power_w", absl::StrFormat("%.3f", total_w));
  return status;
}

}  // namespace adaspring::context
