#include "context/cpufreq_source.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

// 100 GHz: anything above is a broken driver, not a CPU. With this bound the sum over CPUs
// cannot overflow.
constexpr int64_t kMaxPlausibleKhz = 100'000'000;

bool IsCpuDir(const std::string& entry) {
  return entry.size() > 3 && entry.rfind("cpu", 0) == 0 &&
         std::all_of(entry.begin() + 3, entry.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

CpufreqSource::CpufreqSource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

SourceStatus CpufreqSource::Sample(SteadyTime, Readings* out) {
  constexpr char kCpus[] = "/sys/devices/system/cpu";
  absl::StatusOr<std::vector<std::string>> entries = fs_->ListDirectory(kCpus);
  if (absl::IsNotFound(entries.status()))
    return MakeStatus(name(), SourceState::kAbsent, "no /sys/devices/system/cpu");
  if (!entries.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(entries.status().message()));
  int64_t sum_khz = 0;
  int64_t max_khz = 0;
  int with_cpufreq = 0;
  for (const std::string& entry : *entries) {
    if (!IsCpuDir(entry)) continue;
    const std::string dir = absl::StrCat(kCpus, "/", entry, "/cpufreq");
    if (!fs_->Exists(dir)) continue;
    absl::StatusOr<int64_t> cur =
        ReadInt64InRange(*fs_, dir + "/scaling_cur_freq", 1, kMaxPlausibleKhz, " kHz");
    if (absl::IsNotFound(cur.status()))
      cur = ReadInt64InRange(*fs_, dir + "/cpuinfo_cur_freq", 1, kMaxPlausibleKhz, " kHz");
    absl::StatusOr<int64_t> max =
        ReadInt64InRange(*fs_, dir + "/cpuinfo_max_freq", 1, kMaxPlausibleKhz, " kHz");
    const absl::Status bad = !cur.ok() ? cur.status() : max.status();
    if (!bad.ok()) return MakeStatus(name(), SourceState::kDegraded, std::string(bad.message()));
    sum_khz += *cur;
    max_khz = std::max(max_khz, *max);
    ++with_cpufreq;
  }
  if (with_cpufreq == 0)
    return MakeStatus(name(), SourceState::kAbsent,
                      "no cpufreq directories (VM, or no cpufreq driver loaded)");
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  out->sensed.cpu_freq_khz = sum_khz / with_cpufreq;
  out->sensed.cpu_max_freq_khz = max_khz;
  status.values.emplace_back("cur_khz", absl::StrCat(sum_khz / with_cpufreq));
  status.values.emplace_back("max_khz", absl::StrCat(max_khz));
  status.values.emplace_back("cpus", absl::StrCat(with_cpufreq));
  return status;
}

}  // namespace adaspring::context
