// Finds the daemon's memory and cpu cgroup directories from /proc/self/cgroup and
// /proc/self/mountinfo, for cgroup v2, v1 and hybrid hierarchies.
#ifndef ADASPRING_DAEMON_CONTEXT_CGROUP_LOCATOR_H_
#define ADASPRING_DAEMON_CONTEXT_CGROUP_LOCATOR_H_

#include <string>

#include "absl/status/statusor.h"
#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

struct CgroupPaths {
  std::string v2_mount;         // cgroup2 mount point, "" when not mounted
  std::string v2_dir;           // the process's v2 cgroup directory ("" without v2)
  std::string v1_memory_mount;  // v1 hierarchy carrying the memory controller, or ""
  std::string v1_memory_dir;    // the process's v1 memory cgroup directory, or ""
  std::string v1_cpu_mount;     // v1 hierarchy carrying the cpu controller, or ""
  std::string v1_cpu_dir;       // the process's v1 cpu cgroup directory, or ""
};

// Reads /proc/self/cgroup ("0::/path" for v2, "N:...memory...:/path" and "N:...cpu...:/path"
// for v1) and maps the
// paths through the cgroup mounts listed in /proc/self/mountinfo (mount root stripped, as in
// containers with bind-mounted hierarchies). Without mountinfo the usual places are assumed
// (/sys/fs/cgroup, /sys/fs/cgroup/unified, /sys/fs/cgroup/memory, /sys/fs/cgroup/cpu).
// NOT_FOUND when
// /proc/self/cgroup is missing.
absl::StatusOr<CgroupPaths> LocateCgroups(FileSystem& fs);

// What a cgroup source named `source` reports when LocateCgroups failed with `located`:
// absent without /proc/self/cgroup, degraded (with the reason) otherwise.
SourceStatus LocateFailure(const std::string& source, const absl::Status& located);

// Joins a mount point and a cgroup path given relative to the mount's root.
std::string CgroupDir(const std::string& mount, const std::string& mount_root,
                      const std::string& cgroup_path);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_CGROUP_LOCATOR_H_
