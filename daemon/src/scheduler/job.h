// One inference request travelling through the scheduler. Jobs come from the scheduler's
// fixed pool (admission control: no free job = RESOURCE_EXHAUSTED), so the request path does
// not allocate for them. The request and response messages are owned by the RPC layer and
// stay valid until the sink's JobDone() returns.
#ifndef ADASPRING_DAEMON_SCHEDULER_JOB_H_
#define ADASPRING_DAEMON_SCHEDULER_JOB_H_

#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "adaspring/v1/inference.pb.h"

namespace adaspring::daemon {

class Session;
struct Job;

// Receives finished jobs. Called on a worker thread once per accepted submission; must not
// block.
class JobSink {
 public:
  virtual ~JobSink() = default;
  // `tag` is the sink_tag given at submission; the response is filled when status is OK.
  virtual void JobDone(void* tag, const absl::Status& status) = 0;
};

using SteadyClock = std::chrono::steady_clock;

struct Job {
  Job* next = nullptr;  // intrusive queue link (scheduler mutex)
  std::shared_ptr<Session> session;
  const v1::InferRequest* request = nullptr;
  v1::InferResponse* response = nullptr;
  JobSink* sink = nullptr;
  void* sink_tag = nullptr;  // the sink's own bookkeeping (e.g. a stream slot)
  int batch = 0;             // images in the request (validated)
  SteadyClock::time_point enqueued;
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  double finish_tag = 0;  // weighted fair queueing (virtual finish time)
  bool done = false;      // completed (e.g. expired) before the batch ran
};

// Per-session FIFO of queued jobs; all fields guarded by the scheduler's mutex.
struct SessionQueue {
  Job* head = nullptr;
  Job* tail = nullptr;
  uint32_t jobs = 0;
  bool active = false;  // listed in the scheduler's active sessions
};

// Per-app fair-queueing state; guarded by the scheduler's mutex.
struct AppFlow {
  double last_finish_tag = 0;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SCHEDULER_JOB_H_
