// adaspring-bench soak: K clients run inference for S seconds while the context changes every
// M ms (so configurations keep evolving) and, optionally, a model is loaded and unloaded;
// reports failures and the daemon's RSS, fds and threads before and after.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "adaspring/client/socket_path.h"
#include "bench_client_util.h"
#include "bench_registry.h"
#include "channel.h"

namespace adaspring::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Counters {
  std::atomic<uint64_t> requests{0}, failed{0}, rejected{0};
  std::mutex mu;
  std::string first_failure;  // guarded by mu
  void Failure(const grpc::Status& s) {
    ++failed;
    std::lock_guard<std::mutex> lock(mu);
    if (first_failure.empty()) {
      first_failure = std::to_string(s.error_code()) + ": " + s.error_message();
    }
  }
};

void RunClient(const std::string& socket, const std::string& model, int index,
               Clock::time_point end, Counters* c, std::atomic<uint64_t>* switches) {
  auto channel = client::internal::MakeChannel(socket, {}, /*unique=*/true);
  auto stub = v1::Inference::NewStub(channel);
  // SLOs spread over tight and loose budgets so that churn moves sessions differently.
  auto open_req = BenchSession("soak-" + std::to_string(index % 8), model, "",
                               1000u * static_cast<uint32_t>(2 + index % 16));
  v1::OpenSessionResponse s;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10000));
    const grpc::Status st = stub->OpenSession(&ctx, open_req, &s);
    ++c->requests;
    if (!st.ok()) {
      if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++c->rejected;
      } else {
        c->Failure(st);
      }
      return;
    }
  }
  v1::InferRequest req;
  req.set_session_id(s.session_id());
  req.set_token(s.token());
  *req.mutable_input() = RandomImages(s.input_spec(), 1, static_cast<uint64_t>(index));
  v1::InferResponse resp;
  std::string last_config;
  for (uint64_t i = 0; Clock::now() < end; ++i) {
    req.set_request_id(i);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(2000));
    const grpc::Status st = stub->Infer(&ctx, req, &resp);
    ++c->requests;
    if (st.ok()) {
      if (!last_config.empty() && resp.configuration() != last_config) ++*switches;
      last_config = resp.configuration();
    } else if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
               st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      ++c->rejected;
    } else {
      c->Failure(st);
    }
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(In(5000));
  v1::CloseSessionRequest close;
  close.set_session_id(s.session_id());
  close.set_token(s.token());
  v1::CloseSessionResponse closed;
  const grpc::Status st = stub->CloseSession(&ctx, close, &closed);
  if (!st.ok()) c->Failure(st);
}

int Soak(int argc, char** argv) {
  std::string socket, admin_socket, model_name, churn_model;
  int clients = 16, churn_ms = 2000, pid = 0;
  double seconds = 30;
  bool json = false;
  CLI::App app{"Long load with context churn; failures and resource growth of the daemon",
               "adaspring-bench soak"};
  app.add_option("--socket", socket, "App socket (default: the client library's default)");
  app.add_option("--admin-socket", admin_socket, "Admin socket (default: beside --socket)");
  app.add_option("--clients", clients, "Concurrent clients")->check(CLI::Range(1, 1024));
  app.add_option("--seconds", seconds, "Duration")->check(CLI::PositiveNumber);
  app.add_option("--churn-ms", churn_ms, "Change the context override every M ms")
      ->check(CLI::Range(10, 3600000));
  app.add_option("--model", model_name, "Model (default: the first loaded model)");
  app.add_option("--churn-model", churn_model,
                 "Bundle to load and unload (--force) every 4 churn periods during the run");
  app.add_option("--pid", pid, "Daemon pid (default: the process listening on --socket)");
  app.add_flag("--json", json, "One JSON line");
  CLI11_PARSE(app, argc, argv);
  if (socket.empty()) socket = client::DefaultSocketPath();
  if (admin_socket.empty()) admin_socket = client::AdminSocketFor(socket);
  if (pid <= 0) pid = FindListenerPid(socket);

  auto admin = v1::Admin::NewStub(client::internal::MakeChannel(admin_socket, {}));
  auto model = FindModel(*admin, model_name);
  if (!model.ok()) {
    std::fprintf(stderr, "soak: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  ProcStats start{}, end_stats{};
  if (pid > 0) {
    if (auto p = ReadProcStats(pid); p.ok()) start = *p;
  } else {
    std::fprintf(stderr, "soak: daemon pid unknown (give --pid); rss/fds/threads are 0\n");
  }

  Counters counters;
  std::atomic<uint64_t> switches{0};
  const auto end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1e3));
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(
        [&, i] { RunClient(socket, model->name(), i, end, &counters, &switches); });
  }
  // Churn on this thread: alternate squeezes of memory, CPU, battery and temperature.
  uint64_t churn_failures = 0;
  std::string churn_model_name;
  for (int k = 0; Clock::now() < end; ++k) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000));
    grpc::Status st;
    if (k % 4 == 3) {
      v1::ClearContextOverrideResponse r;
      st = admin->ClearContextOverride(&ctx, v1::ClearContextOverrideRequest(), &r);
    } else {
      v1::SetContextOverrideRequest req;
      req.set_memory_available_bytes((64ll << 20) + (k % 3) * (model->full().memory_bytes() * 4));
      req.set_cpu_busy_fraction(0.2 + 0.3 * (k % 3));
      req.set_battery_percent(k % 2 ? 10 : 90);
      req.set_on_ac(k % 2 == 0);
      req.set_temperature_c(k % 3 == 2 ? 85 : 45);
      v1::SetContextOverrideResponse r;
      st = admin->SetContextOverride(&ctx, req, &r);
    }
    churn_failures += !st.ok();
    if (!churn_model.empty() && k % 4 == 1) {
      grpc::ClientContext lctx;
      lctx.set_deadline(In(10000));
      if (churn_model_name.empty()) {
        v1::LoadModelRequest lreq;
        lreq.set_path(churn_model);
        v1::LoadModelResponse lr;
        if (admin->LoadModel(&lctx, lreq, &lr).ok()) churn_model_name = lr.model().name();
      } else if (churn_model_name != model->name()) {
        v1::UnloadModelRequest ureq;
        ureq.set_name(churn_model_name);
        ureq.set_force(true);
        v1::UnloadModelResponse ur;
        if (admin->UnloadModel(&lctx, ureq, &ur).ok()) churn_model_name.clear();
      }
    }
    std::this_thread::sleep_until(
        std::min(end, Clock::now() + std::chrono::milliseconds(churn_ms)));
  }
  for (auto& t : threads) t.join();
  {
    grpc::ClientContext ctx;
    v1::ClearContextOverrideResponse r;
    (void)admin->ClearContextOverride(&ctx, v1::ClearContextOverrideRequest(), &r);
  }
  if (pid > 0) {
    // Connections close asynchronously on the daemon side: give fds and threads up to 3 s to
    // return to their start values before reading the end state.
    const auto settle_end = Clock::now() + std::chrono::seconds(3);
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (auto p = ReadProcStats(pid); p.ok()) end_stats = *p;
    } while (Clock::now() < settle_end &&
             (end_stats.fds > start.fds || end_stats.threads > start.threads));
  }
  if (!counters.first_failure.empty()) {
    std::fprintf(stderr, "soak: first failure: %s\n", counters.first_failure.c_str());
  }
  if (churn_failures > 0) {
    std::fprintf(stderr, "soak: %llu context churn calls failed\n",
                 static_cast<unsigned long long>(churn_failures));
  }
  const double growth =
      start.rss_mb > 0 ? 100.0 * (end_stats.rss_mb - start.rss_mb) / start.rss_mb : 0;
  std::printf(json ? "{\"bench\":\"soak\",\"clients\":%d,\"seconds\":%.1f,\"requests\":%llu,"
                     "\"failed\":%llu,\"rejected\":%llu,\"switches\":%llu,\"rss_start_mb\":%.1f,"
                     "\"rss_end_mb\":%.1f,\"rss_growth_pct\":%.2f,\"fds_start\":%d,\"fds_end\":%d,"
                     "\"threads_start\":%d,\"threads_end\":%d}\n"
                   : "soak: %d clients, %.1f s, %llu requests, %llu failed, %llu rejected, %llu "
                     "switches; rss %.1f -> %.1f MB (%.2f%%), fds %d -> %d, threads %d -> %d\n",
              clients, seconds, static_cast<unsigned long long>(counters.requests.load()),
              static_cast<unsigned long long>(counters.failed.load()),
              static_cast<unsigned long long>(counters.rejected.load()),
              static_cast<unsigned long long>(switches.load()), start.rss_mb, end_stats.rss_mb,
              growth, start.fds, end_stats.fds, start.threads, end_stats.threads);
  return counters.failed.load() == 0 ? 0 : 1;
}

ADASPRING_BENCH("soak", "long load with context churn: failures, RSS/fd/thread growth", Soak);

}  // namespace
}  // namespace adaspring::bench
