#include "context/context_monitor.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "context/parse.h"
#include "context/psi_trigger.h"
#include "context/readings.h"
#include "context/sample_worker.h"

namespace adaspring::context {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

class ContextMonitor::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, std::shared_ptr<FileSystem> fs,
       std::vector<std::shared_ptr<Source>> sources, ContextMonitorOptions options)
      : strand_(asio::make_strand(io)),
        fs_(std::move(fs)),
        options_(std::move(options)),
        period_timer_(strand_),
        deadline_timer_(strand_),
        event_timer_(strand_),
        psi_(strand_) {
    for (auto& source : sources) slots_.push_back(std::make_shared<SourceSlot>(source));
  }

  void Post(void (Impl::*method)()) {
    asio::post(strand_, [weak = weak_from_this(), method] {
      if (auto self = weak.lock()) ((*self).*method)();
    });
  }

  // --- Strand-only state changes -------------------------------------------------------

  void DoStart() {
    if (started_ || stopped_) return;
    started_ = true;
    worker_ = NewWorker();
    ArmTrigger();
    next_tick_ = Clock::now();
    OnTick();
  }

  void DoStop() {
    if (stopped_) return;
    stopped_ = true;
    period_timer_.cancel();
    deadline_timer_.cancel();
    event_timer_.cancel();
    boost::system::error_code ignored;
    psi_.close(ignored);
    if (worker_) worker_->Shutdown();
  }

  void RequestSample(const std::string& cause) {
    if (stopped_ || !started_) return;
    if (in_flight_) {
      // The periodic tick is covered by the sample in flight; anything else must follow it.
      if (cause != "timer") pending_cause_ = cause;
      return;
    }
    in_flight_ = true;
    job_cause_ = cause;
    const uint64_t job = ++job_id_;
    worker_->Submit(job, Clock::now());
    ArmDeadline(job);
  }

  void OnResult(SampleResult result) {
    if (stopped_ || !in_flight_ || result.job_id != job_id_) return;
    in_flight_ = false;
    deadline_timer_.cancel();
    ContextSnapshot snapshot = Combine(result.readings);
    snapshot.sources = std::move(result.statuses);
    if (trigger_status_) snapshot.sources.push_back(*trigger_status_);
    snapshot.steady_time = result.now;
    Publish(std::move(snapshot), job_cause_);
    ArmEventTimer();
    if (!pending_cause_.empty()) RequestSample(std::exchange(pending_cause_, ""));
  }

  void Republish(const std::string& cause) {
    if (stopped_) return;
    ContextSnapshot base;
    {
      absl::MutexLock lock(&mu_);
      if (sequence_ == 0) return;  // the first sample applies the override
      base = base_;
    }
    // What changed (an override set or cleared) changed now: the adaptation loop times its
    // reaction from steady_time, which must not be the last sample's, up to a period ago.
    base.steady_time = Clock::now();
    Publish(std::move(base), cause);
  }

  // --- Thread-safe parts -----------------------------------------------------------------

  int Subscribe(Callback callback) {
    absl::MutexLock lock(&mu_);
    subscribers_[++next_subscriber_] = std::move(callback);
    return next_subscriber_;
  }

  void Unsubscribe(int id) {
    absl::MutexLock lock(&mu_);
    subscribers_.erase(id);
  }

  absl::Status SetOverride(const ContextOverride& values) {
    if (absl::Status valid = ValidateOverride(values); !valid.ok()) return valid;
    {
      absl::MutexLock lock(&mu_);
      override_ = values;
    }
    PostCause("override");
    return absl::OkStatus();
  }

  void ClearOverride() {
    {
      absl::MutexLock lock(&mu_);
      override_ = ContextOverride();
    }
    PostCause("override cleared");
  }

  void PostSample(const std::string& cause) {
    asio::post(strand_, [weak = weak_from_this(), cause] {
      if (auto self = weak.lock()) self->RequestSample(cause);
    });
  }

  ContextSnapshot Latest() const {
    absl::MutexLock lock(&mu_);
    return latest_;
  }

  ContextSnapshot Sensed() const {
    absl::MutexLock lock(&mu_);
    return base_;
  }

  // Synchronous teardown for the destructor (see the lifetime contract in the header).
  void Shutdown() { DoStop(); }

 private:
  void PostCause(const std::string& cause) {
    asio::post(strand_, [weak = weak_from_this(), cause] {
      if (auto self = weak.lock()) self->Republish(cause);
    });
  }

  std::shared_ptr<SampleWorker> NewWorker() {
    const std::string stuck_reason =
        absl::StrCat("read timed out after ", options_.read_timeout.count(),
                     " ms; skipped until the blocked read returns");
    return SampleWorker::Create(slots_, stuck_reason,
                                [strand = strand_, weak = weak_from_this()](SampleResult result) {
                                  asio::post(strand, [weak, result = std::move(result)]() mutable {
                                    if (auto self = weak.lock()) self->OnResult(std::move(result));
                                  });
                                });
  }

  void OnTick() {
    if (stopped_) return;
    RequestSample("timer");
    next_tick_ += options_.period;
    const auto now = Clock::now();
    if (next_tick_ <= now) next_tick_ = now + options_.period;  // fell behind: no burst
    period_timer_.expires_at(next_tick_);
    period_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->OnTick();
    });
  }

  void ArmDeadline(uint64_t job) {
    reads_at_deadline_arm_ = worker_->reads_done();
    deadline_timer_.expires_after(options_.read_timeout);
    deadline_timer_.async_wait([weak = weak_from_this(), job](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->OnDeadline(job);
    });
  }

  void OnDeadline(uint64_t job) {
    if (stopped_ || !in_flight_ || job != job_id_) return;
    // The limit is per read: a sample of many slow-but-moving reads is not cut short. A read is
    // thus declared stuck after between one and two read_timeouts.
    if (worker_->reads_done() != reads_at_deadline_arm_) {
      ArmDeadline(job);
      return;
    }
    if (!worker_->AbandonStuck()) {
      // Between two reads: the result is on its way, unless the next read stalls.
      ArmDeadline(job);
      return;
    }
    // The retired worker keeps its thread until the read returns; a fresh one samples the
    // other sources now and reports the stuck one as degraded.
    worker_->Shutdown();
    worker_ = NewWorker();
    in_flight_ = false;
    RequestSample(job_cause_ == "timer" ? "timeout" : job_cause_);
  }

  void ArmEventTimer() {
    std::optional<SteadyTime> next;
    for (const auto& slot : slots_) {
      if (slot->stuck) continue;
      std::optional<SteadyTime> change = slot->source->NextChange();
      if (change && (!next || *change < *next)) next = change;
    }
    if (!next) {
      event_timer_.cancel();
      return;
    }
    event_timer_.expires_at(*next);
    event_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->RequestSample("replay");
    });
  }

  void ArmTrigger() {
    if (options_.psi_trigger_path.empty()) return;
    const std::string& path = options_.psi_trigger_path;
    absl::StatusOr<ArmedPsiTrigger> armed = ArmPsiTrigger(*fs_, path, options_.psi_trigger_spec);
    if (!armed.ok()) {
      const bool absent = absl::IsNotFound(armed.status()) ||
                          absl::IsUnimplemented(armed.status()) ||
                          absl::IsFailedPrecondition(armed.status());
      trigger_status_ =
          MakeStatus("psi_trigger", absent ? SourceState::kAbsent : SourceState::kDegraded,
                     std::string(armed.status().message()));
      return;
    }
    boost::system::error_code ec;
    psi_.assign(armed->fd, ec);
    if (ec) {
      ::close(armed->fd);
      trigger_status_ = MakeStatus("psi_trigger", SourceState::kDegraded,
                                   absl::StrCat(path, ": cannot watch fd: ", ec.message()));
      return;
    }
    trigger_status_ = MakeStatus("psi_trigger", SourceState::kAvailable, armed->note);
    trigger_status_->values.emplace_back("trigger", absl::StrCat(path, ": ", armed->spec));
    burst_start_ = Clock::now();
    WaitTrigger();
  }

  void WaitTrigger() {
    psi_.async_wait(asio::posix::descriptor_base::wait_error,
                    [weak = weak_from_this()](const boost::system::error_code& ec) {
                      if (ec) return;
                      if (auto self = weak.lock()) self->OnTrigger();
                    });
  }

  void OnTrigger() {
    if (stopped_) return;
    // A trigger fires at most once per window; a storm means POLLERR (the file went away).
    const auto now = Clock::now();
    if (now - burst_start_ > std::chrono::seconds(1)) {
      burst_start_ = now;
      burst_count_ = 0;
    }
    if (++burst_count_ > 50) {
      boost::system::error_code ignored;
      psi_.close(ignored);
      trigger_status_ = MakeStatus("psi_trigger", SourceState::kDegraded,
                                   "trigger fd woke more than 50 times in 1 s (POLLERR?); "
                                   "disarmed, periodic sampling continues");
      return;
    }
    RequestSample("psi");
    WaitTrigger();
  }

  void Publish(ContextSnapshot base, const std::string& cause) {
    // Every status leaves the monitor here: paths and file content in them may carry bytes
    // that are not UTF-8 (directory and cgroup names), which a proto3 string must not.
    for (SourceStatus& status : base.sources) MakeValidUtf8(&status);
    base.cause = cause;
    base.time = std::chrono::system_clock::now();
    if (base.steady_time == SteadyTime()) base.steady_time = Clock::now();
    ContextSnapshot snapshot;
    std::vector<Callback> callbacks;
    {
      absl::MutexLock lock(&mu_);
      base.overridden = false;
      base_ = base;
      snapshot = std::move(base);
      ApplyOverride(override_, &snapshot);
      snapshot.sequence = ++sequence_;
      latest_ = snapshot;
      for (const auto& [id, callback] : subscribers_) callbacks.push_back(callback);
    }
    for (const Callback& callback : callbacks) callback(snapshot);
  }

  asio::strand<asio::io_context::executor_type> strand_;
  const std::shared_ptr<FileSystem> fs_;
  const ContextMonitorOptions options_;
  std::vector<std::shared_ptr<SourceSlot>> slots_;

  // Strand-only.
  asio::steady_timer period_timer_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer event_timer_;
  asio::posix::stream_descriptor psi_;
  std::shared_ptr<SampleWorker> worker_;
  bool started_ = false;
  bool stopped_ = false;
  bool in_flight_ = false;
  uint64_t job_id_ = 0;
  std::string job_cause_;
  std::string pending_cause_;
  SteadyTime next_tick_;
  uint64_t reads_at_deadline_arm_ = 0;
  std::optional<SourceStatus> trigger_status_;
  SteadyTime burst_start_;
  int burst_count_ = 0;

  mutable absl::Mutex mu_;
  ContextOverride override_ ABSL_GUARDED_BY(mu_);
  ContextSnapshot base_ ABSL_GUARDED_BY(mu_);    // last published, before the override
  ContextSnapshot latest_ ABSL_GUARDED_BY(mu_);  // last published
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int, Callback> subscribers_ ABSL_GUARDED_BY(mu_);
  int next_subscriber_ ABSL_GUARDED_BY(mu_) = 0;
};

ContextMonitor::ContextMonitor(asio::io_context& io, std::shared_ptr<FileSystem> fs,
                               std::vector<std::shared_ptr<Source>> sources,
                               ContextMonitorOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(fs), std::move(sources), std::move(options))) {}

ContextMonitor::~ContextMonitor() { impl_->Shutdown(); }

void ContextMonitor::Start() { impl_->Post(&Impl::DoStart); }
void ContextMonitor::Stop() { impl_->Post(&Impl::DoStop); }
int ContextMonitor::Subscribe(Callback callback) { return impl_->Subscribe(std::move(callback)); }
void ContextMonitor::Unsubscribe(int id) { impl_->Unsubscribe(id); }
absl::Status ContextMonitor::SetOverride(const ContextOverride& values) {
  return impl_->SetOverride(values);
}
void ContextMonitor::ClearOverride() { impl_->ClearOverride(); }
void ContextMonitor::SampleNow(const std::string& cause) { impl_->PostSample(cause); }
ContextSnapshot ContextMonitor::Latest() const { return impl_->Latest(); }
ContextSnapshot ContextMonitor::Sensed() const { return impl_->Sensed(); }

}  // namespace adaspring::context
