// One context source (RAPL, thermal, cgroup, ...): reads its files through a FileSystem and
// adds what it found to a Readings.
#ifndef ADASPRING_DAEMON_CONTEXT_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_SOURCE_H_

#include <chrono>
#include <optional>
#include <string>

#include "context/readings.h"
#include "context/snapshot.h"

namespace adaspring::context {

using SteadyTime = std::chrono::steady_clock::time_point;

class Source {
 public:
  virtual ~Source() = default;

  // Stable name reported in SourceStatus.name ("rapl", "cgroup", ...).
  virtual std::string name() const = 0;

  // Reads the source once at monotonic time `now` (sources that report rates keep the
  // previous sample). Never fails: a missing, unreadable or garbled file yields an absent or
  // degraded status with the reason, and the source then adds nothing to `out`.
  // Not thread-safe: the monitor calls it from one thread at a time; it may block for as long
  // as the FileSystem blocks.
  virtual SourceStatus Sample(SteadyTime now, Readings* out) = 0;

  // When the source's values are known to change next (a replayed trace), so the monitor can
  // publish on time; nullopt for sensed sources. Thread-safe (called from the event loop while
  // Sample may run on the worker).
  virtual std::optional<SteadyTime> NextChange() const { return std::nullopt; }
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_SOURCE_H_
