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

struct PhaseOptions {
  std::string socket, churn_model;
  int clients = 0, churn_ms = 0, pid = 0;
};

// One load phase: clients and context churn for `seconds`, then the override is cleared and
// the daemon is given up to 3 s to close connections (fds and threads settle towards
// `settle_to`). Returns the daemon's state at the end.
ProcStats RunPhase(const PhaseOptions& o, v1::Admin::Stub& admin, const v1::ModelInfo& model,
                   double seconds, const ProcStats& settle_to, Counters* counters,
                   std::atomic<uint64_t>* switches, uint64_t* churn_failures) {
  const auto end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1e3));
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i) {
    threads.emplace_back([&, i] { RunClient(o.socket, model.name(), i, end, counters, switches); });
  }
  // Churn on this thread: alternate squeezes of memory, CPU, battery and temperature.
  std::string churn_model_name;
  for (int k = 0; Clock::now() < end; ++k) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000));
    grpc::Status st;
    if (k % 4 == 3) {
      v1::ClearContextOverrideResponse r;
      st = admin.ClearContextOverride(&ctx, v1::ClearContextOverrideRequest(), &r);
    } else {
      v1::SetContextOverrideRequest req;
      req.set_memory_available_bytes((64ll << 20) + (k % 3) * (model.full().memory_bytes() * 4));
      req.set_cpu_busy_fraction(0.2 + 0.3 * (k % 3));
      req.set_battery_percent(k % 2 ? 10 : 90);
      req.set_on_ac(k % 2 == 0);
      req.set_temperature_c(k % 3 == 2 ? 85 : 45);
      v1::SetContextOverrideResponse r;
      st = admin.SetContextOverride(&ctx, req, &r);
    }
    *churn_failures += !st.ok();
    if (!o.churn_model.empty() && k % 4 == 1) {
      grpc::ClientContext lctx;
      lctx.set_deadline(In(10000));
      if (churn_model_name.empty()) {
        v1::LoadModelRequest lreq;
        lreq.set_path(o.churn_model);
        v1::LoadModelResponse lr;
        if (admin.LoadModel(&lctx, lreq, &lr).ok()) churn_model_name = lr.model().name();
      } else if (churn_model_name != model.name()) {
        v1::UnloadModelRequest ureq;
        ureq.set_name(churn_model_name);
        ureq.set_force(true);
        v1::UnloadModelResponse ur;
        if (admin.UnloadModel(&lctx, ureq, &ur).ok()) churn_model_name.clear();
      }
    }
    std::this_thread::sleep_until(
        std::min(end, Clock::now() + std::chrono::milliseconds(o.churn_ms)));
  }
  for (auto& t : threads) t.join();
  if (!churn_model_name.empty() && churn_model_name != model.name()) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10000));
    v1::UnloadModelRequest ureq;
    ureq.set_name(churn_model_name);
    ureq.set_force(true);
    v1::UnloadModelResponse ur;
    *churn_failures += !admin.UnloadModel(&ctx, ureq, &ur).ok();
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000));
    v1::ClearContextOverrideResponse r;
    (void)admin.ClearContextOverride(&ctx, v1::ClearContextOverrideRequest(), &r);
  }
  ProcStats now = settle_to;
  if (o.pid > 0) {
    // Connections close asynchronously on the daemon side: give fds and threads up to 3 s to
    // return to their start values before reading the state.
    const auto settle_end = Clock::now() + std::chrono::seconds(3);
    do {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (auto p = ReadProcStats(o.pid); p.ok()) now = *p;
    } while (Clock::now() < settle_end &&
             (now.fds > settle_to.fds || now.threads > settle_to.threads));
  }
  return now;
}

int Soak(int argc, char** argv) {
  std::string admin_socket, model_name;
  PhaseOptions o;
  o.clients = 16;
  o.churn_ms = 2000;
  double seconds = 30, warmup_seconds = -1;
  bool json = false;
  CLI::App app{"Long load with context churn; failures and resource growth of the daemon",
               "adaspring-bench soak"};
  app.add_option("--socket", o.socket, "App socket (default: the client library's default)");
  app.add_option("--admin-socket", admin_socket, "Admin socket (default: beside --socket)");
  app.add_option("--clients", o.clients, "Concurrent clients")->check(CLI::Range(1, 1024));
  app.add_option("--seconds", seconds, "Duration of the measured run")->check(CLI::PositiveNumber);
  app.add_option("--warmup-seconds", warmup_seconds,
                 "A first run of the same load and churn for W s, after which the start state "
                 "is read: caches, gRPC's thread pool and allocator arenas reach their working "
                 "size there, so growth in the measured run is what keeps growing (default "
                 "min(60, S/5); 0 = start from the idle daemon as it is)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--churn-ms", o.churn_ms, "Change the context override every M ms")
      ->check(CLI::Range(10, 3600000));
  app.add_option("--model", model_name, "Model (default: the first loaded model)");
  app.add_option("--churn-model", o.churn_model,
                 "Bundle to load and unload (--force) every 4 churn periods during the run");
  app.add_option("--pid", o.pid, "Daemon pid (default: the process listening on --socket)");
  app.add_flag("--json", json, "One JSON line");
  ADASPRING_BENCH_PARSE(app, argc, argv);
  if (o.socket.empty()) o.socket = client::DefaultSocketPath();
  const bool admin_given = !admin_socket.empty();
  if (!admin_given) admin_socket = client::AdminSocketFor(o.socket);
  if (absl::Status s = CheckSockets(o.socket, admin_socket, admin_given); !s.ok()) {
    std::fprintf(stderr, "soak: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  if (o.pid <= 0) o.pid = FindListenerPid(o.socket);
  if (warmup_seconds < 0) warmup_seconds = std::min(60.0, seconds / 5);

  auto admin = v1::Admin::NewStub(client::internal::MakeChannel(admin_socket, {}));
  auto model = FindModel(*admin, model_name, admin_socket);
  if (!model.ok()) {
    std::fprintf(stderr, "soak: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const auto cache_mb = [&] {
    auto m = FindModel(*admin, model->name(), admin_socket);
    return m.ok() ? static_cast<double>(m->cache_bytes()) / (1 << 20) : 0.0;
  };
  ProcStats cold{};
  if (o.pid > 0) {
    if (auto p = ReadProcStats(o.pid); p.ok()) cold = *p;
  } else {
    std::fprintf(stderr, "soak: daemon pid unknown (give --pid); rss/fds/threads are 0\n");
  }

  Counters counters;
  std::atomic<uint64_t> switches{0};
  uint64_t churn_failures = 0;
  ProcStats start = cold;
  if (warmup_seconds > 0) {
    start =
        RunPhase(o, *admin, *model, warmup_seconds, cold, &counters, &switches, &churn_failures);
  }
  const double cache_start_mb = cache_mb();
  const ProcStats end_stats =
      RunPhase(o, *admin, *model, seconds, start, &counters, &switches, &churn_failures);
  const double cache_end_mb = cache_mb();

  if (!counters.first_failure.empty()) {
    std::fprintf(stderr, "soak: first failure: %s\n", counters.first_failure.c_str());
  }
  if (churn_failures > 0) {
    std::fprintf(stderr, "soak: %llu context churn calls failed\n",
                 static_cast<unsigned long long>(churn_failures));
  }
  const auto pct = [](double from, double to) { return from > 0 ? 100.0 * (to - from) / from : 0; };
  // requests, failed, rejected and switches count the warm-up run too; the start state is the
  // idle daemon after the warm-up, the cold state the idle daemon before any load.
  std::printf(json ? "{\"bench\":\"soak\",\"clients\":%d,\"seconds\":%.1f,\"requests\":%llu,"
                     "\"failed\":%llu,\"rejected\":%llu,\"switches\":%llu,\"rss_start_mb\":%.1f,"
                     "\"rss_end_mb\":%.1f,\"rss_growth_pct\":%.2f,\"fds_start\":%d,\"fds_end\":%d,"
                     "\"threads_start\":%d,\"threads_end\":%d"
                   : "soak: %d clients, %.1f s, %llu requests, %llu failed, %llu rejected, %llu "
                     "switches; rss %.1f -> %.1f MB (%.2f%%), fds %d -> %d, threads %d -> %d",
              o.clients, seconds, static_cast<unsigned long long>(counters.requests.load()),
              static_cast<unsigned long long>(counters.failed.load()),
              static_cast<unsigned long long>(counters.rejected.load()),
              static_cast<unsigned long long>(switches.load()), start.rss_mb, end_stats.rss_mb,
              pct(start.rss_mb, end_stats.rss_mb), start.fds, end_stats.fds, start.threads,
              end_stats.threads);
  std::printf(json ? ",\"warmup_seconds\":%.1f,\"rss_cold_mb\":%.1f,"
                     "\"rss_growth_from_cold_pct\":%.2f,\"fds_cold\":%d,\"threads_cold\":%d,"
                     "\"cache_start_mb\":%.1f,\"cache_end_mb\":%.1f}\n"
                   : "; after a %.1f s warm-up run (cold: rss %.1f MB, +%.2f%% to the end, fds "
                     "%d, threads %d); variant cache %.1f -> %.1f MB\n",
              warmup_seconds, cold.rss_mb, pct(cold.rss_mb, end_stats.rss_mb), cold.fds,
              cold.threads, cache_start_mb, cache_end_mb);
  return counters.failed.load() == 0 ? 0 : 1;
}

ADASPRING_BENCH("soak", "long load with context churn: failures, RSS/fd/thread growth", Soak);

}  // namespace
}  // namespace adaspring::bench
