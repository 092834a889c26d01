// libadaspring_client against the in-process FakeDaemon over real Unix sockets.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "adaspring/client/client.h"
#include "fake_daemon.h"
#include "test_files.h"

namespace adaspring::client {
namespace {

using adaspring::testing::FakeDaemon;
using adaspring::testing::TempDir;

ClientOptions Options(const std::string& socket) {
  ClientOptions o;
  o.socket_path = socket;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.backoff.initial = std::chrono::milliseconds(10);
  o.backoff.max = std::chrono::milliseconds(100);
  o.backoff.give_up_after = std::chrono::milliseconds(5000);
  return o;
}

SessionOptions Fake(const std::string& app = "test-app") {
  SessionOptions s;
  s.app_name = app;
  s.model = "fake";
  s.slo.latency_budget_us = 5000;
  return s;
}

// Four 1x4x4 images whose first pixels select classes 3, 7, 0, 9.
std::vector<uint8_t> Images() {
  std::vector<uint8_t> px(4 * 16, 1);
  px[0] = 3;
  px[16] = 17;
  px[32] = 20;
  px[48] = 9;
  return px;
}

TEST(ClientTest, ConnectFailsWithOneLineNamingTheSocket) {
  TempDir dir;
  auto c = Client::Connect(Options(dir.path() + "/adaspringd.sock"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(c.status().message(),
            "adaspringd is not running (no socket at " + dir.path() + "/adaspringd.sock)");
}

TEST(ClientTest, OpensInfersAndCloses) {
  TempDir dir;
  FakeDaemon daemon(dir.path());
  daemon.Start();
  auto c = Client::Connect(Options(daemon.app_socket()));
  ASSERT_TRUE(c.ok()) << c.status();
  auto s = (*c)->OpenSession(Fake());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->id(), "s-1");
  EXPECT_EQ((*s)->configuration().id, 4242u);
  EXPECT_EQ((*s)->configuration().precision, Precision::kFp32);
  EXPECT_EQ((*s)->input_spec().shape, (std::vector<int64_t>{1, 4, 4}));
  EXPECT_EQ((*s)->input_spec().labels.size(), 10u);
  const auto px = Images();
  auto r = (*s)->InferPixels(px.data(), 4, 2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->batch, 4);
  EXPECT_EQ(r->classes, 10);
  EXPECT_EQ(r->ArgMax(0), 3);
  EXPECT_EQ(r->ArgMax(1), 7);
  EXPECT_EQ(r->ArgMax(2), 0);
  EXPECT_EQ(r->ArgMax(3), 9);
  ASSERT_EQ(r->top_k.size(), 2u);
  EXPECT_EQ(r->top_k[0].index, 3);
  EXPECT_EQ(r->configuration_id, 4242u);
  EXPECT_TRUE((*s)->Close().ok());
  EXPECT_EQ((*s)->InferPixels(px.data(), 1).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ClientTest, ErrorsCarryTheDaemonsCodeAndMessage) {
  TempDir dir;
  FakeDaemon daemon(dir.path());
  daemon.Start();
  auto c = Client::Connect(Options(daemon.app_socket()));
  ASSERT_TRUE(c.ok()) << c.status();
  SessionOptions bad = Fake();
  bad.model = "nope";
  auto s = (*c)->OpenSession(bad);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.status().message(), "model 'nope' is not loaded");

  auto ok = (*c)->OpenSession(Fake());
  ASSERT_TRUE(ok.ok());
  Input wrong;
  wrong.shape = {1, 1, 4, 3};
  std::string data(12, '\0');
  wrong.data = data;
  auto r = (*ok)->Infer(wrong);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "input must be uint8 [batch, 1, 4, 4]");
}

TEST(ClientTest, AsyncAndStreamingInference) {
  TempDir dir;
  FakeDaemon daemon(dir.path());
  daemon.Start();
  auto c = Client::Connect(Options(daemon.app_socket()));
  ASSERT_TRUE(c.ok());
  auto s = (*c)->OpenSession(Fake());
  ASSERT_TRUE(s.ok());
  const auto px = Images();
  Input one;
  one.shape = {1, 1, 4, 4};
  one.data = std::string_view(reinterpret_cast<const char*>(px.data()) + 16, 16);

  std::promise<absl::StatusOr<InferResult>> done;
  (*s)->InferAsync(one, 1, [&](absl::StatusOr<InferResult> r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ArgMax(0), 7);

  auto stream = (*s)->OpenStream();
  ASSERT_TRUE(stream.ok());
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = (*stream)->Send(one, 0);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  Input bad = one;
  bad.shape = {1, 1, 2, 8};
  ASSERT_TRUE((*stream)->Send(bad, 0).ok());
  (*stream)->WritesDone();
  int good = 0, failed = 0;
  for (;;) {
    auto res = (*stream)->Receive();
    if (!res.ok()) {
      EXPECT_EQ(res.status().code(), absl::StatusCode::kOutOfRange);
      break;
    }
    if (res->status.ok()) {
      EXPECT_EQ(res->ArgMax(0), 7);
      ++good;
    } else {
      EXPECT_EQ(res->status.code(), absl::StatusCode::kInvalidArgument);
      ++failed;
    }
  }
  EXPECT_EQ(good, 5);
  EXPECT_EQ(failed, 1);
}

// Collects watch events and lets the test wait for the n-th one.
struct EventLog {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ConfigEvent> events;
  void Add(const ConfigEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    cv.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return events.size() >= n; });
  }
};

TEST(ClientTest, WatchReportsConfigurationChanges) {
  TempDir dir;
  FakeDaemon daemon(dir.path());
  daemon.Start();
  auto c = Client::Connect(Options(daemon.app_socket()));
  ASSERT_TRUE(c.ok());
  auto s = (*c)->OpenSession(Fake());
  ASSERT_TRUE(s.ok());
  EventLog log;
  auto watch = (*s)->Watch([&](const ConfigEvent& e) { log.Add(e); });
  ASSERT_TRUE(log.WaitFor(1));
  daemon.Evolve("memory budget 1 MB < 2 MB needed");
  ASSERT_TRUE(log.WaitFor(2));
  std::lock_guard<std::mutex> lock(log.mu);
  EXPECT_EQ(log.events[0].reason, "initial");
  EXPECT_EQ(log.events[1].reason, "memory budget 1 MB < 2 MB needed");
  EXPECT_EQ(log.events[1].current.precision, Precision::kInt8);
  EXPECT_EQ(log.events[1].previous.precision, Precision::kFp32);
  EXPECT_DOUBLE_EQ(log.events[1].reaction_ms, 3.5);
  EXPECT_EQ((*s)->configuration().id, 7u);
}

TEST(ClientTest, ReopensTheSessionAfterTheDaemonRestarts) {
  TempDir dir;
  auto daemon = std::make_unique<FakeDaemon>(dir.path());
  daemon->Start();
  auto c = Client::Connect(Options(daemon->app_socket()));
  ASSERT_TRUE(c.ok());
  auto other = (*c)->OpenSession(Fake("first"));  // s-1
  auto s = (*c)->OpenSession(Fake("second"));     // s-2
  ASSERT_TRUE(s.ok() && other.ok());
  EventLog log;
  auto watch = (*s)->Watch([&](const ConfigEvent& e) { log.Add(e); });
  ASSERT_TRUE(log.WaitFor(1));
  const auto px = Images();
  ASSERT_TRUE((*s)->InferPixels(px.data(), 1).ok());

  daemon.reset();  // the daemon goes away; its sessions are gone
  daemon = std::make_unique<FakeDaemon>(dir.path());
  daemon->Start();

  // The watcher notices first and reopens; in any case the next call succeeds transparently.
  auto r = (*s)->InferPixels(px.data(), 4);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ArgMax(1), 7);
  EXPECT_GE((*s)->reopen_count(), 1);
  ASSERT_TRUE(log.WaitFor(2));
  {
    std::lock_guard<std::mutex> lock(log.mu);
    bool reopened = false;
    for (const auto& e : log.events) reopened |= e.reopened;
    EXPECT_TRUE(reopened);
  }
  // The old s-1 of "first" now belongs to a different incarnation: a stale token must not be
  // used for it; the library reopens instead of failing.
  auto r2 = (*other)->InferPixels(px.data(), 1);
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ((*other)->reopen_count(), 1);
  EXPECT_EQ(daemon->opened_sessions(), 2);
}

TEST(ClientTest, UpdateSloReturnsTheNewConfigurationAndSurvivesReopen) {
  TempDir dir;
  auto daemon = std::make_unique<FakeDaemon>(dir.path());
  daemon->Start();
  auto c = Client::Connect(Options(daemon->app_socket()));
  ASSERT_TRUE(c.ok());
  auto s = (*c)->OpenSession(Fake());
  ASSERT_TRUE(s.ok());
  Slo tight;
  tight.latency_budget_us = 500;  // the fake daemon answers with its int8 configuration
  auto cfg = (*s)->UpdateSlo(tight);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->precision, Precision::kInt8);
  EXPECT_EQ((*s)->configuration().id, 7u);
  daemon.reset();
  daemon = std::make_unique<FakeDaemon>(dir.path());
  daemon->Start();
  const auto px = Images();
  ASSERT_TRUE((*s)->InferPixels(px.data(), 1).ok());
  EXPECT_EQ((*s)->reopen_count(), 1);
  // Reopened with the updated SLO, so the new daemon chose the int8 configuration again.
  EXPECT_EQ((*s)->configuration().id, 7u);
}

TEST(ClientTest, GivesUpWithUnavailableWhenTheDaemonStaysDown) {
  TempDir dir;
  auto daemon = std::make_unique<FakeDaemon>(dir.path());
  daemon->Start();
  ClientOptions o = Options(daemon->app_socket());
  o.backoff.give_up_after = std::chrono::milliseconds(300);
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok());
  auto s = (*c)->OpenSession(Fake());
  ASSERT_TRUE(s.ok());
  daemon.reset();
  const auto px = Images();
  auto r = (*s)->InferPixels(px.data(), 1);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find(dir.path()), std::string::npos) << r.status();
}

}  // namespace
}  // namespace adaspring::client
