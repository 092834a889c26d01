// Machine-wide memory from /proc/meminfo: the bound no cgroup limit can lift.
#ifndef ADASPRING_DAEMON_CONTEXT_MEMINFO_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_MEMINFO_SOURCE_H_

#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Adds a MemoryBound with limit MemTotal and available MemAvailable. Kernels before 3.14 have
// no MemAvailable; then MemFree + Buffers + Cached approximates it (noted in the values).
class MeminfoSource final : public Source {
 public:
  explicit MeminfoSource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "meminfo"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_MEMINFO_SOURCE_H_
