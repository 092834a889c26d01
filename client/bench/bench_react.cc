// adaspring-bench react: time from a context change to every affected session's WatchSession
// stream reporting its new configuration.
//  - trigger path: an admin context override (memory, CPU, battery squeeze, then clear), which
//    the daemon applies at once;
//  - timer path (with --context-root, the fake tree the daemon samples): the bench rewrites
//    DIR/proc/meminfo and the daemon notices it at its next sampling tick.
#include <CLI/CLI.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "adaspring/client/socket_path.h"
#include "bench_client_util.h"
#include "bench_registry.h"
#include "channel.h"

namespace adaspring::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Follows one session's WatchSession stream and records when each event arrived.
class Watcher {
 public:
  Watcher(v1::Inference::Stub* stub, const v1::OpenSessionResponse& s) {
    v1::WatchSessionRequest req;
    req.set_session_id(s.session_id());
    req.set_token(s.token());
    thread_ = std::thread([this, stub, req] {
      auto reader = stub->WatchSession(&ctx_, req);
      v1::SessionEvent e;
      while (reader->Read(&e)) {
        std::lock_guard<std::mutex> lock(mu_);
        times_.push_back(Clock::now());
        cv_.notify_all();
      }
      (void)reader->Finish();
    });
  }
  ~Watcher() {
    ctx_.TryCancel();
    thread_.join();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return times_.size();
  }
  // Time of event number `n` (0-based) if it arrives before `deadline`.
  std::optional<Clock::time_point> WaitFor(size_t n, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_until(lock, deadline, [&] { return times_.size() > n; })) return std::nullopt;
    return times_[n];
  }

 private:
  grpc::ClientContext ctx_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Clock::time_point> times_;
  std::thread thread_;
};

// Applies a change and returns the time until all sessions that reacted reported a new
// configuration (sessions without an event within `settle` are unaffected); nullopt when
// none reacted.
std::optional<double> Measure(std::vector<std::unique_ptr<Watcher>>& watchers,
                              const std::function<void()>& change,
                              std::chrono::milliseconds settle) {
  std::vector<size_t> before;
  for (auto& w : watchers) before.push_back(w->count());
  const auto t0 = Clock::now();
  change();
  const auto deadline = t0 + settle;
  std::optional<double> worst;
  for (size_t i = 0; i < watchers.size(); ++i) {
    auto t = watchers[i]->WaitFor(before[i], deadline);
    if (!t) continue;
    const double ms = std::chrono::duration<double, std::milli>(*t - t0).count();
    worst = worst ? std::max(*worst, ms) : ms;
  }
  // Let follow-up switches (e.g. a second step of the search) finish before the next round.
  for (;;) {
    size_t n = 0;
    for (auto& w : watchers) n += w->count();
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    size_t m = 0;
    for (auto& w : watchers) m += w->count();
    if (m == n) break;
  }
  return worst;
}

void WriteMeminfo(const std::string& root, int64_t total_bytes, int64_t available_bytes) {
  const std::string path = root + "/proc/meminfo";
  const std::string tmp = path + ".bench-tmp";
  {
    std::ofstream out(tmp);
    out << "MemTotal:       " << total_bytes / 1024 << " kB\n"
        << "MemFree:        " << available_bytes / 1024 << " kB\n"
        << "MemAvailable:   " << available_bytes / 1024 << " kB\n";
  }
  std::rename(tmp.c_str(), path.c_str());  // the daemon never sees a torn file
}

std::string JsonNumber(std::vector<double>& v, double q) {
  if (v.empty()) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", Percentile(v, q));
  return buf;
}

int React(int argc, char** argv) {
  std::string socket, admin_socket, model_name, context_root;
  int sessions = 3, repeats = 10;
  int settle_ms = 1500;
  bool json = false;
  CLI::App app{"Reaction time from a context change to re-evolved sessions",
               "adaspring-bench react"};
  app.add_option("--socket", socket, "App socket (default: the client library's default)");
  app.add_option("--admin-socket", admin_socket, "Admin socket (default: beside --socket)");
  app.add_option("--model", model_name, "Model (default: the first loaded model)");
  app.add_option("--sessions", sessions, "Sessions with different SLOs (default 3)")
      ->check(CLI::Range(1, 64));
  app.add_option("--repeats", repeats, "Squeezes per path, each followed by a relax (default 10)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--settle-ms", settle_ms, "Wait this long for a session to react (default 1500)")
      ->check(CLI::Range(0, 3600000));
  app.add_option("--context-root", context_root,
                 "The daemon's --context-root: enables the timer path via DIR/proc/meminfo");
  app.add_flag("--json", json, "One JSON line");
  ADASPRING_BENCH_PARSE(app, argc, argv);
  if (socket.empty()) socket = client::DefaultSocketPath();
  const bool admin_given = !admin_socket.empty();
  if (!admin_given) admin_socket = client::AdminSocketFor(socket);
  if (absl::Status s = CheckSockets(socket, admin_socket, admin_given); !s.ok()) {
    std::fprintf(stderr, "react: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  auto app_channel = client::internal::MakeChannel(socket, {});
  auto stub = v1::Inference::NewStub(app_channel);
  auto admin = v1::Admin::NewStub(client::internal::MakeChannel(admin_socket, {}));
  auto model = FindModel(*admin, model_name, admin_socket);
  if (!model.ok()) {
    std::fprintf(stderr, "react: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  // Budgets from tight to loose, so that a squeeze moves them differently.
  std::vector<v1::OpenSessionResponse> opened;
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < sessions; ++i) {
    const uint32_t budget_us = 2000u << std::min(i, 10);
    auto req = BenchSession("bench-react-" + std::to_string(i), model->name(), "", budget_us);
    v1::OpenSessionResponse r;
    grpc::ClientContext ctx;
    ctx.set_deadline(In(10000));
    const grpc::Status s = stub->OpenSession(&ctx, req, &r);
    if (!s.ok()) {
      std::fprintf(stderr, "react: OpenSession: %s\n", s.error_message().c_str());
      return 1;
    }
    opened.push_back(r);
    watchers.push_back(std::make_unique<Watcher>(stub.get(), r));
    watchers.back()->WaitFor(0, Clock::now() + std::chrono::seconds(5));  // "initial"
  }
  // Squeeze: memory for barely the smallest variant of every session after the daemon's
  // reserve (64 MiB by default), most CPU taken by others, low battery.
  const int64_t reserve = 64ll << 20;
  const int64_t squeezed =
      reserve + static_cast<int64_t>(model->smallest().memory_bytes() * sessions * 1.2);
  const auto settle = std::chrono::milliseconds(settle_ms);
  std::vector<double> trigger, timer;
  int missed = 0;
  for (int r = 0; r < repeats; ++r) {
    auto set = [&] {
      v1::SetContextOverrideRequest req;
      req.set_memory_available_bytes(squeezed);
      req.set_cpu_busy_fraction(0.9);
      req.set_battery_percent(5);
      req.set_on_ac(false);
      v1::SetContextOverrideResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(In(5000));
      (void)admin->SetContextOverride(&ctx, req, &resp);
    };
    auto clear = [&] {
      v1::ClearContextOverrideResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(In(5000));
      (void)admin->ClearContextOverride(&ctx, v1::ClearContextOverrideRequest(), &resp);
    };
    // Only the squeeze is measured: switching back up after the clear is deliberately
    // delayed by the policy's cool-down, so the clear only resets the sessions.
    auto ms = Measure(watchers, set, settle);
    if (ms) {
      trigger.push_back(*ms);
    } else {
      ++missed;
    }
    (void)Measure(watchers, clear, settle);
  }
  if (!context_root.empty()) {
    const int64_t total = 8ll << 30;
    for (int r = 0; r < repeats; ++r) {
      auto ms = Measure(
          watchers, [&] { WriteMeminfo(context_root, total, squeezed); }, settle);
      if (ms) {
        timer.push_back(*ms);
      } else {
        ++missed;
      }
      (void)Measure(
          watchers, [&] { WriteMeminfo(context_root, total, total / 2); }, settle);
    }
  }
  watchers.clear();
  for (const auto& s : opened) {
    v1::CloseSessionRequest req;
    req.set_session_id(s.session_id());
    req.set_token(s.token());
    v1::CloseSessionResponse resp;
    grpc::ClientContext ctx;
    (void)stub->CloseSession(&ctx, req, &resp);
  }
  const size_t trigger_n = trigger.size(), timer_n = timer.size();
  const std::string t50 = JsonNumber(timer, 0.5), t99 = JsonNumber(timer, 0.99);
  const std::string g50 = JsonNumber(trigger, 0.5), g99 = JsonNumber(trigger, 0.99);
  if (json) {
    std::printf(
        "{\"bench\":\"react\",\"timer_p50_ms\":%s,\"timer_p99_ms\":%s,\"trigger_p50_ms\":%s,"
        "\"trigger_p99_ms\":%s,\"sessions\":%d,\"trigger_samples\":%zu,\"timer_samples\":%zu,"
        "\"missed\":%d}\n",
        t50.c_str(), t99.c_str(), g50.c_str(), g99.c_str(), sessions, trigger_n, timer_n, missed);
  } else {
    std::printf(
        "react (%d sessions): trigger p50 %s ms p99 %s ms (%zu changes); timer p50 %s ms "
        "p99 %s ms (%zu changes); %d changes without any switch\n",
        sessions, g50.c_str(), g99.c_str(), trigger_n, t50.c_str(), t99.c_str(), timer_n, missed);
  }
  return trigger.empty() ? 1 : 0;
}

ADASPRING_BENCH("react", "context change -> all affected sessions re-evolved (ms)", React);

}  // namespace
}  // namespace adaspring::bench
