// adaspring-bench serve: K concurrent clients (each its own channel and session, pinned to one
// configuration) against the daemon, compared with the same model and configuration run
// in-process at batch 1 by as many workers as the daemon uses.
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/byte_buffer.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "adaspring/client/socket_path.h"
#include "adaspring/engine/arch.h"
#include "adaspring/engine/bundle.h"
#include "adaspring/engine/variant.h"
#include "bench_client_util.h"
#include "bench_registry.h"
#include "channel.h"

namespace adaspring::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct ServeOptions {
  std::string socket, model, config = "full";
  int clients = 16;
  double seconds = 10, rate_hz = 0;
  bool stream = false, json = false;
  int window = 4;                // requests in flight per streaming client
  int workers = 0;               // in-process workers (0 = cores, the daemon's default)
  double inprocess_seconds = 0;  // 0 = min(seconds, 5)
  // Served and in-process phases alternate in this many rounds, so that the machine's noise
  // (other tenants of a VM, frequency changes) falls on both sides of `ratio`.
  int rounds = 5;
};

struct ClientTally {
  std::vector<double> latency_ms;
  std::vector<double> compute_ms;  // the daemon's own compute time, from each response
  uint64_t ok = 0, errors = 0;
  std::string first_error;
  // The client's load ran from its first request to its last answer (connecting and opening
  // the session, before, are not counted as serving time).
  Clock::time_point first_send = Clock::time_point::max(), last_done = Clock::time_point::min();
};

void Fail(ClientTally* t, const std::string& what) {
  if (t->first_error.empty()) t->first_error = what;
  ++t->errors;
}

// Connects client `index`, opens its session and prepares its request (one random image).
// False (with the error tallied) when the session cannot be opened.
bool OpenClient(const ServeOptions& o, v1::OpenSessionRequest open_req, int index, ClientTally* t,
                std::unique_ptr<v1::Inference::Stub>* stub, v1::OpenSessionResponse* session,
                v1::InferRequest* req) {
  open_req.set_app_name("bench-serve-" + std::to_string(index));
  auto channel = client::internal::MakeChannel(o.socket, client::BackoffPolicy{}, true);
  *stub = v1::Inference::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10000));
  const grpc::Status s = (*stub)->OpenSession(&ctx, open_req, session);
  if (!s.ok()) {
    Fail(t, "OpenSession: " + s.error_message());
    return false;
  }
  req->set_session_id(session->session_id());
  req->set_token(session->token());
  *req->mutable_input() = RandomImages(session->input_spec(), 1, static_cast<uint64_t>(index));
  return true;
}

// One unary client: a blocking Infer loop, paced when a rate is given.
void RunUnary(const ServeOptions& o, v1::OpenSessionRequest open_req, int index,
              Clock::time_point end, ClientTally* t) {
  std::unique_ptr<v1::Inference::Stub> stub;
  v1::OpenSessionResponse session;
  v1::InferRequest req;
  if (!OpenClient(o, std::move(open_req), index, t, &stub, &session, &req)) return;
  v1::InferResponse resp;
  const double per_client_hz = o.rate_hz > 0 ? o.rate_hz / o.clients : 0;
  auto next = Clock::now();
  t->first_send = next;
  for (uint64_t i = 0; Clock::now() < end; ++i) {
    if (per_client_hz > 0) {
      std::this_thread::sleep_until(next);
      next += std::chrono::nanoseconds(static_cast<int64_t>(1e9 / per_client_hz));
    }
    req.set_request_id(i);
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10000));
    const auto t0 = Clock::now();
    const grpc::Status s = stub->Infer(&ctx, req, &resp);
    if (!s.ok()) {
      Fail(t, s.error_message());
      continue;
    }
    t->last_done = Clock::now();
    t->latency_ms.push_back(std::chrono::duration<double, std::milli>(t->last_done - t0).count());
    t->compute_ms.push_back(resp.compute_us() / 1e3);
    ++t->ok;
  }
  grpc::ClientContext ctx;
  v1::CloseSessionRequest close;
  close.set_session_id(session.session_id());
  close.set_token(session.token());
  v1::CloseSessionResponse closed;
  (void)stub->CloseSession(&ctx, close, &closed);
}

// One streaming client: keeps `window` requests in flight on one InferStream.
void RunStream(const ServeOptions& o, v1::OpenSessionRequest open_req, int index,
               Clock::time_point end, ClientTally* t) {
  std::unique_ptr<v1::Inference::Stub> stub;
  v1::OpenSessionResponse session;
  v1::InferRequest req;
  if (!OpenClient(o, std::move(open_req), index, t, &stub, &session, &req)) return;
  grpc::ClientContext ctx;
  auto stream = stub->InferStream(&ctx);
  std::map<uint64_t, Clock::time_point> sent;
  uint64_t next_id = 0;
  auto send = [&] {
    req.set_request_id(next_id);
    sent[next_id++] = Clock::now();
    return stream->Write(req);
  };
  bool open = true;
  t->first_send = Clock::now();
  for (int i = 0; i < o.window && open; ++i) open = send();
  v1::InferResponse resp;
  while (open && stream->Read(&resp)) {
    auto it = sent.find(resp.request_id());
    if (resp.status_code() != 0) {
      Fail(t, resp.status_message());
    } else if (it != sent.end()) {
      t->last_done = Clock::now();
      t->latency_ms.push_back(
          std::chrono::duration<double, std::milli>(t->last_done - it->second).count());
      t->compute_ms.push_back(resp.compute_us() / 1e3);
      ++t->ok;
    }
    if (it != sent.end()) sent.erase(it);
    if (Clock::now() < end) {
      open = send();
    } else if (sent.empty()) {
      break;
    }
  }
  stream->WritesDone();
  while (stream->Read(&resp)) {
  }
  const grpc::Status s = stream->Finish();
  if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED) Fail(t, s.error_message());
  grpc::ClientContext close_ctx;
  close_ctx.set_deadline(In(5000));
  v1::CloseSessionRequest close;
  close.set_session_id(session.session_id());
  close.set_token(session.token());
  v1::CloseSessionResponse closed;
  (void)stub->CloseSession(&close_ctx, close, &closed);
}

// The floor of one unary call on this machine: the median of `seconds` of blocking calls to
// the daemon's standard health check (empty request: the daemon does no work of its own),
// on a channel made like the clients'. 0 when the call fails.
double RpcFloorP50Ms(const std::string& socket, double seconds) {
  auto channel = client::internal::MakeChannel(socket, client::BackoffPolicy{}, true);
  const grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                         grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::Slice empty("");  // HealthCheckRequest{} encodes to no bytes
  const grpc::ByteBuffer request(&empty, 1);
  std::vector<double> times;
  const auto end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1e3));
  while (Clock::now() < end) {
    grpc::ClientContext ctx;
    ctx.set_deadline(In(5000));
    grpc::ByteBuffer response;
    const auto t0 = Clock::now();
    const grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel.get(), method, &ctx, request, &response);
    if (!s.ok()) return 0;
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return Percentile(times, 0.5);
}

struct InProcess {
  double rps = 0;                // runs per second over all workers
  uint64_t runs = 0;             // runs counted
  double seconds = 0;            // over this long
  std::vector<double> times_ms;  // each run's time
};

// Requests per second of the engine alone: `workers` threads, each its own workspace with one
// OpenMP thread (the daemon's throughput mode), batch 1; and the median run time.
absl::StatusOr<InProcess> InProcessRps(const std::string& bundle_path, const std::string& name,
                                       const std::string& config, int workers, double seconds) {
  absl::StatusOr<std::shared_ptr<const engine::Model>> model;
  if (!bundle_path.empty()) {
    model = engine::ReadBundle(bundle_path);
  } else {
    // The daemon serves a built-in architecture without a file (untrained weights): the
    // same network with random weights costs the same to run.
    auto arch = engine::BuiltinArch(name);
    if (!arch.ok()) return arch.status();
    model = std::shared_ptr<const engine::Model>(engine::Model::Random(*arch, 1));
  }
  if (!model.ok()) return model.status();
  auto cfg = (*model)->space().Parse(config);
  if (!cfg.ok()) return cfg.status();
  engine::EvolverOptions eo;
  eo.threads = 1;
  auto evolver = engine::Evolver::Create(*model, eo);
  if (!evolver.ok()) return evolver.status();
  auto variant = (*evolver)->Evolve(*cfg);
  if (!variant.ok()) return variant.status();
  const auto& arch = (*model)->arch();
  const size_t input_elems = static_cast<size_t>(arch.in_channels) * arch.in_height * arch.in_width;
  const size_t classes = static_cast<size_t>(arch.num_classes);
  std::atomic<uint64_t> runs{0};
  std::atomic<bool> failed{false};
  // Each worker's workspace warms up (its first run creates the primitives) before the clock
  // starts.
  std::vector<std::unique_ptr<engine::Workspace>> spaces;
  for (int w = 0; w < workers; ++w) {
    spaces.push_back(engine::NewWorkspace(1));
    std::vector<float> input(input_elems, 0.1f), logits(classes);
    if (!(*variant)->Run(input.data(), 1, logits.data(), spaces.back().get()).ok())
      return absl::InternalError("in-process warm-up run failed");
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1e3));
  std::vector<std::thread> threads;
  std::vector<std::vector<double>> times(static_cast<size_t>(workers));
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      engine::Workspace* ws = spaces[static_cast<size_t>(w)].get();
      std::vector<float> input(input_elems, 0.1f), logits(classes);
      while (Clock::now() < end && !failed) {
        const auto t0 = Clock::now();
        if (!(*variant)->Run(input.data(), 1, logits.data(), ws).ok()) failed = true;
        times[w].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        runs.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) return absl::InternalError("in-process run failed");
  std::vector<double> all;
  for (const auto& v : times) all.insert(all.end(), v.begin(), v.end());
  InProcess r;
  r.runs = runs.load();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.rps = r.seconds > 0 ? static_cast<double>(r.runs) / r.seconds : 0;
  r.times_ms = std::move(all);
  return r;
}

int Serve(int argc, char** argv) {
  ServeOptions o;
  CLI::App app{"Serving throughput and latency with K concurrent clients", "adaspring-bench serve"};
  app.add_option("--socket", o.socket, "App socket (default: the client library's default)");
  app.add_option("--clients", o.clients, "Concurrent clients, each its own channel")
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", o.seconds, "Duration of the load")->check(CLI::PositiveNumber);
  app.add_flag("--stream", o.stream, "Use InferStream with a window of requests per client");
  app.add_option("--window", o.window, "Requests in flight per streaming client (default 4)")
      ->check(CLI::Range(1, 256));
  app.add_option("--config", o.config, "Pinned configuration: full, smallest or canonical text");
  app.add_option("--model", o.model, "Model name (default: the first loaded model)");
  app.add_option("--rate", o.rate_hz, "Target total request rate, Hz (default: closed loop)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--workers", o.workers,
                 "In-process workers for inprocess_rps, 0..256 (default 0: cores, as the daemon)")
      ->check(CLI::Range(0, 256));
  app.add_option("--inprocess-seconds", o.inprocess_seconds,
                 "Duration of the in-process run (default min(seconds, 5))")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--rounds", o.rounds,
                 "Served and in-process phases alternate in this many rounds (default 5)")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--json", o.json, "One JSON line");
  ADASPRING_BENCH_PARSE(app, argc, argv);
  if (o.socket.empty()) o.socket = client::DefaultSocketPath();
  if (o.workers <= 0)
    o.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  auto admin = v1::Admin::NewStub(client::internal::MakeChannel(o.socket, {}));
  auto model = FindModel(*admin, o.model, o.socket);
  if (!model.ok()) {
    std::fprintf(stderr, "serve: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const std::string config = ResolveConfig(*model, o.config);
  const auto open_req = BenchSession("bench-serve", model->name(), config, 60000000);

  const double rpc_floor_p50 = o.clients == 1 ? RpcFloorP50Ms(o.socket, 1.0) : 0;
  const double inprocess_total =
      o.inprocess_seconds > 0 ? o.inprocess_seconds : std::min(o.seconds, 5.0);
  std::vector<double> lat, compute, inprocess_times, round_ratios;
  uint64_t ok = 0, errors = 0, inprocess_runs = 0;
  std::string first_error;
  double elapsed = 0, inprocess_elapsed = 0;
  bool inprocess_failed = false;
  for (int round = 0; round < o.rounds; ++round) {
    // Served: every client connects, opens its session and sends until the round ends.
    std::vector<ClientTally> tallies(static_cast<size_t>(o.clients));
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    const auto end =
        start + std::chrono::milliseconds(static_cast<int64_t>(o.seconds / o.rounds * 1e3));
    for (int i = 0; i < o.clients; ++i) {
      threads.emplace_back([&, i] {
        if (o.stream) {
          RunStream(o, open_req, i, end, &tallies[i]);
        } else {
          RunUnary(o, open_req, i, end, &tallies[i]);
        }
      });
    }
    for (auto& t : threads) t.join();
    Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
    for (const auto& t : tallies) {
      first = std::min(first, t.first_send);
      last = std::max(last, t.last_done);
    }
    const double round_elapsed = last > first
                                     ? std::chrono::duration<double>(last - first).count()
                                     : std::chrono::duration<double>(Clock::now() - start).count();
    elapsed += round_elapsed;
    uint64_t round_ok = 0;
    for (auto& t : tallies) {
      lat.insert(lat.end(), t.latency_ms.begin(), t.latency_ms.end());
      compute.insert(compute.end(), t.compute_ms.begin(), t.compute_ms.end());
      round_ok += t.ok;
      errors += t.errors;
      if (first_error.empty()) first_error = t.first_error;
    }
    ok += round_ok;
    // In-process: the same model and configuration, right after.
    if (inprocess_failed) continue;
    auto ip =
        InProcessRps(model->path(), model->name(), config, o.workers, inprocess_total / o.rounds);
    if (!ip.ok()) {
      inprocess_failed = true;
      std::fprintf(stderr, "serve: in-process baseline failed: %s\n",
                   std::string(ip.status().message()).c_str());
      continue;
    }
    inprocess_runs += ip->runs;
    inprocess_elapsed += ip->seconds;
    inprocess_times.insert(inprocess_times.end(), ip->times_ms.begin(), ip->times_ms.end());
    if (ip->rps > 0) round_ratios.push_back(round_ok / round_elapsed / ip->rps);
  }
  const double rps = elapsed > 0 ? ok / elapsed : 0;
  const double p50 = Percentile(lat, 0.5), p99 = Percentile(lat, 0.99);
  const double compute_p50 = Percentile(compute, 0.5);
  double inprocess = 0, inprocess_p50 = 0;
  if (!inprocess_failed && inprocess_elapsed > 0) {
    inprocess = inprocess_runs / inprocess_elapsed;
    inprocess_p50 = Percentile(inprocess_times, 0.5);
  }
  const double ratio_min =
      round_ratios.empty() ? 0 : *std::min_element(round_ratios.begin(), round_ratios.end());
  const double ratio_max =
      round_ratios.empty() ? 0 : *std::max_element(round_ratios.begin(), round_ratios.end());
  if (!first_error.empty()) std::fprintf(stderr, "serve: first error: %s\n", first_error.c_str());
  const double ratio = inprocess > 0 ? rps / inprocess : 0;
  // What serving adds to one request's latency: the served median over the in-process median
  // (meaningful with one client; with more, queueing behind the others is included).
  const double added_p50 = inprocess_p50 > 0 ? p50 - inprocess_p50 : 0;
  if (o.json) {
    std::printf(
        "{\"bench\":\"serve\",\"clients\":%d,\"stream\":%s,\"rps\":%.1f,\"p50_ms\":%.3f,"
        "\"p99_ms\":%.3f,\"errors\":%llu,\"inprocess_rps\":%.1f,\"ratio\":%.3f,\"model\":\"%s\","
        "\"config\":\"%s\",\"workers\":%d,\"seconds\":%.1f,\"inprocess_p50_ms\":%.3f,"
        "\"daemon_compute_p50_ms\":%.3f,\"added_p50_ms\":%.3f,\"rpc_floor_p50_ms\":%.3f,"
        "\"rounds\":%d,\"ratio_min\":%.3f,\"ratio_max\":%.3f}\n",
        o.clients, o.stream ? "true" : "false", rps, p50, p99,
        static_cast<unsigned long long>(errors), inprocess, ratio, model->name().c_str(),
        config.c_str(), o.workers, elapsed, inprocess_p50, compute_p50, added_p50, rpc_floor_p50,
        o.rounds, ratio_min, ratio_max);
  } else {
    std::printf(
        "serve %s [%s]: %d clients%s, %.1f req/s, p50 %.3f ms, p99 %.3f ms, %llu errors\n"
        "in-process (%d workers, batch 1): %.1f req/s, run p50 %.3f ms; ratio %.3f "
        "(%d rounds: %.3f .. %.3f)\n"
        "daemon compute p50 %.3f ms; added over in-process p50 %.3f ms (one bare call: %.3f ms)\n",
        model->name().c_str(), config.c_str(), o.clients, o.stream ? " (stream)" : "", rps, p50,
        p99, static_cast<unsigned long long>(errors), o.workers, inprocess, inprocess_p50, ratio,
        o.rounds, ratio_min, ratio_max, compute_p50, added_p50, rpc_floor_p50);
  }
  return errors > 0 && ok == 0 ? 1 : 0;
}

ADASPRING_BENCH("serve", "serving throughput/latency with K clients vs in-process", Serve);

}  // namespace
}  // namespace adaspring::bench
