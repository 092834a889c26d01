#include "context/sample_worker.h"

#include <utility>

#include "context/parse.h"

namespace adaspring::context {

std::shared_ptr<SampleWorker> SampleWorker::Create(std::vector<std::shared_ptr<SourceSlot>> slots,
                                                   std::string stuck_reason, Done done) {
  std::shared_ptr<SampleWorker> worker(
      new SampleWorker(std::move(slots), std::move(stuck_reason), std::move(done)));
  // The thread owns a reference so that a detached, blocked thread keeps its state alive.
  worker->thread_ = std::thread([self = worker] { self->Run(); });
  return worker;
}

SampleWorker::SampleWorker(std::vector<std::shared_ptr<SourceSlot>> slots, std::string stuck_reason,
                           Done done)
    : slots_(std::move(slots)), stuck_reason_(std::move(stuck_reason)), done_(std::move(done)) {}

SampleWorker::~SampleWorker() {
  // Only reached from the thread itself (it holds the last reference) after Shutdown.
  if (thread_.joinable()) thread_.detach();
}

void SampleWorker::Submit(uint64_t job_id, SteadyTime now) {
  absl::MutexLock lock(&mu_);
  job_ = std::make_pair(job_id, now);
}

std::optional<int> SampleWorker::AbandonStuck() {
  Done drop;  // destroyed here, on the owner's thread (see Shutdown)
  absl::MutexLock lock(&mu_);
  if (retired_ || current_ < 0) return std::nullopt;
  {
    absl::MutexLock slot_lock(&slots_[current_]->mu);
    slots_[current_]->stuck_path = tracker_.current();
  }
  slots_[current_]->stuck = true;
  stuck_index_ = current_;
  retired_ = true;
  drop.swap(done_);
  return current_;
}

void SampleWorker::Shutdown() {
  bool join = false;
  // A retired worker never calls `done_` again, and the callback may hold objects of the
  // owner's event loop (a strand): release it now, on the owner's thread while that loop
  // exists, rather than when a detached thread unblocks after the loop is gone.
  Done drop;
  {
    absl::MutexLock lock(&mu_);
    if (!thread_.joinable()) return;
    retired_ = true;
    join = current_ < 0;
    drop.swap(done_);
  }
  if (join && std::this_thread::get_id() != thread_.get_id()) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

void SampleWorker::Run() {
  ReadTracker::Scope track_reads(&tracker_);
  auto has_work = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return retired_ || job_.has_value(); };
  for (;;) {
    std::pair<uint64_t, SteadyTime> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&has_work));
      if (retired_) return;
      job = *job_;
      job_.reset();
    }
    SampleResult result;
    result.job_id = job.first;
    result.now = job.second;
    for (size_t i = 0; i < slots_.size(); ++i) {
      SourceSlot& slot = *slots_[i];
      if (slot.stuck) {
        std::string path;
        {
          absl::MutexLock slot_lock(&slot.mu);
          path = slot.stuck_path;
        }
        result.statuses.push_back(
            MakeStatus(slot.name, SourceState::kDegraded,
                       path.empty() ? stuck_reason_ : path + ": " + stuck_reason_));
        continue;
      }
      {
        absl::MutexLock lock(&mu_);
        if (retired_) return;
        current_ = static_cast<int>(i);
      }
      result.statuses.push_back(slot.source->Sample(result.now, &result.readings));
      reads_done_.fetch_add(1, std::memory_order_relaxed);
      {
        absl::MutexLock lock(&mu_);
        current_ = -1;
        if (stuck_index_ >= 0) {
          // This thread was the one blocked in that slot: the source is free again.
          slots_[stuck_index_]->stuck = false;
          return;
        }
        if (retired_) return;
      }
    }
    absl::MutexLock lock(&mu_);
    if (retired_) return;
    done_(std::move(result));
  }
}

}  // namespace adaspring::context
