#include "context/cgroup_source.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

// cgroup v1 reports "no limit" as PAGE_COUNTER_MAX in bytes (9223372036854771712 on 4 KiB
// pages); anything this large is no limit a device could reach.
constexpr int64_t kV1Unlimited = int64_t{1} << 62;

std::string LimitText(const std::optional<int64_t>& limit) {
  return limit ? FormatBytes(*limit) : "unlimited";
}

}  // namespace

CgroupSource::CgroupSource(std::shared_ptr<FileSystem> fs, std::string configured_path)
    : fs_(std::move(fs)), configured_path_(std::move(configured_path)) {}

std::string CgroupSource::name() const {
  return configured_path_.empty() ? "cgroup" : "cgroup:" + configured_path_;
}

SourceStatus CgroupSource::Sample(SteadyTime, Readings* out) {
  // Located at every sample, as the cgroup-cpu source does: the daemon may be moved to another
  // cgroup that exists as well as the old one (systemctl set-property, a supervisor).
  absl::StatusOr<CgroupPaths> located = LocateCgroups(*fs_);
  if (!located.ok()) return LocateFailure(name(), located.status());
  const CgroupPaths& paths = *located;
  std::string v2_dir = paths.v2_dir;
  std::string v1_dir = paths.v1_memory_dir;
  if (!configured_path_.empty()) {
    v2_dir = paths.v2_mount.empty() ? "" : CgroupDir(paths.v2_mount, "/", configured_path_);
    v1_dir = paths.v1_memory_mount.empty()
                 ? ""
                 : CgroupDir(paths.v1_memory_mount, "/", configured_path_);
  }
  SourceStatus status;
  std::string note;
  if (!v2_dir.empty() && fs_->Exists(v2_dir + "/memory.current")) {
    status = SampleV2(v2_dir, paths.v2_mount, out);
  } else {
    if (!paths.v2_mount.empty())
      note = absl::StrCat("cgroup v2 at ", paths.v2_mount,
                          " has no memory controller for this cgroup");
    if (!v1_dir.empty() && fs_->Exists(v1_dir + "/memory.usage_in_bytes")) {
      status = SampleV1(v1_dir, out);
    } else {
      const SourceState state =
          configured_path_.empty() ? SourceState::kAbsent : SourceState::kDegraded;
      const std::string what = configured_path_.empty()
                                   ? "no memory cgroup"
                                   : absl::StrCat("cgroup ", configured_path_, " not found");
      return MakeStatus(name(), state, note.empty() ? what : absl::StrCat(what, " (", note, ")"));
    }
  }
  if (!note.empty()) status.values.emplace_back("note", note);
  return status;
}

SourceStatus CgroupSource::SampleV2(const std::string& dir, const std::string& mount,
                                    Readings* out) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  absl::StatusOr<int64_t> current = ReadInt64InRange(*fs_, dir + "/memory.current", 0, kMax);
  if (!current.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(current.status().message()));
  // The effective limit is the tightest memory.max on the way up to the mount root (which has
  // no memory.max).
  std::optional<int64_t> limit;
  for (std::string level = dir; level.size() > mount.size();
       level = level.substr(0, level.rfind('/'))) {
    absl::StatusOr<std::string> max = ReadAttribute(*fs_, level + "/memory.max");
    if (absl::IsNotFound(max.status())) continue;
    if (!max.ok())
      return MakeStatus(name(), SourceState::kDegraded, std::string(max.status().message()));
    if (*max == "max") continue;
    absl::StatusOr<int64_t> bytes = ParseInt64(*max, level + "/memory.max");
    if (bytes.ok()) {
      if (absl::Status range = CheckRange(*bytes, 0, kMax, level + "/memory.max"); !range.ok())
        bytes = range;
    }
    if (!bytes.ok())
      return MakeStatus(name(), SourceState::kDegraded, std::string(bytes.status().message()));
    if (!limit || *bytes < *limit) limit = *bytes;
  }
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  status.values.emplace_back("version", "v2");
  status.values.emplace_back("dir", dir);
  status.values.emplace_back("memory.current", FormatBytes(*current));
  status.values.emplace_back("memory.max", LimitText(limit));
  if (absl::StatusOr<std::string> events = fs_->ReadFile(dir + "/memory.events"); events.ok()) {
    const auto counts = ParseKeyedNumbers(*events);
    auto count = [&](const char* key) {
      auto it = counts.find(key);
      return it == counts.end() ? int64_t{0} : it->second;
    };
    status.values.emplace_back("memory.events",
                               absl::StrFormat("high=%d max=%d oom=%d oom_kill=%d", count("high"),
                                               count("max"), count("oom"), count("oom_kill")));
  }
  if (absl::StatusOr<std::string> psi = fs_->ReadFile(dir + "/memory.pressure"); psi.ok()) {
    if (absl::StatusOr<double> avg10 = ParsePsiSomeAvg10(*psi, dir + "/memory.pressure");
        avg10.ok())
      status.values.emplace_back("memory.pressure", absl::StrFormat("some avg10=%.2f", *avg10));
  }
  out->memory.push_back(MemoryBound{name(), limit, *current, std::nullopt});
  return status;
}

SourceStatus CgroupSource::SampleV1(const std::string& dir, Readings* out) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  absl::StatusOr<int64_t> usage = ReadInt64InRange(*fs_, dir + "/memory.usage_in_bytes", 0, kMax);
  absl::StatusOr<int64_t> raw_limit =
      ReadInt64InRange(*fs_, dir + "/memory.limit_in_bytes", 0, kMax);
  const absl::Status bad = !usage.ok() ? usage.status() : raw_limit.status();
  if (!bad.ok()) return MakeStatus(name(), SourceState::kDegraded, std::string(bad.message()));
  int64_t effective = *raw_limit;
  // A parent's limit binds too; v1 sums it up in memory.stat.
  if (absl::StatusOr<std::string> stat = fs_->ReadFile(dir + "/memory.stat"); stat.ok()) {
    const auto values = ParseKeyedNumbers(*stat);
    auto it = values.find("hierarchical_memory_limit");
    if (it != values.end() && it->second > 0 && it->second < effective) effective = it->second;
  }
  std::optional<int64_t> limit;
  if (effective < kV1Unlimited) limit = effective;
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  status.values.emplace_back("version", "v1");
  status.values.emplace_back("dir", dir);
  status.values.emplace_back("memory.usage_in_bytes", FormatBytes(*usage));
  status.values.emplace_back(
      "memory.limit_in_bytes",
      limit ? FormatBytes(*limit) : absl::StrCat("unlimited (", *raw_limit, ")"));
  if (absl::StatusOr<int64_t> failcnt = ReadInt64(*fs_, dir + "/memory.failcnt"); failcnt.ok())
    status.values.emplace_back("memory.failcnt", absl::StrCat(*failcnt));
  out->memory.push_back(MemoryBound{name(), limit, *usage, std::nullopt});
  return status;
}

}  // namespace adaspring::context
