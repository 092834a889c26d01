// The worker pool: per-app weighted fair queueing, dynamic batching, admission control and
// deadlines, without oversubscribing oneDNN's OpenMP threads.
//
// Modes (DESIGN §3.4): "throughput" runs N workers, each with a one-thread workspace;
// "latency" runs one worker whose workspace uses every core. Either way at most `cores`
// OpenMP threads compute at once.
//
// Queueing: each session has a FIFO; every job gets a virtual finish tag
// max(V, app's last tag) + images / priority (V = tag of the last dispatched job), and
// workers serve the session whose head has the smallest tag, so apps share the workers in
// proportion to their priority whatever their request rates. A worker then adds queued jobs
// of any session running the same variant (same model and configuration) up to batch_max
// images, its even share of the jobs in the daemon (queued or in other workers' batches), and
// the number whose predicted compute fits half of the tightest member's budget; it waits up to
// batch_max_delay_us for more only when every job in the batch can afford the delay within its
// latency budget.
//
// Inline runs (throughput mode, run_inline_when_idle): a request submitted with
// may_run_inline that finds every queue empty and a worker slot free is computed at once on
// the submitting thread (gRPC's), skipping the wake-up of a worker and the hand-back. One
// inline run at a time, and it holds a worker slot, so compute threads never exceed the
// workers and nothing queued is overtaken.
//
// The live variant is read when the batch is formed, so a swap takes effect for the next
// batch and running batches finish on the variant they started with.
//
// Thread safety: Submit may be called from any thread. One mutex guards the queues; it is held
// only to link/unlink jobs, never while computing.
#ifndef ADASPRING_DAEMON_SCHEDULER_SCHEDULER_H_
#define ADASPRING_DAEMON_SCHEDULER_SCHEDULER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "models/engine_facade.h"
#include "scheduler/job.h"
#include "session/session.h"

namespace adaspring::daemon {

struct SchedulerOptions {
  bool latency_mode = false;
  int workers = 0;            // throughput mode; 0 = number of cores
  uint32_t max_queue = 1024;  // jobs queued or running across sessions
  uint32_t max_inflight_per_session = 64;
  uint32_t batch_max = 16;  // images per dynamic batch
  uint32_t batch_max_delay_us = 500;
  // A request submitted with may_run_inline that finds no queued work and a free worker slot
  // runs on the submitting thread (throughput mode only): no hand-off to a worker thread.
  bool run_inline_when_idle = true;
};

class Scheduler {
 public:
  Scheduler(EngineFacade* engine, const SchedulerOptions& options);
  ~Scheduler();  // Stop()s

  void Start();
  // Queues a checked request (batch = its image count). On OK, sink->JobDone(tag, status) is
  // called exactly once, from a worker; or, with may_run_inline, possibly from this thread
  // before Submit returns (the request found the workers idle and nothing queued, and was run
  // here at once: the sink must then not hold a lock JobDone takes). Otherwise nothing is
  // queued and the sink is not called: RESOURCE_EXHAUSTED (queue or the session's in-flight
  // limit), UNAVAILABLE (draining).
  absl::Status Submit(std::shared_ptr<Session> session, const v1::InferRequest* request,
                      v1::InferResponse* response, int batch, SteadyClock::time_point deadline,
                      JobSink* sink, void* tag, bool may_run_inline = false);
  // Stops accepting, finishes every queued job, joins the workers. Idempotent.
  void Stop();

  int workers() const { return static_cast<int>(workers_.size()); }
  int threads_per_worker() const { return threads_per_worker_; }
  uint32_t queued() const { return queued_.load(std::memory_order_relaxed); }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t batched_images() const { return batched_images_.load(std::memory_order_relaxed); }
  // CPU time spent computing, core-microseconds (compute time x threads per worker).
  uint64_t busy_core_us() const { return busy_core_us_.load(std::memory_order_relaxed); }
  // Requests run on their submitting thread (see SchedulerOptions::run_inline_when_idle).
  uint64_t inline_runs() const { return inline_runs_.load(std::memory_order_relaxed); }

 private:
  struct Worker;
  void WorkerLoop(Worker* w);
  Job* PopLocked(Session* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Session* PickLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // How large the batch a worker is gathering may grow.
  struct BatchPlan {
    int limit = 1;             // images
    double per_image_us = 0;   // the variant's predicted batch-1 latency
    double min_budget_us = 0;  // tightest latency budget among the gathered requests
  };
  void GatherLocked(const ServedVariant* variant, BatchPlan* plan, std::vector<Job*>* jobs,
                    int* images, bool* can_wait) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Images a worker starting a batch may take: its even share of the requests in the daemon
  // (queued or computing), at most batch_max.
  int BatchLimitLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A request's latency budget in microseconds (none: infinite).
  static double BudgetUs(const Job* job);
  bool AffordsDelay(const Job* job, double predicted_us) const;
  // Requests for `variant` expected within `window_us`, from the mean gap between its
  // recent arrivals: waiting to batch only pays when another one is likely to come.
  double ExpectedArrivalsLocked(const ServedVariant* variant, double window_us) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Execute(Worker* w, const std::shared_ptr<const ActiveVariant>& av,
               const std::vector<Job*>& jobs);
  void Complete(Job* job, const absl::Status& status);
  void NoteArrivalLocked(Session* s, const Job* job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  EngineFacade* const engine_;
  const SchedulerOptions options_;
  int threads_per_worker_ = 1;
  int num_workers_ = 1;

  absl::Mutex mu_;
  absl::CondVar cv_;
  std::vector<Session*> active_ ABSL_GUARDED_BY(mu_);  // sessions with queued jobs
  Job* free_ ABSL_GUARDED_BY(mu_) = nullptr;           // job pool free list
  double virtual_time_ ABSL_GUARDED_BY(mu_) = 0;
  struct Arrivals {
    SteadyClock::time_point last{};
    const Session* last_session = nullptr;
    // EWMA of the gap between requests for the variant that could share a batch. A request
    // that follows its own session's previous one with nothing else of that session in
    // flight (a closed-loop client: it sent this one because the last one returned) counts
    // as a gap of 1 s: it could never have waited for its predecessor.
    double mean_gap_us = 1e6;
  };
  // By variant; cleared when it grows past a bound (entries are only estimates).
  std::unordered_map<const ServedVariant*, Arrivals> arrivals_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Batches being formed or computed, by workers and inline runs together: at most
  // num_workers_, so inline runs never add compute threads beyond the pool's.
  int computing_ ABSL_GUARDED_BY(mu_) = 0;
  int inline_running_ ABSL_GUARDED_BY(mu_) = 0;
  int computing_jobs_ ABSL_GUARDED_BY(mu_) = 0;  // requests in the workers' running batches
  // Scratch for inline runs (one: see Start()).
  std::vector<std::unique_ptr<Worker>> inline_free_ ABSL_GUARDED_BY(mu_);
  bool started_ = false;
  std::unique_ptr<Job[]> pool_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint32_t> queued_{0};
  std::atomic<uint64_t> batches_{0}, batched_images_{0}, busy_core_us_{0}, inline_runs_{0};
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SCHEDULER_SCHEDULER_H_
