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

}  // namespace

CgroupCpuSource::CgroupCpuSource(std::shared_ptr<FileSystem> fs, std::function<bool()> realtime,
                                 int cpus)
    : fs_(std::move(fs)),
      realtime_(realtime ? std::move(realtime) : std::function<bool()>(ThisProcessIsRealtime)),
      cpus_(cpus > 0 ? cpus : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {
}

SourceStatus CgroupCpuSource::Sample(SteadyTime, Readings* out) {
  absl::StatusOr<CgroupPaths> located = LocateCgroups(*fs_);
  if (absl::IsNotFound(located.status()))
    return MakeStatus(name(), SourceState::kAbsent, "no /proc/self/cgroup");
  if (!located.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(located.status().message()));
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
      for (const std::string& level : Levels(paths.v1_cpu_dir, paths.v1_cpu_mount, false)) {
        const std::string runtime_file = level + "/cpu.rt_runtime_us";
        if (!fs_->Exists(runtime_file)) continue;  // a kernel without real-time group scheduling
        absl::StatusOr<int64_t> runtime = ReadInt64InRange(*fs_, runtime_file, -1, kMaxMicros);
        if (!runtime.ok()) return degraded(runtime.status());
        if (*runtime < 0) continue;  // -1: unlimited
        absl::StatusOr<int64_t> period =
            ReadInt64InRange(*fs_, level + "/cpu.rt_period_us", 1, kMaxMicros);
        if (!period.ok()) return degraded(period.status());
        Tighten(&limit, static_cast<double>(*runtime) / static_cast<double>(*period) * cpus_,
                runtime_file);
      }
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
      absl::StatusOr<int64_t> period = ParseInt64(fields[1], file);
      if (period.ok()) {
        if (absl::Status range = CheckRange(*period, 1, kMaxMicros, file); !range.ok())
          period = range;
      }
      if (!period.ok()) return degraded(period.status());
      if (fields[0] == "max") continue;
      absl::StatusOr<int64_t> quota = ParseInt64(fields[0], file);
      if (quota.ok()) {
        if (absl::Status range = CheckRange(*quota, 1, kMaxMicros, file); !range.ok())
          quota = range;
      }
      if (!quota.ok()) return degraded(quota.status());
      Tighten(&limit, static_cast<double>(*quota) / static_cast<double>(*period), file);
    }
  } else {
    status.values.emplace_back("version", "v1");
    status.values.emplace_back("dir", paths.v1_cpu_dir);
    for (const std::string& level : Levels(paths.v1_cpu_dir, paths.v1_cpu_mount, true)) {
      const std::string quota_file = level + "/cpu.cfs_quota_us";
      if (!fs_->Exists(quota_file)) continue;
      absl::StatusOr<int64_t> quota = ReadInt64InRange(*fs_, quota_file, -1, kMaxMicros);
      if (!quota.ok()) return degraded(quota.status());
      if (*quota < 0) continue;  // -1: no quota
      absl::StatusOr<int64_t> period =
          ReadInt64InRange(*fs_, level + "/cpu.cfs_period_us", 1, kMaxMicros);
      if (!period.ok()) return degraded(period.status());
      Tighten(&limit, static_cast<double>(*quota) / static_cast<double>(*period), quota_file);
    }
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
