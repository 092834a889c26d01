#include "context/cgroup_cpu_source.h"

#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "context/cgroup_locator.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

constexpr int64_t kMaxMicros = int64_t{1} << 40;

bool ThisProcessIsRealtime() {
  const int policy = sched_getscheduler(0);
  return policy == SCHED_RR || policy == SCHED_FIFO;
}

// The cgroup directories from `dir` up to `mount`, the mount itself included or not.
std::vector<std::string> Levels(const std::string& dir, const std::string& mount,
                                bool include_mount) {
  std::vector<std::string> levels;
  std::string level = dir;
  while (!level.empty() && level.size() >= mount.size()) {
    if (level.size() == mount.size()) {
      if (include_mount) levels.push_back(level);
      break;
    }
    levels.push_back(level);
    const size_t slash = level.rfind('/');
    if (slash == std::string::npos) break;
    level.resize(slash);
  }
  return levels;
}

struct Limit {
  std::optional<double> cores;  // nullopt: no limit
  std::string where;            // the file that sets the tightest one
};

void Tighten(Limit* limit, double cores, const std::string& where) {
  if (!limit->cores || cores < *limit->cores) {
    limit->cores = cores;
    limit->where = where;
  }
}

// cgroup v1 bandwidth at each level: QUOTA_FILE / PERIOD_FILE (microseconds; a quota of -1 or
// a missing file means no limit there) x `scale`, tightened into `limit`.
absl::Status TightenV1(FileSystem& fs, const std::vector<std::string>& levels,
                       const char* quota_name, const char* period_name, double scale,
                       Limit* limit) {
  for (const std::string& level : levels) {
    const std::string quota_file = absl::StrCat(level, "/", quota_name);
    if (!fs.Exists(quota_file)) continue;  // e.g. a kernel without real-time group scheduling
    absl::StatusOr<int64_t> quota = ReadInt64InRange(fs, quota_file, -1, kMaxMicros);
    if (!quota.ok()) return quota.status();
    if (*quota < 0) continue;
    absl::StatusOr<int64_t> period =
        ReadInt64InRange(fs, absl::StrCat(level, "/", period_name), 1, kMaxMicros);
    if (!period.ok()) return period.status();
    Tighten(limit, static_cast<double>(*quota) / static_cast<double>(*period) * scale, quota_file);
  }
  return absl::OkStatus();
}

// A number of microseconds from cpu.max, 1 .. kMaxMicros.
absl::StatusOr<int64_t> ParseMicros(const std::string& text, const std::string& file) {
  absl::StatusOr<int64_t> v = ParseInt64(text, file);
  if (!v.ok()) return v;
  if (absl::Status range = CheckRange(*v, 1, kMaxMicros, file); !range.ok()) return range;
  return v;
}

}  // namespace

CgroupCpuSource::CgroupCpuSource(std::shared_ptr<FileSystem> fs, std::function<bool()> realtime,
                                 int cpus)
    : fs_(std::move(fs)),
      realtime_(realtime ? std::move(realtime) : std::function<bool()>(ThisProcessIsRealtime)),
      cpus_(cpus > 0 ? cpus : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {
}

SourceStatus CgroupCpuSource::Sample(SteadyTime, Readings* out) {
  absl::StatusOr<CgroupPaths> located = LocateCgroups(*fs_);
  if (!located.ok()) return LocateFailure(name(), located.status());
  const CgroupPaths& paths = *located;
  const bool realtime = realtime_();
  const bool v2 = !paths.v2_dir.empty() && fs_->Exists(paths.v2_dir + "/cpu.max");
  const bool v1 = !paths.v1_cpu_dir.empty() && fs_->Exists(paths.v1_cpu_dir + "/cpu.cfs_quota_us");
  if (!v2 && !v1) return MakeStatus(name(), SourceState::kAbsent, "no cpu cgroup controller");

  Limit limit;
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  auto degraded = [&](const absl::Status& s) {
    return MakeStatus(name(), SourceState::kDegraded, std::string(s.message()));
  };
  if (realtime) {
    status.values.emplace_back("policy", "real-time");
    if (!v1) {
      status.values.emplace_back("note", "cgroup v2 has no real-time bandwidth limit");
    } else {
      status.values.emplace_back("version", "v1");
      status.values.emplace_back("dir", paths.v1_cpu_dir);
      // Below the root only: the root's runtime is the system-wide real-time throttle.
      if (absl::Status s = TightenV1(*fs_, Levels(paths.v1_cpu_dir, paths.v1_cpu_mount, false),
                                     "cpu.rt_runtime_us", "cpu.rt_period_us", cpus_, &limit);
          !s.ok())
        return degraded(s);
    }
  } else if (v2) {
    status.values.emplace_back("version", "v2");
    status.values.emplace_back("dir", paths.v2_dir);
    for (const std::string& level : Levels(paths.v2_dir, paths.v2_mount, false)) {
      const std::string file = level + "/cpu.max";
      absl::StatusOr<std::string> max = ReadAttribute(*fs_, file);
      if (absl::IsNotFound(max.status())) continue;
      if (!max.ok()) return degraded(max.status());
      const std::vector<std::string> fields = absl::StrSplit(*max, ' ', absl::SkipEmpty());
      if (fields.size() != 2)
        return degraded(absl::DataLossError(absl::StrCat(
            file, ": expected 'QUOTA PERIOD' or 'max PERIOD', got '", max->substr(0, 40), "'")));
      absl::StatusOr<int64_t> period = ParseMicros(fields[1], file);
      if (!period.ok()) return degraded(period.status());
      if (fields[0] == "max") continue;
      absl::StatusOr<int64_t> quota = ParseMicros(fields[0], file);
      if (!quota.ok()) return degraded(quota.status());
      Tighten(&limit, static_cast<double>(*quota) / static_cast<double>(*period), file);
    }
  } else {
    status.values.emplace_back("version", "v1");
    status.values.emplace_back("dir", paths.v1_cpu_dir);
    if (absl::Status s = TightenV1(*fs_, Levels(paths.v1_cpu_dir, paths.v1_cpu_mount, true),
                                   "cpu.cfs_quota_us", "cpu.cfs_period_us", 1.0, &limit);
        !s.ok())
      return degraded(s);
  }
  if (limit.cores) {
    status.values.emplace_back("quota",
                               absl::StrFormat("%.2f cores (%s)", *limit.cores, limit.where));
    out->sensed.cpu_quota_cores = *limit.cores;
  } else {
    status.values.emplace_back("quota", "none");
  }
  return status;
}

}  // namespace adaspring::context
