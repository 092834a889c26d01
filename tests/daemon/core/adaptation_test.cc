// The adaptation loop end to end: a context override squeezes memory or CPU, the daemon
// evolves the right sessions to cheaper configurations (telling their watchers why and how
// fast), leaves the others alone, and relaxing the override brings them back.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "daemon/core/daemon_harness.h"
#include "policy/adaptation_loop.h"

namespace adaspring::daemon::testing {
namespace {

// Collects the WatchSession events of several sessions, each on a thread of its own, under
// one mutex so that a test can wait for a condition over all of them.
class Watches {
 public:
  using Events = std::map<std::string, std::vector<v1::SessionEvent>>;
  explicit Watches(v1::Inference::Stub& stub) : stub_(stub) {}
  ~Watches() {
    for (auto& w : watches_) w->ctx.TryCancel();
    for (auto& w : watches_) w->thread.join();
  }
  void Add(const v1::OpenSessionResponse& s) {
    auto w = std::make_unique<Watch>();
    v1::WatchSessionRequest req;
    req.set_session_id(s.session_id());
    req.set_token(s.token());
    w->reader = stub_.WatchSession(&w->ctx, req);
    Watch* raw = w.get();
    const std::string id = s.session_id();
    w->thread = std::thread([this, raw, id] {
      v1::SessionEvent e;
      while (raw->reader->Read(&e)) {
        std::lock_guard<std::mutex> lock(mu_);
        events_[id].push_back(e);
        cv_.notify_all();
      }
    });
    watches_.push_back(std::move(w));
  }
  // Waits (up to 10 s) until pred(events) holds; pred runs under the lock.
  bool WaitFor(const std::function<bool(Events&)>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pred(events_); });
  }
  std::vector<v1::SessionEvent> events(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return events_[id];
  }
  v1::Configuration latest(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    return Latest(events_, id);
  }
  static v1::Configuration Latest(Events& e, const std::string& id) {
    auto& v = e[id];
    return v.empty() ? v1::Configuration() : v.back().current();
  }

 private:
  struct Watch {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::SessionEvent>> reader;
    std::thread thread;
  };
  v1::Inference::Stub& stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  Events events_;
  std::vector<std::unique_ptr<Watch>> watches_;
};

// Waits until the adaptation loop has completed `n` more plans.
class PlanCounter {
 public:
  explicit PlanCounter(Daemon& d) : daemon_(d) {
    d.policy().set_on_plan([this](uint64_t) {
      std::lock_guard<std::mutex> lock(mu_);
      ++plans_;
      cv_.notify_all();
    });
  }
  ~PlanCounter() { daemon_.policy().set_on_plan(nullptr); }
  bool WaitMore(uint64_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = plans_ + n;
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return plans_ >= target; });
  }

 private:
  Daemon& daemon_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t plans_ = 0;
};

v1::OpenSessionResponse OpenWithRate(DaemonHarness& h, const std::string& app, uint32_t budget,
                                     double rate_hz, uint32_t priority = 10) {
  v1::OpenSessionRequest req;
  req.set_app_name(app);
  req.set_model("fmnist");
  req.mutable_slo()->set_latency_budget_us(budget);
  req.mutable_slo()->set_expected_rate_hz(rate_hz);
  req.mutable_slo()->set_priority(priority);
  v1::OpenSessionResponse resp;
  grpc::ClientContext ctx;
  EXPECT_TRUE(h.app().OpenSession(&ctx, req, &resp).ok());
  return resp;
}

grpc::Status Override(DaemonHarness& h, const v1::SetContextOverrideRequest& o) {
  grpc::ClientContext ctx;
  v1::SetContextOverrideResponse r;
  return h.admin().SetContextOverride(&ctx, o, &r);
}

grpc::Status ClearOverride(DaemonHarness& h) {
  grpc::ClientContext ctx;
  v1::ClearContextOverrideResponse r;
  return h.admin().ClearContextOverride(&ctx, {}, &r);
}

TEST(AdaptationTest, MemorySqueezeEvolvesCheaperAndRelaxingRestores) {
  DaemonHarness h;
  PlanCounter plans(h.daemon());
  const v1::OpenSessionResponse a = OpenWithRate(h, "camera", 20000, 10, 50);
  const v1::OpenSessionResponse b = OpenWithRate(h, "keyboard", 5000, 10, 10);
  const v1::OpenSessionResponse c = OpenWithRate(h, "logger", 60000, 1, 1);
  const v1::OpenSessionResponse pinned = h.Open("abtest", 20000, 10, "full");
  Watches w(h.app());
  for (const auto* s : {&a, &b, &c, &pinned}) w.Add(*s);
  ASSERT_TRUE(plans.WaitMore(2));  // settled after the opens
  ASSERT_TRUE(w.WaitFor([&](Watches::Events& e) {
    return !e[a.session_id()].empty() && !e[b.session_id()].empty() && !e[c.session_id()].empty() &&
           !e[pinned.session_id()].empty();
  }));
  const std::vector<std::string> ids = {a.session_id(), b.session_id(), c.session_id()};
  std::map<std::string, v1::Configuration> start;
  for (const auto& id : ids) start[id] = w.latest(id);
  auto total_of = [&](Watches::Events& e) {
    int64_t total = 0;
    for (const auto& id : ids) total += Watches::Latest(e, id).memory_bytes();
    return total;
  };
  int64_t before = 0;
  for (const auto& id : ids) before += start[id].memory_bytes();
  ASSERT_GT(before, 6 << 20);

  // memory_reserve_bytes (64 MiB) + 6 MiB + what the pinned session keeps for itself: the
  // three adaptive sessions must shrink to 6 MiB together.
  const int64_t reserve = h.config().policy.memory_reserve_bytes;
  v1::SetContextOverrideRequest squeeze;
  squeeze.set_memory_available_bytes(reserve + (6 << 20) + pinned.configuration().memory_bytes());
  ASSERT_TRUE(Override(h, squeeze).ok());
  ASSERT_TRUE(w.WaitFor([&](Watches::Events& e) { return total_of(e) <= (6 << 20); }));
  for (const auto& id : ids) {
    const auto events = w.events(id);
    if (events.size() < 2) continue;  // this one already fitted
    const v1::SessionEvent& squeezed = events.back();
    EXPECT_NE(squeezed.reason().find("memory budget"), std::string::npos) << squeezed.reason();
    EXPECT_GT(squeezed.reaction_ms(), 0);
    EXPECT_LT(squeezed.current().memory_bytes(), squeezed.previous().memory_bytes());
  }
  EXPECT_EQ(w.events(pinned.session_id()).size(), 1u);  // the pinned session is not touched

  // Requests keep succeeding, on the new configuration.
  v1::InferResponse r;
  ASSERT_TRUE(h.Infer(DaemonHarness::Request(a), &r).ok());
  EXPECT_EQ(r.configuration(), w.latest(a.session_id()).text());

  ASSERT_TRUE(ClearOverride(h).ok());
  const double gain = h.config().policy.min_accuracy_gain;
  EXPECT_TRUE(w.WaitFor([&](Watches::Events& e) {
    for (const auto& id : ids) {
      if (Watches::Latest(e, id).predicted_accuracy() <
          start[id].predicted_accuracy() - gain - 1e-9) {
        return false;
      }
    }
    return true;
  }));
  EXPECT_EQ(w.events(pinned.session_id()).size(), 1u);
}

// Available memory at the reserve leaves a budget of 0: the cheapest configurations, never
// "unconstrained" (the audit found sessions evolving up to the full model there).
TEST(AdaptationTest, NoMemoryLeftAboveTheReserveMeansTheSmallestConfigurations) {
  DaemonHarness h;
  const v1::OpenSessionResponse a = OpenWithRate(h, "camera", 20000, 10, 50);
  Watches w(h.app());
  w.Add(a);
  ASSERT_TRUE(w.WaitFor([&](Watches::Events& e) { return !e[a.session_id()].empty(); }));
  const int64_t roomy = w.latest(a.session_id()).memory_bytes();
  v1::SetContextOverrideRequest none;
  none.set_memory_available_bytes(h.config().policy.memory_reserve_bytes);
  ASSERT_TRUE(Override(h, none).ok());
  ASSERT_TRUE(w.WaitFor([&](Watches::Events& e) {
    return Watches::Latest(e, a.session_id()).memory_bytes() < roomy;
  })) << "still "
      << w.latest(a.session_id()).memory_bytes() << " bytes";
  grpc::ClientContext ctx;
  v1::GetContextResponse context;
  ASSERT_TRUE(h.admin().GetContext(&ctx, {}, &context).ok());
  EXPECT_EQ(context.budgets().memory_bytes(), 0);
  const v1::OpenSessionResponse b = OpenWithRate(h, "late", 20000, 10, 50);
  EXPECT_LT(b.configuration().memory_bytes(), roomy);
  EXPECT_LE(b.configuration().memory_bytes(), w.latest(a.session_id()).memory_bytes());
}

// Each override replaces the previous one, and the replies say so: the context they show is
// the sensed one with only the new override applied (the audit saw old values merged in).
TEST(AdaptationTest, OverrideRepliesShowTheContextInEffect) {
  DaemonHarness h;
  v1::SetContextOverrideRequest memory;
  memory.set_memory_available_bytes(80 << 20);
  v1::SetContextOverrideResponse first;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(h.admin().SetContextOverride(&ctx, memory, &first).ok());
  }
  EXPECT_EQ(first.context().memory_available_bytes(), 80 << 20);
  EXPECT_TRUE(first.context().overridden());
  v1::SetContextOverrideRequest heat;
  heat.set_temperature_c(85);
  v1::SetContextOverrideResponse second;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(h.admin().SetContextOverride(&ctx, heat, &second).ok());
  }
  EXPECT_EQ(second.context().temperature_c(), 85);
  EXPECT_EQ(second.context().memory_available_bytes(), 4ll << 30);  // sensed again
  v1::ClearContextOverrideResponse cleared;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(h.admin().ClearContextOverride(&ctx, {}, &cleared).ok());
  }
  EXPECT_FALSE(cleared.context().overridden());
  EXPECT_NE(cleared.context().temperature_c(), 85);
  EXPECT_EQ(cleared.context().memory_available_bytes(), 4ll << 30);
}

TEST(AdaptationTest, CpuSqueezeEvolvesTheBusyAppAndSparesTheIdleOne) {
  DaemonHarness h;
  PlanCounter plans(h.daemon());
  const v1::OpenSessionResponse busy = OpenWithRate(h, "video", 20000, 500);
  const v1::OpenSessionResponse idle = OpenWithRate(h, "sensor", 20000, 1);
  Watches w(h.app());
  w.Add(busy);
  w.Add(idle);
  ASSERT_TRUE(plans.WaitMore(2));
  ASSERT_TRUE(w.WaitFor([&](Watches::Events& e) {
    return !e[busy.session_id()].empty() && !e[idle.session_id()].empty();
  }));
  const v1::Configuration busy0 = w.latest(busy.session_id());
  const v1::Configuration idle0 = w.latest(idle.session_id());
  const size_t idle_events = w.events(idle.session_id()).size();

  // 80% of both cores busy outside the daemon: 2 x 0.9 - 1.6 = 0.2 cores left.
  v1::SetContextOverrideRequest squeeze;
  squeeze.set_cpu_busy_fraction(0.8);
  ASSERT_TRUE(Override(h, squeeze).ok());
  ASSERT_TRUE(w.WaitFor([&](Watches::Events& e) {
    return Watches::Latest(e, busy.session_id()).predicted_latency_us() * 500 * 1e-6 <= 0.2;
  }));
  const auto busy_events = w.events(busy.session_id());
  EXPECT_NE(busy_events.back().reason().find("cpu capacity"), std::string::npos)
      << busy_events.back().reason();
  ASSERT_TRUE(plans.WaitMore(2));
  EXPECT_EQ(w.events(idle.session_id()).size(), idle_events);  // 1 Hz: nothing to gain
  EXPECT_EQ(w.latest(idle.session_id()).text(), idle0.text());

  ASSERT_TRUE(ClearOverride(h).ok());
  EXPECT_TRUE(w.WaitFor([&](Watches::Events& e) {
    return Watches::Latest(e, busy.session_id()).text() == busy0.text();
  }));
}

TEST(AdaptationTest, AdminEventsCarryReasonAndReactionTime) {
  DaemonHarness h;
  PlanCounter plans(h.daemon());
  grpc::ClientContext ctx;
  v1::WatchEventsRequest req;
  auto events = h.admin().WatchEvents(&ctx, req);
  // The watch is subscribed on the daemon's side asynchronously: an override's event coming
  // back shows that it is live before anything the test looks for happens.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  std::atomic<bool> live{false};
  std::thread poke([&] {
    v1::SetContextOverrideRequest neutral;
    neutral.set_temperature_c(40);
    while (!live) {
      EXPECT_TRUE(Override(h, neutral).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  v1::DaemonEvent e;
  while (events->Read(&e) && e.kind() != v1::DaemonEvent::KIND_OVERRIDE) {
  }
  live = true;
  poke.join();
  const v1::OpenSessionResponse s = OpenWithRate(h, "camera", 20000, 10);
  ASSERT_TRUE(plans.WaitMore(1));
  v1::SetContextOverrideRequest squeeze;
  squeeze.set_memory_available_bytes(h.config().policy.memory_reserve_bytes + (2 << 20));
  ASSERT_TRUE(Override(h, squeeze).ok());
  bool opened = false, evolved = false;
  while (!evolved && events->Read(&e)) {
    if (e.kind() == v1::DaemonEvent::KIND_SESSION_OPENED) opened = true;
    // Real CPU load (other tests running in parallel) may move the session first, for its own
    // reason: look for the evolution the squeeze causes.
    if (e.kind() == v1::DaemonEvent::KIND_EVOLUTION && e.session_id() == s.session_id() &&
        e.message().find("memory budget") != std::string::npos) {
      evolved = true;
      EXPECT_GT(e.reaction_ms(), 0);
      EXPECT_LT(e.current().memory_bytes(), e.previous().memory_bytes());
    }
  }
  EXPECT_TRUE(opened);
  EXPECT_TRUE(evolved);
  ctx.TryCancel();
  while (events->Read(&e)) {
  }
  events->Finish();
}

TEST(AdaptationTest, UpdateSloReplansAndGetContextShowsBudgets) {
  DaemonHarness h;
  PlanCounter plans(h.daemon());
  const v1::OpenSessionResponse s = OpenWithRate(h, "camera", 60000, 10);
  Watches w(h.app());
  w.Add(s);
  ASSERT_TRUE(plans.WaitMore(1));
  ASSERT_TRUE(w.WaitFor([&](Watches::Events& e) { return !e[s.session_id()].empty(); }));
  const double latency0 = w.latest(s.session_id()).predicted_latency_us();
  v1::UpdateSloRequest up;
  up.set_session_id(s.session_id());
  up.set_token(s.token());
  up.mutable_slo()->set_latency_budget_us(static_cast<uint32_t>(latency0 / 2));
  {
    grpc::ClientContext ctx;
    v1::UpdateSloResponse r;
    ASSERT_TRUE(h.app().UpdateSlo(&ctx, up, &r).ok());
  }
  EXPECT_TRUE(w.WaitFor([&](Watches::Events& e) {
    return Watches::Latest(e, s.session_id()).predicted_latency_us() <= latency0 / 2;
  }));
  grpc::ClientContext ctx;
  v1::GetContextResponse ctx_resp;
  ASSERT_TRUE(h.admin().GetContext(&ctx, {}, &ctx_resp).ok());
  EXPECT_EQ(ctx_resp.context().cpu_count(), 2u);
  EXPECT_GT(ctx_resp.budgets().memory_bytes(), 1ll << 30);
  EXPECT_NEAR(ctx_resp.budgets().cpu_capacity(), 1.8, 0.05);
  EXPECT_FALSE(ctx_resp.budgets().notes().empty());
}

void ListSessions(DaemonHarness& h) {
  grpc::ClientContext ctx;
  v1::ListSessionsResponse list;
  ASSERT_TRUE(h.admin().ListSessions(&ctx, {}, &list).ok());
  ASSERT_EQ(list.sessions_size(), 1);
  EXPECT_GT(list.sessions(0).slo_violation_fraction(), 0);
  EXPECT_GE(list.sessions(0).switches(), 1u);
}

// Sends `req` on session `s` in a loop until one of its watch events gives a reason containing
// `reason` (true) or the watch gives up (false).
bool LoadUntilReason(DaemonHarness& h, Watches& w, const v1::OpenSessionResponse& s,
                     const v1::InferRequest& req, const std::string& reason) {
  std::atomic<bool> stop{false};
  std::thread load([&] {
    while (!stop) {
      v1::InferResponse r;
      h.Infer(req, &r);
    }
  });
  const bool reacted = w.WaitFor([&](Watches::Events& e) {
    for (const auto& ev : e[s.session_id()]) {
      if (ev.reason().find(reason) != std::string::npos) return true;
    }
    return false;
  });
  stop = true;
  load.join();
  return reacted;
}

// No sensor moves, but the app's measured p95 exceeds its budget (the variants run 3x slower
// than predicted, as under contention the cost model does not see): the daemon re-evolves it
// to a configuration that meets the budget in practice.
TEST(AdaptationTest, ObservedP95AboveBudgetTriggersReevolution) {
  HarnessOptions o;
  o.sim_slowdown = 3;
  DaemonHarness h(o);
  const v1::OpenSessionResponse s = OpenWithRate(h, "camera", 2000, 10);
  ASSERT_LE(s.configuration().predicted_latency_us(), 2000);
  ASSERT_GT(s.configuration().predicted_latency_us() * 3, 2000);  // too slow in practice
  Watches w(h.app());
  w.Add(s);
  ASSERT_TRUE(LoadUntilReason(h, w, s, DaemonHarness::Request(s), "p95 latency"));
  // The measured latency also corrected the cost model, so the daemon does not climb back to
  // the configuration that was too slow.
  const v1::SessionEvent reaction = w.events(s.session_id()).back();
  EXPECT_LT(reaction.current().macs(), reaction.previous().macs());
  ListSessions(h);
}

// The daemon sees only queue + compute; an app whose client reports a larger end-to-end
// latency (transport, its own threads) is planned for what it sees: above its budget, it is
// evolved to a cheaper configuration although the daemon's own latency is well inside.
TEST(AdaptationTest, ReportedEndToEndLatencyAboveBudgetTriggersReevolution) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = OpenWithRate(h, "remote", 20000, 10);
  const double latency_before = s.configuration().predicted_latency_us();
  Watches w(h.app());
  w.Add(s);
  v1::InferRequest req = DaemonHarness::Request(s);
  req.set_reported_latency_us(45000);
  ASSERT_TRUE(LoadUntilReason(h, w, s, req, "p95 end-to-end latency"));
  const v1::SessionEvent reaction = w.events(s.session_id()).back();
  EXPECT_LT(reaction.current().predicted_latency_us(), latency_before);
  // The daemon's own latency was inside the budget all along; the app's reports are shown.
  grpc::ClientContext ctx;
  v1::ListSessionsResponse list;
  ASSERT_TRUE(h.admin().ListSessions(&ctx, {}, &list).ok());
  ASSERT_EQ(list.sessions_size(), 1);
  EXPECT_LT(list.sessions(0).latency_p95_ms(), 20);
  EXPECT_GT(list.sessions(0).reported_latency_p95_ms(), 40);
}

}  // namespace
}  // namespace adaspring::daemon::testing

// A session that declared no rate is charged at most one request per latency budget: a
// closed-loop client's measured rate grows as its variant gets cheaper, which must not drive
// it to the cheapest variant.
TEST(DemandRateTest, DeclaredRateWinsUndeclaredIsCappedByTheBudget) {
  adaspring::v1::Slo slo;
  slo.set_latency_budget_us(20000);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 900), 50);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 10), 10);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 0), 1);
  slo.set_expected_rate_hz(120);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 900), 120);
  // After its first 10 s a declared rate is held to twice what the session really sends: a
  // session cannot reserve the CPU with a rate it never uses.
  slo.set_expected_rate_hz(1e5);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 0, /*seconds_open=*/5), 1e5);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 0, /*seconds_open=*/11), 1);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 30, /*seconds_open=*/11), 60);
  slo.set_expected_rate_hz(60);
  EXPECT_DOUBLE_EQ(adaspring::daemon::DemandRate(slo, 59, /*seconds_open=*/60), 60);
}
