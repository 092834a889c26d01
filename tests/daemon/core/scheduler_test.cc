// The scheduler alone, with a variant the test controls: admission control, deadlines
// (expired requests are not computed), dynamic batching and weighted fair queueing.
#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "adaspring/engine/arch.h"
#include "session/session_table.h"

namespace adaspring::daemon {
namespace {

// Runs only while the gate is open; records every batch it ran. Batch sizes in `unready`
// report !Ready until MakeReady.
class GatedVariant final : public ServedVariant {
 public:
  explicit GatedVariant(engine::Config c) : config_(std::move(c)) {}
  const engine::Config& config() const override { return config_; }
  const std::string& text() const override { return text_; }
  uint64_t id() const override { return 1; }
  absl::Status Run(const float*, int batch, float* logits, Scratch*) const override {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    batches_.push_back(batch);
    for (int i = 0; i < batch * 10; ++i) logits[i] = 0;
    return absl::OkStatus();
  }
  bool Ready(int batch, const Scratch&) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return unready_.count(batch) == 0;
  }
  absl::Status MakeReady(int batch, Scratch*) const override {
    std::lock_guard<std::mutex> lock(mu_);
    unready_.erase(batch);
    made_.push_back(batch);
    cv_.notify_all();
    return absl::OkStatus();
  }
  void SetUnready(std::set<int> sizes) {
    std::lock_guard<std::mutex> lock(mu_);
    unready_ = std::move(sizes);
  }
  // Waits until MakeReady has been called `n` times; returns the sizes it was called for.
  std::vector<int> WaitMade(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return made_.size() >= n; }));
    return made_;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  // Waits until `n` runs have started (blocked at the gate or done).
  void WaitRunning(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ >= n; }))
        << "waiting for run " << n;
  }
  std::vector<int> batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  engine::Config config_;
  std::string text_ = "test";
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool open_ = false;
  mutable int waiting_ = 0;
  mutable std::vector<int> batches_;
  mutable std::set<int> unready_;
  mutable std::vector<int> made_;
};

class Recorder final : public JobSink {
 public:
  void JobDone(void* tag, const absl::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back({reinterpret_cast<intptr_t>(tag), status.code()});
    threads_.push_back(std::this_thread::get_id());
    cv_.notify_all();
  }
  // Completions so far and the threads they were reported on, without waiting.
  std::vector<std::thread::id> threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }
  std::vector<std::pair<intptr_t, absl::StatusCode>> WaitDone(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_.size() >= n; }));
    return done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<intptr_t, absl::StatusCode>> done_;
  std::vector<std::thread::id> threads_;
};

struct Fixture {
  Fixture() {
    engine = NewSimEngine();
    model = std::make_shared<LoadedModel>();
    model->name = "m";
    model->input_shape = {1, 2, 2};
    model->image_elems = 4;
    model->channels = 1;
    model->num_classes = 10;
    model->mean = {0};
    model->inv_std = {1};
    auto arch = engine::BuiltinArch("smallres28");
    engine::ConfigSpace space(*arch);
    variant = std::make_shared<GatedVariant>(space.Full());
    for (int i = 0; i < 4; ++i) requests.emplace_back(), responses.emplace_back();
    for (auto& r : requests) {
      r.mutable_input()->set_dtype(v1::DATA_TYPE_FP32);
      r.mutable_input()->set_raw_contents(std::string(16, '\0'));
    }
  }
  std::shared_ptr<Session> NewSession(const std::string& app, uint32_t priority,
                                      uint32_t budget_us = 1000000) {
    v1::Slo slo;
    slo.set_latency_budget_us(budget_us);
    slo.set_priority(priority);
    auto s = *table.Open(app, model, slo, std::nullopt);
    auto av = std::make_shared<ActiveVariant>();
    av->variant = variant;
    av->cost.latency_us = 100;
    s->Swap(av);
    return s;
  }
  std::unique_ptr<EngineFacade> engine;
  std::shared_ptr<LoadedModel> model;
  std::shared_ptr<GatedVariant> variant;
  SessionTable table;
  std::deque<v1::InferRequest> requests;
  std::deque<v1::InferResponse> responses;
  Recorder sink;
};

void* Tag(intptr_t i) { return reinterpret_cast<void*>(i); }
const auto kNever = SteadyClock::time_point::max();

TEST(SchedulerTest, AdmissionControlAndExpiredRequestsAreNotComputed) {
  Fixture f;
  SchedulerOptions o;
  o.workers = 1;
  o.max_queue = 3;
  o.max_inflight_per_session = 2;
  o.batch_max = 1;
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  auto a = f.NewSession("a", 10), b = f.NewSession("b", 10);
  ASSERT_TRUE(sched.Submit(a, &f.requests[0], &f.responses[0], 1, kNever, &f.sink, Tag(1)).ok());
  f.variant->WaitRunning(1);  // the worker is busy with job 1
  // Job 2 expires while queued behind job 1.
  ASSERT_TRUE(sched
                  .Submit(a, &f.requests[1], &f.responses[1], 1,
                          SteadyClock::now() + std::chrono::microseconds(1), &f.sink, Tag(2))
                  .ok());
  // Session a has 2 in flight: refused.
  EXPECT_EQ(sched.Submit(a, &f.requests[2], &f.responses[2], 1, kNever, &f.sink, Tag(3)).code(),
            absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(sched.Submit(b, &f.requests[2], &f.responses[2], 1, kNever, &f.sink, Tag(4)).ok());
  // Queue (max_queue = 3 jobs) full.
  EXPECT_EQ(sched.Submit(b, &f.requests[3], &f.responses[3], 1, kNever, &f.sink, Tag(5)).code(),
            absl::StatusCode::kResourceExhausted);
  f.variant->Open();
  auto done = f.sink.WaitDone(3);
  std::map<intptr_t, absl::StatusCode> by_tag(done.begin(), done.end());
  EXPECT_EQ(by_tag[1], absl::StatusCode::kOk);
  EXPECT_EQ(by_tag[2], absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(by_tag[4], absl::StatusCode::kOk);
  EXPECT_EQ(f.variant->batches().size(), 2u);  // job 2 was never run
  EXPECT_EQ(f.responses[0].output().shape(1), 10);
  EXPECT_EQ(a->stats.errors.load(), 1u);
  sched.Stop();
  EXPECT_EQ(sched.Submit(a, &f.requests[3], &f.responses[3], 1, kNever, &f.sink, Tag(6)).code(),
            absl::StatusCode::kUnavailable);
}

TEST(SchedulerTest, ARequestFindingTheWorkersIdleRunsOnTheSubmittingThread) {
  Fixture f;
  SchedulerOptions o;
  o.workers = 1;
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  auto a = f.NewSession("a", 10);
  f.variant->Open();
  // Idle: computed here, completed before Submit returns.
  ASSERT_TRUE(sched
                  .Submit(a, &f.requests[0], &f.responses[0], 1, kNever, &f.sink, Tag(1),
                          /*may_run_inline=*/true)
                  .ok());
  ASSERT_EQ(f.sink.threads().size(), 1u);
  EXPECT_EQ(f.sink.threads()[0], std::this_thread::get_id());
  EXPECT_EQ(sched.inline_runs(), 1u);
  EXPECT_EQ(f.sink.WaitDone(1)[0].second, absl::StatusCode::kOk);
  EXPECT_EQ(f.responses[0].output().shape(1), 10);
  EXPECT_EQ(a->stats.requests.load(), 1u);
  EXPECT_EQ(a->inflight.load(), 0u);
  // Without the permission a request goes to the worker even when idle.
  ASSERT_TRUE(sched.Submit(a, &f.requests[1], &f.responses[1], 1, kNever, &f.sink, Tag(2)).ok());
  EXPECT_NE(f.sink.WaitDone(2).size(), 0u);
  EXPECT_NE(f.sink.threads()[1], std::this_thread::get_id());
  EXPECT_EQ(sched.inline_runs(), 1u);
}

TEST(SchedulerTest, InlineRunsNeverExceedTheWorkerCountNorJumpTheQueue) {
  Fixture f;
  SchedulerOptions o;
  o.workers = 1;
  o.batch_max = 1;
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  auto a = f.NewSession("a", 10), b = f.NewSession("b", 10);
  ASSERT_TRUE(sched.Submit(a, &f.requests[0], &f.responses[0], 1, kNever, &f.sink, Tag(1)).ok());
  f.variant->WaitRunning(1);  // the only worker slot is taken
  // No free slot: queued for the worker, not run here (Submit returns while the gate is shut).
  ASSERT_TRUE(sched
                  .Submit(b, &f.requests[1], &f.responses[1], 1, kNever, &f.sink, Tag(2),
                          /*may_run_inline=*/true)
                  .ok());
  f.variant->Open();
  f.sink.WaitDone(2);
  EXPECT_EQ(sched.inline_runs(), 0u);
  for (std::thread::id t : f.sink.threads()) EXPECT_NE(t, std::this_thread::get_id());
  // Something queued: an inline-capable request queues behind it instead of overtaking.
  f.variant->Close();
  ASSERT_TRUE(sched.Submit(a, &f.requests[2], &f.responses[2], 1, kNever, &f.sink, Tag(3)).ok());
  f.variant->WaitRunning(3);
  ASSERT_TRUE(sched.Submit(a, &f.requests[3], &f.responses[3], 1, kNever, &f.sink, Tag(4)).ok());
  ASSERT_TRUE(sched
                  .Submit(a, &f.requests[0], &f.responses[0], 1, kNever, &f.sink, Tag(5),
                          /*may_run_inline=*/true)
                  .ok());
  f.variant->Open();
  auto done = f.sink.WaitDone(5);
  EXPECT_EQ(sched.inline_runs(), 0u);
  EXPECT_EQ(done[3].first, 4);  // in queue order
  EXPECT_EQ(done[4].first, 5);
}

TEST(SchedulerTest, QueuedRequestsOfTheSameVariantAreBatched) {
  Fixture f;
  SchedulerOptions o;
  o.workers = 1;
  o.batch_max = 8;
  o.batch_max_delay_us = 0;  // no waiting: batch what is queued
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  auto a = f.NewSession("a", 10), b = f.NewSession("b", 10);
  ASSERT_TRUE(sched.Submit(a, &f.requests[0], &f.responses[0], 1, kNever, &f.sink, Tag(1)).ok());
  f.variant->WaitRunning(1);
  ASSERT_TRUE(sched.Submit(a, &f.requests[1], &f.responses[1], 1, kNever, &f.sink, Tag(2)).ok());
  ASSERT_TRUE(sched.Submit(b, &f.requests[2], &f.responses[2], 1, kNever, &f.sink, Tag(3)).ok());
  ASSERT_TRUE(sched.Submit(a, &f.requests[3], &f.responses[3], 1, kNever, &f.sink, Tag(4)).ok());
  f.variant->Open();
  f.sink.WaitDone(4);
  EXPECT_EQ(f.variant->batches(), (std::vector<int>{1, 3}));
  for (auto& r : f.responses) EXPECT_EQ(r.output().raw_contents().size(), 40u);
}

TEST(SchedulerTest, ABatchStaysWithinHalfOfItsTightestMembersBudget) {
  Fixture f;
  SchedulerOptions o;
  o.workers = 1;
  o.batch_max = 16;
  o.batch_max_delay_us = 0;
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  // 100 us per image predicted (the fixture's cost): a 1 ms budget affords batches of 5.
  auto tight = f.NewSession("camera", 10, 1000), loose = f.NewSession("batch", 10);
  std::deque<v1::InferRequest> reqs(16, f.requests[0]);
  std::deque<v1::InferResponse> resps(16);
  ASSERT_TRUE(sched.Submit(tight, &reqs[0], &resps[0], 1, kNever, &f.sink, Tag(0)).ok());
  f.variant->WaitRunning(1);
  for (int i = 1; i < 8; ++i)
    ASSERT_TRUE(sched.Submit(tight, &reqs[i], &resps[i], 1, kNever, &f.sink, Tag(i)).ok());
  f.variant->Open();
  f.sink.WaitDone(8);
  EXPECT_EQ(f.variant->batches(), (std::vector<int>{1, 5, 2}));
  // Without a tight member the same queue makes one batch.
  f.variant->Close();
  ASSERT_TRUE(sched.Submit(loose, &reqs[8], &resps[8], 1, kNever, &f.sink, Tag(8)).ok());
  f.variant->WaitRunning(4);
  for (int i = 9; i < 16; ++i)
    ASSERT_TRUE(sched.Submit(loose, &reqs[i], &resps[i], 1, kNever, &f.sink, Tag(i)).ok());
  f.variant->Open();
  f.sink.WaitDone(16);
  EXPECT_EQ(f.variant->batches(), (std::vector<int>{1, 5, 2, 1, 7}));
}

TEST(SchedulerTest, QueuedRequestsAreSharedAmongTheWorkers) {
  Fixture f;
  SchedulerOptions o;
  o.workers = 2;
  o.batch_max = 16;
  o.batch_max_delay_us = 0;
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  auto a = f.NewSession("a", 10);
  std::deque<v1::InferRequest> reqs(8, f.requests[0]);
  std::deque<v1::InferResponse> resps(8);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(sched.Submit(a, &reqs[i], &resps[i], 1, kNever, &f.sink, Tag(i)).ok());
    f.variant->WaitRunning(i + 1);  // each worker holds one
  }
  for (int i = 2; i < 8; ++i)
    ASSERT_TRUE(sched.Submit(a, &reqs[i], &resps[i], 1, kNever, &f.sink, Tag(i)).ok());
  f.variant->Open();
  f.sink.WaitDone(8);
  // The six queued requests are split between the two workers (one taking all six into one
  // batch would leave the other core idle): neither batch exceeds half of the seven requests
  // in the daemon when the first worker chose, rounded up.
  std::vector<int> b = f.variant->batches();
  ASSERT_GE(b.size(), 4u);
  EXPECT_EQ(std::accumulate(b.begin(), b.end(), 0), 8);
  EXPECT_LE(*std::max_element(b.begin() + 2, b.end()), 4);
}

TEST(SchedulerTest, ABatchSizeNotYetReadyRunsRequestByRequestThenIsMadeReady) {
  Fixture f;
  f.variant->SetUnready({3});
  SchedulerOptions o;
  o.workers = 1;
  o.batch_max = 8;
  o.batch_max_delay_us = 0;
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  auto a = f.NewSession("a", 10), b = f.NewSession("b", 10);
  std::deque<v1::InferRequest> reqs(8, f.requests[0]);
  std::deque<v1::InferResponse> resps(8);
  auto round = [&](int first) {
    ASSERT_TRUE(sched.Submit(a, &reqs[first], &resps[first], 1, kNever, &f.sink, Tag(first)).ok());
    f.variant->WaitRunning(first + 1);
    for (int i = first + 1; i < first + 4; ++i)
      ASSERT_TRUE(
          sched.Submit(i % 2 ? b : a, &reqs[i], &resps[i], 1, kNever, &f.sink, Tag(i)).ok());
    f.variant->Open();
    f.sink.WaitDone(first + 4);
  };
  // Three queued requests would make a batch of 3, which is not ready: they run one by one
  // (no request waits for primitive creation), and the idle worker then makes size 3 ready.
  round(0);
  EXPECT_EQ(f.variant->WaitMade(1), (std::vector<int>{3}));
  EXPECT_EQ(f.variant->batches(), (std::vector<int>{1, 1, 1, 1}));
  // The next three run as one batch.
  f.variant->Close();
  round(4);
  EXPECT_EQ(f.variant->batches(), (std::vector<int>{1, 1, 1, 1, 1, 3}));
  for (auto& r : resps) EXPECT_EQ(r.output().raw_contents().size(), 40u);
}

TEST(SchedulerTest, WeightedFairQueueingFollowsPriority) {
  Fixture f;
  SchedulerOptions o;
  o.workers = 1;
  o.batch_max = 1;
  o.max_queue = 64;
  o.max_inflight_per_session = 64;
  Scheduler sched(f.engine.get(), o);
  sched.Start();
  auto high = f.NewSession("high", 30), low = f.NewSession("low", 10);
  std::deque<v1::InferRequest> reqs(41, f.requests[0]);
  std::deque<v1::InferResponse> resps(41);
  ASSERT_TRUE(sched.Submit(low, &reqs[40], &resps[40], 1, kNever, &f.sink, Tag(0)).ok());
  f.variant->WaitRunning(1);
  // 20 queued from each app; high (priority 30) should get ~3 runs per run of low.
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(sched.Submit(low, &reqs[i], &resps[i], 1, kNever, &f.sink, Tag(100 + i)).ok());
    ASSERT_TRUE(
        sched.Submit(high, &reqs[20 + i], &resps[20 + i], 1, kNever, &f.sink, Tag(200 + i)).ok());
  }
  f.variant->Open();
  auto done = f.sink.WaitDone(41);
  int high_in_first_16 = 0;
  for (int i = 1; i <= 16; ++i) high_in_first_16 += done[i].first >= 200;
  EXPECT_EQ(high_in_first_16, 12);  // 3:1
}

}  // namespace
}  // namespace adaspring::daemon
