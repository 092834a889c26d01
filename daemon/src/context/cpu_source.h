// CPU busy fraction from /proc/stat deltas, and the CPU count.
#ifndef ADASPRING_DAEMON_CONTEXT_CPU_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_CPU_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// busy = 1 - (idle + iowait) / total over the jiffies between two samples, all CPUs together
// (steal counts as busy: the time is not ours to use). The first sample only takes the
// baseline. cpu_count is the number of "cpuN" lines (online CPUs).
class CpuSource final : public Source {
 public:
  explicit CpuSource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "cpu"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  struct Jiffies {
    uint64_t total = 0;
    uint64_t idle = 0;
  };
  std::shared_ptr<FileSystem> fs_;
  std::optional<Jiffies> previous_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_CPU_SOURCE_H_
