// The CPU bandwidth the daemon's cgroup allows it: a quota set by systemd's CPUQuota=, a
// container runtime's --cpus, or a board's thermal or power manager capping the service.
#ifndef ADASPRING_DAEMON_CONTEXT_CGROUP_CPU_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_CGROUP_CPU_SOURCE_H_

#include <functional>
#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Sets cpu_quota_cores to the tightest limit on the way from the daemon's cgroup up to the
// hierarchy's root, in cores:
// - threads under the normal policy: v2 cpu.max ("QUOTA PERIOD", "max PERIOD" = none), else
//   v1 cpu.cfs_quota_us / cpu.cfs_period_us (-1 = none);
// - threads under a real-time policy (SCHED_RR/FIFO, e.g. CPUSchedulingPolicy=rr): the CFS
//   quota does not apply to them; v1 cpu.rt_runtime_us / cpu.rt_period_us does, per CPU
//   (x the CPU count), in every cgroup below the root (the root's is the system-wide
//   real-time throttle, not a limit on the daemon). cgroup v2 has no real-time limit.
// The cgroup is looked up at every sample: the daemon may be moved while it runs.
class CgroupCpuSource final : public Source {
 public:
  // `realtime`: whether the daemon's threads run under a real-time policy (default: asks
  // sched_getscheduler for this process). `cpus`: online CPUs (default: the machine's).
  explicit CgroupCpuSource(std::shared_ptr<FileSystem> fs, std::function<bool()> realtime = {},
                           int cpus = 0);
  std::string name() const override { return "cgroup-cpu"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  std::shared_ptr<FileSystem> fs_;
  std::function<bool()> realtime_;
  int cpus_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_CGROUP_CPU_SOURCE_H_
