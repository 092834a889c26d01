#include "context/cgroup_locator.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

struct Mount {
  std::string root;
  std::string point;
};

struct CgroupMounts {
  bool found_mountinfo = false;
  Mount v2;
  Mount v1_memory;
  Mount v1_cpu;
};

CgroupMounts ParseMountinfo(FileSystem& fs) {
  CgroupMounts mounts;
  absl::StatusOr<std::string> content = fs.ReadFile("/proc/self/mountinfo");
  if (!content.ok()) return mounts;
  mounts.found_mountinfo = true;
  const std::vector<std::string> lines = absl::StrSplit(*content, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <type> <src>
    // <super options>"
    const std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    size_t dash = 0;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 1 >= fields.size()) continue;
    const std::string& type = fields[dash + 1];
    const Mount mount{fields[3], fields[4]};
    if (type == "cgroup2" && mounts.v2.point.empty()) {
      mounts.v2 = mount;
    } else if (type == "cgroup" && dash + 3 < fields.size()) {
      const std::vector<std::string> options = absl::StrSplit(fields[dash + 3], ',');
      for (const std::string& option : options) {
        if (option == "memory" && mounts.v1_memory.point.empty()) mounts.v1_memory = mount;
        if (option == "cpu" && mounts.v1_cpu.point.empty()) mounts.v1_cpu = mount;
      }
    }
  }
  return mounts;
}

}  // namespace

std::string CgroupDir(const std::string& mount, const std::string& mount_root,
                      const std::string& cgroup_path) {
  std::string relative = cgroup_path;
  if (mount_root != "/" && relative.rfind(mount_root, 0) == 0)
    relative = relative.substr(mount_root.size());
  if (relative.empty() || relative == "/") return mount;
  if (relative[0] != '/') relative = "/" + relative;
  return mount + relative;
}

absl::StatusOr<CgroupPaths> LocateCgroups(FileSystem& fs) {
  absl::StatusOr<std::string> content = fs.ReadFile("/proc/self/cgroup");
  if (!content.ok()) return content.status();
  std::string v2_path;
  std::string v1_path, v1_cpu_path;
  bool have_v2 = false;
  const std::vector<std::string> lines = absl::StrSplit(*content, '\n', absl::SkipEmpty());
  size_t parsed = 0;
  for (const std::string& line : lines) {
    const std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(':', 2));
    // "hierarchy-ID:controller-list:cgroup-path", the ID a decimal number.
    if (fields.size() != 3 || fields[0].empty() ||
        fields[0].find_first_not_of("0123456789") != std::string::npos || fields[2].empty() ||
        fields[2][0] != '/')
      continue;
    ++parsed;
    if (fields[0] == "0" && fields[1].empty()) {
      v2_path = fields[2];
      have_v2 = true;
      continue;
    }
    const std::vector<std::string> controllers = absl::StrSplit(fields[1], ',');
    for (const std::string& controller : controllers) {
      if (controller == "memory") v1_path = fields[2];
      if (controller == "cpu") v1_cpu_path = fields[2];
    }
  }

  if (parsed == 0) {
    // Not "no memory cgroup": the file says nothing readable about this process's cgroups.
    std::string first = lines.empty() ? "" : lines.front().substr(0, 60);
    return absl::DataLossError(
        lines.empty()
            ? std::string("/proc/self/cgroup is empty")
            : absl::StrCat("/proc/self/cgroup: no line reads ID:CONTROLLERS:PATH (first: '", first,
                           "')"));
  }
  CgroupMounts mounts = ParseMountinfo(fs);
  if (!mounts.found_mountinfo) {
    // Conventional layouts: unified at /sys/fs/cgroup, hybrid adds /sys/fs/cgroup/unified.
    if (fs.Exists("/sys/fs/cgroup/cgroup.controllers")) {
      mounts.v2 = Mount{"/", "/sys/fs/cgroup"};
    } else if (fs.Exists("/sys/fs/cgroup/unified/cgroup.controllers")) {
      mounts.v2 = Mount{"/", "/sys/fs/cgroup/unified"};
    }
    if (fs.Exists("/sys/fs/cgroup/memory")) mounts.v1_memory = Mount{"/", "/sys/fs/cgroup/memory"};
    if (fs.Exists("/sys/fs/cgroup/cpu")) mounts.v1_cpu = Mount{"/", "/sys/fs/cgroup/cpu"};
  }
  CgroupPaths paths;
  paths.v2_mount = mounts.v2.point;
  if (have_v2 && !paths.v2_mount.empty())
    paths.v2_dir = CgroupDir(mounts.v2.point, mounts.v2.root, v2_path);
  paths.v1_memory_mount = mounts.v1_memory.point;
  if (!v1_path.empty() && !paths.v1_memory_mount.empty())
    paths.v1_memory_dir = CgroupDir(mounts.v1_memory.point, mounts.v1_memory.root, v1_path);
  paths.v1_cpu_mount = mounts.v1_cpu.point;
  if (!v1_cpu_path.empty() && !paths.v1_cpu_mount.empty())
    paths.v1_cpu_dir = CgroupDir(mounts.v1_cpu.point, mounts.v1_cpu.root, v1_cpu_path);
  return paths;
}

SourceStatus LocateFailure(const std::string& source, const absl::Status& located) {
  if (absl::IsNotFound(located))
    return MakeStatus(source, SourceState::kAbsent, "no /proc/self/cgroup");
  return MakeStatus(source, SourceState::kDegraded, std::string(located.message()));
}

}  // namespace adaspring::context
