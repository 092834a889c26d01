// Current and maximum CPU frequency from cpufreq.
#ifndef ADASPRING_DAEMON_CONTEXT_CPUFREQ_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_CPUFREQ_SOURCE_H_

#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Mean of /sys/devices/system/cpu/cpuN/cpufreq/scaling_cur_freq (cpuinfo_cur_freq when the
// scaling file is missing) and the highest cpuinfo_max_freq, kHz. A current frequency well
// below the maximum under load is how thermal throttling shows on boards without thermal
// zones. Absent in most VMs (no cpufreq driver).
class CpufreqSource final : public Source {
 public:
  explicit CpufreqSource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "cpufreq"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_CPUFREQ_SOURCE_H_
