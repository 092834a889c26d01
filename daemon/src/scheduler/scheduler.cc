#include "scheduler/scheduler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "scheduler/input_check.h"

namespace adaspring::daemon {

struct Scheduler::Worker {
  std::unique_ptr<Scratch> scratch;
  std::vector<float> input;   // grow-only: batch x image floats
  std::vector<float> logits;  // grow-only: batch x classes
  std::vector<int> order;     // top-k scratch
  std::vector<Job*> jobs;
  std::thread thread;
};

Scheduler::Scheduler(EngineFacade* engine, const SchedulerOptions& options)
    : engine_(engine), options_(options) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  if (options_.latency_mode) {
    num_workers_ = 1;
    threads_per_worker_ = cores;
  } else {
    num_workers_ = options_.workers > 0 ? options_.workers : cores;
    threads_per_worker_ = 1;
  }
  const uint32_t jobs = std::max(1u, options_.max_queue);
  pool_ = std::make_unique<Job[]>(jobs);
  for (uint32_t i = 0; i < jobs; ++i) {
    pool_[i].next = free_;
    free_ = &pool_[i];
  }
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  if (started_) return;
  started_ = true;
  for (int i = 0; i < num_workers_; ++i) {
    auto w = std::make_unique<Worker>();
    w->scratch = engine_->NewScratch(threads_per_worker_);
    w->jobs.reserve(options_.batch_max + 1);
    workers_.push_back(std::move(w));
  }
  if (!options_.latency_mode && options_.run_inline_when_idle) {
    // One inline run at a time: gRPC's callback threads are few (two in gRPC 1.51), and one
    // of them must stay free to read arriving requests into the fair queues while another
    // computes; otherwise under load requests would wait unread in their sockets, in
    // arrival order whatever their apps' priorities.
    absl::MutexLock lock(&mu_);
    auto w = std::make_unique<Worker>();
    w->scratch = engine_->NewScratch(threads_per_worker_);
    w->jobs.reserve(1);
    inline_free_.push_back(std::move(w));
  }
  for (auto& w : workers_) w->thread = std::thread([this, p = w.get()] { WorkerLoop(p); });
}

absl::Status Scheduler::Submit(std::shared_ptr<Session> session, const v1::InferRequest* request,
                               v1::InferResponse* response, int batch,
                               SteadyClock::time_point deadline, JobSink* sink, void* tag,
                               bool may_run_inline) {
  if (session->inflight.fetch_add(1, std::memory_order_relaxed) >=
      options_.max_inflight_per_session) {
    session->inflight.fetch_sub(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(
        absl::StrCat("session ", session->id(), " has ", options_.max_inflight_per_session,
                     " requests in flight (limits.max_inflight_per_session)"));
  }
  Session* s = session.get();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || !started_) {
      s->inflight.fetch_sub(1, std::memory_order_relaxed);
      return absl::UnavailableError("daemon is draining; not accepting requests");
    }
    Job* job = free_;
    if (job == nullptr) {
      s->inflight.fetch_sub(1, std::memory_order_relaxed);
      return absl::ResourceExhaustedError(
          absl::StrCat("request queue full (limits.max_queue = ", options_.max_queue, ")"));
    }
    free_ = job->next;
    job->next = nullptr;
    job->session = std::move(session);
    job->request = request;
    job->response = response;
    job->sink = sink;
    job->sink_tag = tag;
    job->batch = batch;
    job->enqueued = SteadyClock::now();
    job->deadline = deadline;
    const double weight = std::max<uint32_t>(1, s->slo_priority_cache());
    AppFlow* flow = s->flow();
    job->finish_tag = std::max(virtual_time_, flow->last_finish_tag) + batch / weight;
    flow->last_finish_tag = job->finish_tag;
    NoteArrivalLocked(s, job);
    if (may_run_inline && active_.empty() && computing_ < num_workers_ && !inline_free_.empty()) {
      // Nothing waits and a worker slot is free: run it here, saving the hand-off to a worker
      // thread and back (tens of microseconds of wake-up on a small board, per request).
      std::unique_ptr<Worker> w = std::move(inline_free_.back());
      inline_free_.pop_back();
      virtual_time_ = std::max(virtual_time_, job->finish_tag);
      ++computing_;
      ++inline_running_;
      std::shared_ptr<const ActiveVariant> av = s->current();
      mu_.Unlock();
      w->jobs.clear();
      w->jobs.push_back(job);
      Execute(w.get(), av, w->jobs);
      inline_runs_.fetch_add(1, std::memory_order_relaxed);
      mu_.Lock();
      job->next = free_;
      free_ = job;
      inline_free_.push_back(std::move(w));
      --computing_;
      --inline_running_;
      // Workers held back by the slot limit (Signal could wake one waiting for a batch).
      if (!active_.empty()) cv_.SignalAll();
      return absl::OkStatus();
    }
    SessionQueue& q = s->queue;
    if (q.tail) {
      q.tail->next = job;
    } else {
      q.head = job;
    }
    q.tail = job;
    ++q.jobs;
    if (!q.active) {
      q.active = true;
      active_.push_back(s);
    }
    queued_.fetch_add(1, std::memory_order_relaxed);
  }
  cv_.Signal();
  return absl::OkStatus();
}

void Scheduler::NoteArrivalLocked(Session* s, const Job* job) {
  std::shared_ptr<const ActiveVariant> av = s->current();
  if (!av) return;
  if (arrivals_.size() > 1024) arrivals_.clear();
  Arrivals& a = arrivals_[av->variant.get()];
  if (a.last != SteadyClock::time_point{}) {
    const bool closed_loop_repeat =
        a.last_session == s && s->inflight.load(std::memory_order_relaxed) <= 1;
    const double gap_us =
        closed_loop_repeat
            ? 1e6
            : std::chrono::duration<double, std::micro>(job->enqueued - a.last).count();
    a.mean_gap_us = 0.8 * a.mean_gap_us + 0.2 * std::min(gap_us, 1e6);
  }
  a.last = job->enqueued;
  a.last_session = s;
}

double Scheduler::ExpectedArrivalsLocked(const ServedVariant* variant, double window_us) const {
  auto it = arrivals_.find(variant);
  if (it == arrivals_.end()) return 0;
  return window_us / std::max(1.0, it->second.mean_gap_us);
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.SignalAll();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  // Inline runs started before stopping_ was set finish on their own threads.
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &inline_running_));
}

Job* Scheduler::PopLocked(Session* s) {
  SessionQueue& q = s->queue;
  Job* j = q.head;
  q.head = j->next;
  if (!q.head) q.tail = nullptr;
  --q.jobs;
  j->next = nullptr;
  if (q.jobs == 0) {
    q.active = false;
    active_.erase(std::find(active_.begin(), active_.end(), s));
  }
  return j;
}

Session* Scheduler::PickLocked() {
  Session* best = nullptr;
  for (Session* s : active_) {
    if (!best || s->queue.head->finish_tag < best->queue.head->finish_tag) best = s;
  }
  return best;
}

int Scheduler::BatchLimitLocked() const {
  // The requests in the daemon (queued, and in the batches other workers compute) are shared
  // evenly among the workers: one worker taking everything queued into one large batch
  // leaves the other cores idle while it computes, and an app waiting in a closed loop on
  // that batch sends nothing for the idle ones. Counted in requests, which are images for
  // the common single-image request.
  const int queued = static_cast<int>(queued_.load(std::memory_order_relaxed));
  const int in_system = queued + computing_jobs_;
  const int share = (in_system + num_workers_ - 1) / num_workers_;
  return std::clamp(share, 1, static_cast<int>(std::max(1u, options_.batch_max)));
}

bool Scheduler::AffordsDelay(const Job* job, double predicted_us) const {
  const double budget = job->session->latency_budget_us.load(std::memory_order_relaxed);
  return budget >= 2.0 * predicted_us + options_.batch_max_delay_us;
}

double Scheduler::BudgetUs(const Job* job) {
  const uint32_t b = job->session->latency_budget_us.load(std::memory_order_relaxed);
  return b > 0 ? static_cast<double>(b) : std::numeric_limits<double>::infinity();
}

void Scheduler::GatherLocked(const ServedVariant* variant, BatchPlan* plan, std::vector<Job*>* jobs,
                             int* images, bool* can_wait) {
  // Sessions in tag order would be fairer; the active list is short and every job added here
  // rides along for free (the batch runs anyway), so a linear pass is enough.
  for (size_t i = 0; i < active_.size() && *images < plan->limit;) {
    Session* s = active_[i];
    std::shared_ptr<const ActiveVariant> av = s->current();
    if (!av || av->variant.get() != variant) {
      ++i;
      continue;
    }
    while (s->queue.head && *images + s->queue.head->batch <= plan->limit) {
      Job* j = s->queue.head;
      // The batch's compute (predicted at the batch-1 cost per image, which batching only
      // lowers) stays within half of every member's budget, this one's included.
      const double budget = std::min(plan->min_budget_us, BudgetUs(j));
      if ((*images + j->batch) * plan->per_image_us > 0.5 * budget) {
        plan->limit = *images;  // the batch is as large as its tightest member allows
        break;
      }
      plan->min_budget_us = budget;
      const bool last = s->queue.jobs == 1;
      PopLocked(s);
      *images += j->batch;
      *can_wait = *can_wait && AffordsDelay(j, av->cost.latency_us);
      jobs->push_back(j);
      if (last) break;
    }
    if (i < active_.size() && active_[i] == s) ++i;
  }
}

void Scheduler::WorkerLoop(Worker* w) {
  mu_.Lock();
  for (;;) {
    // Work waits: take it once a slot is free (inline runs hold slots too). None: sleep,
    // or leave when stopping.
    while (active_.empty() ? !stopping_ : computing_ >= num_workers_) cv_.Wait(&mu_);
    if (active_.empty()) break;  // stopping and drained
    ++computing_;
    w->jobs.clear();
    Session* first = PickLocked();
    Job* j = PopLocked(first);
    virtual_time_ = std::max(virtual_time_, j->finish_tag);
    std::shared_ptr<const ActiveVariant> av = first->current();
    w->jobs.push_back(j);
    int images = j->batch;
    // Wait for companions only when the budget affords it and one is likely to arrive (an
    // app alone on its variant at 120 Hz would wait the whole delay for nothing).
    bool can_wait = options_.batch_max > 1 && options_.batch_max_delay_us > 0 && av &&
                    AffordsDelay(j, av->cost.latency_us) &&
                    ExpectedArrivalsLocked(av->variant.get(), options_.batch_max_delay_us) >= 0.5;
    if (av) {
      BatchPlan plan;
      plan.limit = BatchLimitLocked();
      plan.per_image_us = std::max(0.0, av->cost.latency_us);
      plan.min_budget_us = BudgetUs(j);
      if (images < plan.limit) {
        GatherLocked(av->variant.get(), &plan, &w->jobs, &images, &can_wait);
        const absl::Time until = absl::Now() + absl::Microseconds(options_.batch_max_delay_us) -
                                 absl::FromChrono(SteadyClock::now() - j->enqueued);
        while (can_wait && !stopping_ && images < plan.limit && absl::Now() < until) {
          cv_.WaitWithDeadline(&mu_, until);
          GatherLocked(av->variant.get(), &plan, &w->jobs, &images, &can_wait);
        }
      }
    }
    queued_.fetch_sub(static_cast<uint32_t>(w->jobs.size()), std::memory_order_relaxed);
    computing_jobs_ += static_cast<int>(w->jobs.size());
    mu_.Unlock();
    Execute(w, av, w->jobs);
    mu_.Lock();
    --computing_;
    computing_jobs_ -= static_cast<int>(w->jobs.size());
    for (Job* done : w->jobs) {
      done->next = free_;
      free_ = done;
    }
  }
  mu_.Unlock();
}

void Scheduler::Execute(Worker* w, const std::shared_ptr<const ActiveVariant>& av,
                        const std::vector<Job*>& jobs) {
  const SteadyClock::time_point start = SteadyClock::now();
  if (!av) {
    for (Job* j : jobs) Complete(j, absl::UnavailableError("session has no live configuration"));
    return;
  }
  // Expired requests are not computed.
  const LoadedModel* model_ptr = nullptr;
  int images = 0, live = 0;
  for (Job* j : jobs) {
    j->done = false;
    if (j->deadline <= start) {
      Complete(j, absl::DeadlineExceededError("deadline passed while queued; not computed"));
      j->done = true;
      continue;
    }
    model_ptr = j->session->model().get();
    images += j->batch;
    ++live;
  }
  if (images == 0) return;
  const LoadedModel& model = *model_ptr;
  const size_t in_need = static_cast<size_t>(images) * model.image_elems;
  const size_t out_need = static_cast<size_t>(images) * model.num_classes;
  if (w->input.size() < in_need) w->input.resize(in_need);
  if (w->logits.size() < out_need) w->logits.resize(out_need);
  size_t offset = 0;
  for (Job* j : jobs) {
    if (j->done) continue;
    NormaliseInput(model, j->request->input(), j->batch, w->input.data() + offset);
    offset += static_cast<size_t>(j->batch) * model.image_elems;
  }
  // A batch size this variant has not run yet would first create its primitives (a few ms,
  // more than the whole batch's compute on small models): run the requests one by one instead
  // and make that size ready once the queue is empty. (A lone request runs at its own size
  // either way, so the common case does not ask.)
  const ServedVariant& variant = *av->variant;
  const bool split = live > 1 && !variant.Ready(images, *w->scratch);
  absl::Status run;
  if (!split) {
    run = variant.Run(w->input.data(), images, w->logits.data(), w->scratch.get());
  } else {
    size_t in = 0, out = 0;
    for (Job* j : jobs) {
      if (j->done) continue;
      run = variant.Run(w->input.data() + in, j->batch, w->logits.data() + out, w->scratch.get());
      if (!run.ok()) break;
      in += static_cast<size_t>(j->batch) * model.image_elems;
      out += static_cast<size_t>(j->batch) * model.num_classes;
    }
  }
  const SteadyClock::time_point end = SteadyClock::now();
  batches_.fetch_add(1, std::memory_order_relaxed);
  batched_images_.fetch_add(images, std::memory_order_relaxed);
  busy_core_us_.fetch_add(
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(end - start).count()) *
          threads_per_worker_,
      std::memory_order_relaxed);
  const auto compute_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
  size_t out = 0;
  for (Job* j : jobs) {
    if (j->done) continue;
    if (!run.ok()) {
      Complete(j, absl::InternalError(absl::StrCat("inference failed: ", run.message())));
      continue;
    }
    const float* logits = w->logits.data() + out;
    const size_t count = static_cast<size_t>(j->batch) * model.num_classes;
    out += count;
    // Finite inputs far outside the normalised range (|x| ~ 1e38) can overflow inside the
    // network: an answer of NaN scores with OK would be worse than an error.
    if (const float* bad =
            std::find_if(logits, logits + count, [](float v) { return !std::isfinite(v); });
        bad != logits + count) {
      const size_t image = static_cast<size_t>(bad - logits) / model.num_classes;
      Complete(j, absl::InvalidArgumentError(absl::StrCat(
                      "image ", image,
                      " overflowed inside the model (an output is not finite): "
                      "its input values are far outside the normalised range the model expects")));
      continue;
    }
    v1::InferResponse* r = j->response;
    r->set_request_id(j->request->request_id());
    v1::Tensor* t = r->mutable_output();
    t->set_dtype(v1::DATA_TYPE_FP32);
    t->clear_shape();
    t->add_shape(j->batch);
    t->add_shape(model.num_classes);
    t->set_raw_contents(reinterpret_cast<const char*>(logits), sizeof(float) * count);
    const uint32_t k = std::min<uint32_t>(j->request->top_k(), model.num_classes);
    if (k > 0) {
      // Softmax of the first image; top k by partial sort over a reused index buffer.
      float max_logit = logits[0];
      for (int c = 1; c < model.num_classes; ++c) max_logit = std::max(max_logit, logits[c]);
      double sum = 0;
      for (int c = 0; c < model.num_classes; ++c) sum += std::exp(logits[c] - max_logit);
      w->order.resize(model.num_classes);
      for (int c = 0; c < model.num_classes; ++c) w->order[c] = c;
      std::partial_sort(w->order.begin(), w->order.begin() + k, w->order.end(),
                        [logits](int a, int b) { return logits[a] > logits[b]; });
      for (uint32_t i = 0; i < k; ++i) {
        v1::ClassScore* cs = r->add_top_k();
        const int c = w->order[i];
        cs->set_index(c);
        if (c < static_cast<int>(model.labels.size())) cs->set_label(model.labels[c]);
        cs->set_score(static_cast<float>(std::exp(logits[c] - max_logit) / sum));
      }
    }
    r->set_configuration(av->variant->text());
    r->set_configuration_id(av->variant->id());
    r->set_queue_us(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(start - j->enqueued).count()));
    r->set_compute_us(compute_us);
    if (images == 1) {
      // Only unbatched runs: the cost model predicts batch-1 latency, and a batch's per-image
      // time would make its correction optimistic.
      j->session->compute_us_total.fetch_add(compute_us, std::memory_order_relaxed);
      j->session->compute_images.fetch_add(1, std::memory_order_relaxed);
    }
    Complete(j, absl::OkStatus());
  }
  // Idle now: create the batch size the requests above were split for, so the next batch of
  // that size runs whole. (A failure here would repeat on that run and be reported there.)
  if (split && run.ok() && queued_.load(std::memory_order_relaxed) == 0)
    (void)variant.MakeReady(images, w->scratch.get());
}

void Scheduler::Complete(Job* j, const absl::Status& status) {
  Session* s = j->session.get();
  const auto total_us =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - j->enqueued)
          .count();
  if (status.ok()) {
    s->stats.requests.fetch_add(1, std::memory_order_relaxed);
    s->stats.latency.Record(static_cast<uint64_t>(total_us));
    if (total_us > s->latency_budget_us.load(std::memory_order_relaxed)) {
      s->stats.slo_violations.fetch_add(1, std::memory_order_relaxed);
    }
  } else {
    s->stats.CountError(status.code());
  }
  s->inflight.fetch_sub(1, std::memory_order_relaxed);
  j->sink->JobDone(j->sink_tag, status);
  // Release the session reference outside any lock the sink might take.
  j->session.reset();
}

}  // namespace adaspring::daemon
