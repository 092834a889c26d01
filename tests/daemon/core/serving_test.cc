// End-to-end serving over real Unix sockets: sessions, unary and streamed inference, and the
// documented status of every kind of bad call while other sessions keep being served.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>

#include "daemon/core/daemon_harness.h"

namespace adaspring::daemon::testing {
namespace {

float FirstLogit(const v1::InferResponse& r, int index) {
  float v;
  std::memcpy(&v, r.output().raw_contents().data() + index * sizeof(float), sizeof(float));
  return v;
}

TEST(ServingTest, ThreeSessionsWithDifferentSlosRunConcurrently) {
  DaemonHarness h;
  const v1::OpenSessionResponse a = h.Open("camera", 20000, 50);
  const v1::OpenSessionResponse b = h.Open("keyboard", 2000, 10);
  const v1::OpenSessionResponse c = h.Open("logger", 500000, 1, "smallest");
  EXPECT_NE(a.session_id(), b.session_id());
  EXPECT_EQ(a.token().size(), 16u);
  EXPECT_EQ(c.configuration().precision(), v1::PRECISION_INT8);  // "smallest" is int8
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (const v1::OpenSessionResponse* s : {&a, &b, &c}) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < 40; ++i) {
        v1::InferRequest req = DaemonHarness::Request(*s, 1 + i % 3, 0.25f, i);
        req.set_top_k(3);
        v1::InferResponse resp;
        const grpc::Status st = h.Infer(req, &resp);
        if (st.ok() && resp.request_id() == static_cast<uint64_t>(i) &&
            resp.output().shape(0) == 1 + i % 3 && resp.top_k_size() == 3 &&
            !resp.configuration().empty()) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 120);
  EXPECT_EQ(failed.load(), 0);

  grpc::ClientContext ctx;
  v1::ListSessionsResponse list;
  ASSERT_TRUE(h.admin().ListSessions(&ctx, {}, &list).ok());
  ASSERT_EQ(list.sessions_size(), 3);
  for (const auto& s : list.sessions()) {
    EXPECT_EQ(s.requests(), 40u);
    EXPECT_EQ(s.errors(), 0u);
    EXPECT_GT(s.latency_p99_ms(), 0);
    EXPECT_GE(s.latency_p99_ms(), s.latency_p50_ms());
  }
  EXPECT_TRUE(list.sessions(2).pinned());
}

TEST(ServingTest, BatchedImagesKeepTheirOwnOutputs) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = h.Open("app", 60000000, 10, "full");
  // Two concurrent requests with different pixel values may share one batch; each must get
  // the logits of its own images (the sim variant's logit k = mean pixel x (k + 1) + c).
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const float value = 0.1f * (t + 1);
        v1::InferResponse resp;
        if (!h.Infer(DaemonHarness::Request(s, 1, value, i), &resp).ok()) continue;
        const float diff = FirstLogit(resp, 1) - FirstLogit(resp, 0);  // = mean pixel
        if (std::abs(diff - value) < 1e-4) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 80);
}

TEST(ServingTest, Uint8InputIsNormalised) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = h.Open("app", 20000);
  v1::InferRequest req = DaemonHarness::Request(s);
  req.mutable_input()->set_dtype(v1::DATA_TYPE_UINT8);
  req.mutable_input()->set_raw_contents(std::string(28 * 28, static_cast<char>(255)));
  v1::InferResponse resp;
  ASSERT_TRUE(h.Infer(req, &resp).ok());
  // Random models have mean 0, std 1: pixel 255 -> 1.0.
  EXPECT_NEAR(FirstLogit(resp, 1) - FirstLogit(resp, 0), 1.0f, 1e-4);
}

TEST(ServingTest, StreamAnswersEveryRequestAndReportsBadOnesInline) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = h.Open("streamer", 20000);
  grpc::ClientContext ctx;
  auto stream = h.app().InferStream(&ctx);
  const int n = 100;
  std::thread writer([&] {
    for (int i = 0; i < n; ++i) {
      v1::InferRequest req = DaemonHarness::Request(s, 1, 0.5f, i);
      if (i % 10 == 7) req.mutable_input()->set_shape(1, 27);  // wrong shape
      ASSERT_TRUE(stream->Write(req));
    }
    stream->WritesDone();
  });
  int ok = 0, invalid = 0;
  std::vector<bool> seen(n, false);
  v1::InferResponse resp;
  while (stream->Read(&resp)) {
    ASSERT_LT(resp.request_id(), static_cast<uint64_t>(n));
    seen[resp.request_id()] = true;
    if (resp.status_code() == 0) ++ok;
    if (resp.status_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      ++invalid;
      EXPECT_NE(resp.status_message().find("input.shape"), std::string::npos);
    }
  }
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ok, 90);
  EXPECT_EQ(invalid, 10);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), n);
}

TEST(ServingTest, StreamWithWrongTokenEndsUnauthenticated) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = h.Open("streamer", 20000);
  grpc::ClientContext ctx;
  auto stream = h.app().InferStream(&ctx);
  v1::InferRequest req = DaemonHarness::Request(s);
  req.set_token(std::string(16, 'x'));
  stream->Write(req);
  stream->WritesDone();
  v1::InferResponse resp;
  while (stream->Read(&resp)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// Each bad call gets its documented status; a good session is served between every two.
TEST(ServingTest, BadCallsGetTheirStatusWhileOthersAreServed) {
  DaemonHarness h;
  const v1::OpenSessionResponse good = h.Open("good", 20000);
  const v1::OpenSessionResponse s = h.Open("victim", 20000);
  int served = 0;
  auto serve_good = [&] {
    v1::InferResponse r;
    if (h.Infer(DaemonHarness::Request(good), &r).ok()) ++served;
  };
  auto code_of = [&](const v1::InferRequest& req) {
    v1::InferResponse r;
    const grpc::Status st = h.Infer(req, &r);
    serve_good();
    return st;
  };
  v1::InferRequest req = DaemonHarness::Request(s);
  req.set_token(std::string(16, 'x'));
  EXPECT_EQ(code_of(req).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  req.set_token("short");
  EXPECT_EQ(code_of(req).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  req = DaemonHarness::Request(s);
  req.set_session_id("s-999999");
  EXPECT_EQ(code_of(req).error_code(), grpc::StatusCode::NOT_FOUND);

  req = DaemonHarness::Request(s);
  req.mutable_input()->set_shape(2, 14);
  grpc::Status st = code_of(req);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("input.shape [1,1,14,28]"), std::string::npos)
      << st.error_message();

  req = DaemonHarness::Request(s);
  req.mutable_input()->set_dtype(v1::DATA_TYPE_INT8);
  st = code_of(req);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("dtype"), std::string::npos);

  req = DaemonHarness::Request(s);
  req.mutable_input()->mutable_raw_contents()->resize(100);
  st = code_of(req);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("raw_contents"), std::string::npos);

  req = DaemonHarness::Request(s);
  const float nan = std::nanf("");
  std::memcpy(req.mutable_input()->mutable_raw_contents()->data() + 40, &nan, 4);
  st = code_of(req);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("index 10"), std::string::npos) << st.error_message();

  req = DaemonHarness::Request(s, 33);  // limits.max_batch = 32
  st = code_of(req);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("batch"), std::string::npos);

  // Oversize message: max_message_bytes = 1 MiB in the harness.
  req = DaemonHarness::Request(s, 1);
  req.mutable_input()->mutable_raw_contents()->resize(2 << 20);
  EXPECT_EQ(code_of(req).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Expired deadline.
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() - std::chrono::milliseconds(1));
    v1::InferResponse r;
    EXPECT_EQ(h.app().Infer(&ctx, DaemonHarness::Request(s), &r).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
    serve_good();
  }

  // Admin mutations on the app socket.
  {
    grpc::ClientContext ctx;
    v1::LoadModelRequest load;
    load.set_path(h.dir() + "/models/fmnist.asb");
    v1::LoadModelResponse r;
    st = h.app_admin().LoadModel(&ctx, load, &r);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    serve_good();
  }
  {
    grpc::ClientContext ctx;
    v1::SetContextOverrideRequest o;
    o.set_memory_available_bytes(1);
    v1::SetContextOverrideResponse r;
    EXPECT_EQ(h.app_admin().SetContextOverride(&ctx, o, &r).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    serve_good();
  }
  {
    grpc::ClientContext ctx;  // read-only admin calls work on the app socket
    v1::GetStatusResponse r;
    EXPECT_TRUE(h.app_admin().GetStatus(&ctx, {}, &r).ok());
    EXPECT_EQ(r.sessions(), 2u);
  }
  EXPECT_EQ(served, 12);

  // The victim session itself still works.
  v1::InferResponse r;
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(s), &r).ok());
}

TEST(ServingTest, OpenSessionValidatesNamingFieldAndValue) {
  DaemonHarness h;
  auto open = [&](const std::string& app, const std::string& model, uint32_t budget, double min_acc,
                  const std::string& pinned) {
    v1::OpenSessionRequest req;
    req.set_app_name(app);
    req.set_model(model);
    req.mutable_slo()->set_latency_budget_us(budget);
    req.mutable_slo()->set_min_accuracy(min_acc);
    req.set_pinned_configuration(pinned);
    grpc::ClientContext ctx;
    v1::OpenSessionResponse resp;
    return h.app().OpenSession(&ctx, req, &resp);
  };
  grpc::Status st = open("", "fmnist", 1000, 0, "");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("app_name"), std::string::npos);
  st = open("bad name!", "fmnist", 1000, 0, "");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  st = open("app", "fmnist", 50, 0, "");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("slo.latency_budget_us = 50"), std::string::npos);
  st = open("app", "fmnist", 1000, 1.5, "");
  EXPECT_NE(st.error_message().find("slo.min_accuracy = 1.5"), std::string::npos);
  st = open("app", "nosuch", 1000, 0, "");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  st = open("app", "fmnist", 1000, 0, "d=9 nonsense");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("pinned_configuration"), std::string::npos);
}

TEST(ServingTest, AMinimumAccuracyNoConfigurationReachesIsRefused) {
  DaemonHarness h;
  v1::OpenSessionRequest req;
  req.set_app_name("picky");
  req.set_model("fmnist");
  req.mutable_slo()->set_latency_budget_us(100000);
  req.mutable_slo()->set_min_accuracy(0.9999);
  grpc::Status st;
  {
    grpc::ClientContext ctx;
    v1::OpenSessionResponse resp;
    st = h.app().OpenSession(&ctx, req, &resp);
  }
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(st.error_message().find("slo.min_accuracy = 0.9999 is above what model 'fmnist' "
                                    "reaches"),
            std::string::npos)
      << st.error_message();
  // A reachable minimum opens; raising it beyond reach later is refused the same way and
  // leaves the session's SLO as it was.
  req.mutable_slo()->set_min_accuracy(0.5);
  v1::OpenSessionResponse open;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(h.app().OpenSession(&ctx, req, &open).ok());
  }
  v1::UpdateSloRequest up;
  up.set_session_id(open.session_id());
  up.set_token(open.token());
  *up.mutable_slo() = req.slo();
  up.mutable_slo()->set_min_accuracy(0.9999);
  {
    grpc::ClientContext ctx;
    v1::UpdateSloResponse resp;
    st = h.app().UpdateSlo(&ctx, up, &resp);
  }
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  v1::InferResponse r;
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(open), &r).ok());
  // A pinned session does not adapt: its minimum is not checked.
  req.set_app_name("pinned");
  req.mutable_slo()->set_min_accuracy(0.9999);
  req.set_pinned_configuration(open.configuration().text());
  {
    grpc::ClientContext ctx;
    v1::OpenSessionResponse resp;
    EXPECT_TRUE(h.app().OpenSession(&ctx, req, &resp).ok());
  }
}

TEST(ServingTest, SessionLimitsAndCloseSession) {
  HarnessOptions options;
  options.tweak = [](DaemonConfig* c) { c->limits.max_sessions_per_app = 2; };
  DaemonHarness h(options);
  const v1::OpenSessionResponse a = h.Open("app", 20000);
  h.Open("app", 20000);
  v1::OpenSessionRequest req;
  req.set_app_name("app");
  req.set_model("fmnist");
  req.mutable_slo()->set_latency_budget_us(20000);
  {
    grpc::ClientContext ctx;
    v1::OpenSessionResponse resp;
    EXPECT_EQ(h.app().OpenSession(&ctx, req, &resp).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  {
    grpc::ClientContext ctx;
    v1::CloseSessionRequest close;
    close.set_session_id(a.session_id());
    close.set_token(a.token());
    v1::CloseSessionResponse resp;
    EXPECT_TRUE(h.app().CloseSession(&ctx, close, &resp).ok());
  }
  v1::InferResponse r;
  EXPECT_EQ(h.Infer(DaemonHarness::Request(a), &r).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext ctx;
  v1::OpenSessionResponse resp;
  EXPECT_TRUE(h.app().OpenSession(&ctx, req, &resp).ok());
}

}  // namespace
}  // namespace adaspring::daemon::testing
