// Replays a Trace as a context source.
#ifndef ADASPRING_DAEMON_CONTEXT_REPLAY_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_REPLAY_SOURCE_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "context/source.h"
#include "context/trace.h"

namespace adaspring::context {

// The trace's clock starts at the first Sample. At time t the row with the largest t_s <= t is
// in force; its values replace sensed ones (readings.replayed) and its phase is reported.
// Before the first row nothing is replayed. With `loop`, the trace restarts when its last row
// is reached (put an end row with only t_s to set the loop length); otherwise the last row
// stays in force. NextChange() tells the monitor when the next row is due so that snapshots
// are published on time rather than at the next period.
class ReplaySource final : public Source {
 public:
  explicit ReplaySource(Trace trace, bool loop = false);
  std::string name() const override { return "replay"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;
  std::optional<SteadyTime> NextChange() const override;

 private:
  const Trace trace_;
  const bool loop_;
  mutable absl::Mutex mu_;
  std::optional<SteadyTime> start_ ABSL_GUARDED_BY(mu_);
  std::optional<SteadyTime> next_change_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_REPLAY_SOURCE_H_
