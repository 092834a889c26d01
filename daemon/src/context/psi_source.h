// Pressure stall information averages from /proc/pressure/{cpu,memory,io}.
#ifndef ADASPRING_DAEMON_CONTEXT_PSI_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_PSI_SOURCE_H_

#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Reports the "some" avg10 percentage of each resource. Absent when the kernel has no PSI
// (CONFIG_PSI off, or psi=0 on the command line, where the files refuse with EOPNOTSUPP).
// Triggers on these files are armed by ContextMonitor, not here.
class PsiSource final : public Source {
 public:
  explicit PsiSource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "psi"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_PSI_SOURCE_H_
