// Memory limit and usage of a cgroup: the daemon's own, or a configured one (e.g. the slice
// the client apps run in), under cgroup v2 or v1.
#ifndef ADASPRING_DAEMON_CONTEXT_CGROUP_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_CGROUP_SOURCE_H_

#include <memory>
#include <optional>
#include <string>

#include "context/cgroup_locator.h"
#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// v2: memory.current, memory.max ("max" = unlimited; the effective limit is the tightest
// memory.max of the cgroup and its ancestors), memory.events (high/max/oom/oom_kill counts)
// and memory.pressure (the cgroup's PSI). v1: memory.usage_in_bytes, memory.limit_in_bytes
// (values >= 2^62 mean unlimited: the kernel reports PAGE_COUNTER_MAX rounded to pages) and
// hierarchical_memory_limit from memory.stat. v2 is preferred when the memory controller is
// enabled for the cgroup (hybrid systems often mount v2 without it).
//
// Adds one MemoryBound named like the source. The cgroup location is resolved at every sample
// (/proc/self/cgroup and mountinfo), so a daemon moved to another cgroup is followed at once.
class CgroupSource final : public Source {
 public:
  // `configured_path` empty: the daemon's own cgroup, source name "cgroup". Otherwise a
  // cgroup path such as "/apps.slice" looked up in the v2 then the v1 memory hierarchy,
  // source name "cgroup:/apps.slice".
  CgroupSource(std::shared_ptr<FileSystem> fs, std::string configured_path = "");
  std::string name() const override;
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  SourceStatus SampleV2(const std::string& dir, const std::string& mount, Readings* out);
  SourceStatus SampleV1(const std::string& dir, Readings* out);

  std::shared_ptr<FileSystem> fs_;
  std::string configured_path_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_CGROUP_SOURCE_H_
