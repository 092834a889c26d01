// Runs the sources of one sample on a worker thread, so that a stalled sysfs read blocks the
// worker and never the event loop. Internal to ContextMonitor (and its tests).
#ifndef ADASPRING_DAEMON_CONTEXT_SAMPLE_WORKER_H_
#define ADASPRING_DAEMON_CONTEXT_SAMPLE_WORKER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// A source plus whether a read of it is stuck. While `stuck` is set, only the (abandoned)
// thread blocked inside it may touch the source; every other worker skips it.
struct SourceSlot {
  explicit SourceSlot(std::shared_ptr<Source> s) : source(std::move(s)), name(source->name()) {}
  std::shared_ptr<Source> source;
  const std::string name;
  std::atomic<bool> stuck{false};
  // The file the stuck read was reading when it was given up ("" when unknown: not a
  // ReadFile). Set before `stuck` is set.
  absl::Mutex mu;
  std::string stuck_path ABSL_GUARDED_BY(mu);
};

struct SampleResult {
  uint64_t job_id = 0;
  SteadyTime now;
  Readings readings;
  std::vector<SourceStatus> statuses;  // one per slot, in slot order
};

// Runs every slot's Sample in order on one thread.
// Result rule: a job's result goes to `done` exactly once, unless the worker was abandoned or
// shut down first; `done` is called on the worker thread and never after Shutdown() returns
// (it should only post the result somewhere).
// Stuck rule: AbandonStuck() marks the slot being read as stuck and retires this worker; the
// retired thread clears the mark when the read finally returns, then exits. Owners create a
// fresh worker, which skips stuck slots with a degraded status.
class SampleWorker : public std::enable_shared_from_this<SampleWorker> {
 public:
  using Done = std::function<void(SampleResult)>;

  static std::shared_ptr<SampleWorker> Create(std::vector<std::shared_ptr<SourceSlot>> slots,
                                              std::string stuck_reason, Done done);
  ~SampleWorker();

  // Queues a job. At most one job may be outstanding (owners wait for its result).
  void Submit(uint64_t job_id, SteadyTime now);

  // If a Sample is running now, marks its slot stuck (with the file being read, which later
  // workers name in the stuck reason), retires the worker and returns the slot index; returns
  // nullopt when no read is in progress (the result is about to arrive).
  std::optional<int> AbandonStuck();

  // Number of Sample calls that have returned so far; lets the owner tell a slow sample
  // (many reads) from a stuck read.
  uint64_t reads_done() const { return reads_done_.load(std::memory_order_relaxed); }

  // No more results after this returns. Joins the thread when it is idle, detaches it when it
  // is blocked in a read. Idempotent.
  void Shutdown();

 private:
  SampleWorker(std::vector<std::shared_ptr<SourceSlot>> slots, std::string stuck_reason, Done done);
  void Run();

  const std::vector<std::shared_ptr<SourceSlot>> slots_;
  const std::string stuck_reason_;
  Done done_ ABSL_GUARDED_BY(mu_);  // released (empty) once retired
  std::thread thread_;
  std::atomic<uint64_t> reads_done_{0};
  ReadTracker tracker_;  // installed on thread_

  absl::Mutex mu_;
  std::optional<std::pair<uint64_t, SteadyTime>> job_ ABSL_GUARDED_BY(mu_);
  int current_ ABSL_GUARDED_BY(mu_) = -1;      // slot whose Sample is running
  bool retired_ ABSL_GUARDED_BY(mu_) = false;  // abandoned or shut down
  int stuck_index_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_SAMPLE_WORKER_H_
