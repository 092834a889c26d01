// adaspringd entry point: command line, configuration, listeners, context monitor, signals and
// systemd notifications, all driven from one Boost.Asio event loop on the main thread.
//
//   adaspringd [--config FILE] [--runtime-dir DIR] [--models-dir DIR] [--context-root DIR]
//              [--probe [--json]] [--check-config FILE] [--version] [--help]
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "adaspring/engine/arch.h"
#include "adaspring/engine/build_id.h"
#include "adaspring/engine/model.h"
#include "config/config_loader.h"
#include "context/context_monitor.h"
#include "context/default_sources.h"
#include "context/probe.h"
#include "context/real_file_system.h"
#include "context/replay_source.h"
#include "context/trace.h"
#include "log/logger.h"
#include "log/protobuf_log.h"
#include "metrics/daemon_metrics.h"
#include "metrics/http_server.h"
#include "metrics/registry.h"
#include "server/daemon.h"
#include "server/event_log.h"
#include "server/metrics_bridge.h"
#include "server/rpc_servers.h"
#include "systemd/notifier.h"

namespace {

using adaspring::daemon::LogLevel;
namespace asio = boost::asio;

constexpr char kUsage[] =
    "usage: adaspringd [--config FILE] [--runtime-dir DIR] [--models-dir DIR]\n"
    "                  [--context-root DIR] [--probe [--json]] [--check-config FILE]\n"
    "                  [--version] [--help]\n"
    "\n"
    "  --config FILE        TOML configuration (default: the mode's default file if present)\n"
    "  --runtime-dir DIR    sockets DIR/adaspringd.sock and DIR/admin.sock, state DIR/state\n"
    "  --models-dir DIR     load every valid *.asb bundle in DIR at start\n"
    "  --context-root DIR   read /sys and /proc under DIR (fake trees, tests)\n"
    "  --probe [--json]     print what the context sensors see on this machine and exit\n"
    "  --check-config FILE  validate FILE, print the effective configuration, exit 0 or 78\n";

struct Args {
  adaspring::daemon::CommandLineOverrides overrides;
  bool probe = false, json = false, version = false, help = false;
  std::string check_config;
};

int ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "adaspringd: %s needs a value\n%s", arg.c_str(), kUsage);
        return false;
      }
      *out = argv[++i];
      return true;
    };
    bool ok = true;
    if (arg == "--config") {
      ok = value(&a->overrides.config_path);
    } else if (arg == "--runtime-dir") {
      ok = value(&a->overrides.runtime_dir);
    } else if (arg == "--models-dir") {
      ok = value(&a->overrides.models_dir);
    } else if (arg == "--context-root") {
      ok = value(&a->overrides.context_root);
    } else if (arg == "--check-config") {
      ok = value(&a->check_config);
    } else if (arg == "--probe") {
      a->probe = true;
    } else if (arg == "--json") {
      a->json = true;
    } else if (arg == "--version") {
      a->version = true;
    } else if (arg == "--help" || arg == "-h") {
      a->help = true;
    } else {
      std::fprintf(stderr, "adaspringd: unknown option '%s'\n%s", arg.c_str(), kUsage);
      return 64;  // EX_USAGE
    }
    if (!ok) return 64;
  }
  if (a->json && !a->probe) {
    std::fprintf(stderr, "adaspringd: --json only goes with --probe\n%s", kUsage);
    return 64;
  }
  return 0;
}

// The repo's models/ when run from a build tree, else the installed location.
std::string DefaultModelsDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path dir = exe.parent_path();
    for (const char* rel : {"../../../models", "../../models", "../share/adaspring/models"}) {
      const std::filesystem::path p = (dir / rel).lexically_normal();
      if (std::filesystem::is_directory(p, ec)) return p.string();
    }
  }
  if (std::filesystem::is_directory("/usr/share/adaspring/models", ec)) {
    return "/usr/share/adaspring/models";
  }
  return "";
}

void MakeDirs(const std::string& dir, mode_t mode) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ::chmod(dir.c_str(), mode);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace adaspring::daemon;
  Args args;
  if (int rc = ParseArgs(argc, argv, &args); rc != 0) return rc;
  if (args.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.version) {
    std::printf("adaspringd %s (engine build %s)\n", ADASPRING_VERSION,
                adaspring::engine::EngineBuildId().c_str());
    return 0;
  }
  if (!args.check_config.empty())
    return CheckConfigCommand(args.check_config, std::cout, std::cerr);
  if (args.probe) {
    const std::string root =
        args.overrides.context_root.empty() ? "/" : args.overrides.context_root;
    return adaspring::context::RunProbe(root, args.json, std::cout);
  }

  // Debian's abseil keeps absl::Mutex's deadlock detection on (a global lock-order graph
  // consulted on every Lock); the daemon's lock order is fixed by design and covered by the
  // ASan/debug test builds, so the serving path should not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const bool user_mode = DetectUserMode();
  absl::StatusOr<DaemonConfig> resolved = ResolveConfig(args.overrides, user_mode);
  if (!resolved.ok()) {
    std::fprintf(stderr, "adaspringd: %s\n", std::string(resolved.status().message()).c_str());
    return kExitConfig;
  }
  DaemonConfig config = *resolved;
  if (config.models.directory.empty() && config.mode == "user") {
    config.models.directory = DefaultModelsDir();
  }
  absl::StatusOr<LogLevel> level = ParseLogLevel(config.logging.level);
  InitLogging(level.ok() ? *level : LogLevel::kInfo);
  RouteProtobufLogs();
  MakeDirs(config.runtime_dir, config.mode == "user" ? 0700 : 0755);
  MakeDirs(config.state_dir, 0700);

  Daemon daemon(config);
  // Sessions, evolutions, model loads and overrides go to the log (journal fields APP=,
  // MODEL=, SESSION_ID=) as well as to adaspringctl watch.
  EventLog event_log(&daemon.events());
  if (absl::Status s = daemon.Start(); !s.ok()) {
    Log(LogLevel::kError, absl::StrCat("start failed: ", s.ToString()));
    return 1;
  }
  for (const std::string& w : daemon.TakeWarnings()) Log(LogLevel::kWarning, w);
  for (const auto& m : daemon.models().All()) {
    Log(LogLevel::kInfo, "model loaded", {{"model", m->name}, {"path", m->path}});
  }
  if (daemon.models().size() == 0 && config.mode == "user") {
    // Nothing to serve: offer the untrained reference architecture so that clients and
    // benchmarks have something to talk to (its outputs are meaningless; it says so).
    auto arch = adaspring::engine::BuiltinArch("smallres28");
    if (arch.ok()) {
      (void)daemon.AddModel(adaspring::engine::Model::Random(*arch, 1));
      Log(LogLevel::kWarning,
          "no model bundles found; serving an untrained random 'smallres28' model",
          {{"models_dir", config.models.directory}});
    }
  }

  // The replay trace is read before the sockets exist: a bad one ends start-up as a
  // configuration error without ever serving.
  std::optional<adaspring::context::Trace> replay;
  if (!config.context.replay_trace.empty()) {
    absl::StatusOr<adaspring::context::Trace> trace =
        adaspring::context::LoadTraceFile(config.context.replay_trace);
    if (!trace.ok()) {
      Log(LogLevel::kError, absl::StrCat("context.replay_trace: ", trace.status().message()));
      daemon.Shutdown();
      return kExitConfig;
    }
    replay = *std::move(trace);
  }

  RpcServers servers(&daemon);
  if (absl::Status s = servers.Start(); !s.ok()) {
    Log(LogLevel::kError, absl::StrCat("cannot listen: ", s.ToString()));
    daemon.Shutdown();
    return 69;  // EX_UNAVAILABLE
  }

  asio::io_context io;
  auto fs = std::make_shared<adaspring::context::RealFileSystem>(config.context.root);
  adaspring::context::SourceOptions source_options;
  source_options.extra_cgroup = config.context.cgroup;
  // Disabled sources stay listed, as absent "disabled in the configuration"; "cgroup" also
  // turns off the extra cgroup's source.
  source_options.disabled = config.context.disabled_sources;
  adaspring::context::ContextMonitorOptions monitor_options;
  monitor_options.period = std::chrono::milliseconds(config.context.period_ms);
  if (!config.context.psi_triggers) monitor_options.psi_trigger_path.clear();
  std::vector<std::shared_ptr<adaspring::context::Source>> sources =
      adaspring::context::MakeDefaultSources(fs, source_options);
  if (replay) {
    // The replayed values replace the sensed ones (demos, simulation); it loops.
    sources.push_back(
        std::make_shared<adaspring::context::ReplaySource>(std::move(*replay), /*loop=*/true));
  }
  adaspring::context::ContextMonitor monitor(io, fs, std::move(sources), monitor_options);
  daemon.AttachContext(&monitor);
  monitor.Start();

  // Prometheus metrics on loopback (off by default): the bridge copies the daemon's own
  // counters once a second, so the request path never touches the registry.
  metrics::Registry registry;
  metrics::DaemonMetrics daemon_metrics(registry);
  MetricsBridge bridge(&daemon, &daemon_metrics);
  std::unique_ptr<metrics::MetricsHttpServer> metrics_server;
  asio::steady_timer metrics_timer(io);
  std::function<void()> metrics_tick = [&] {
    bridge.Update();
    metrics_timer.expires_after(std::chrono::seconds(1));
    metrics_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) metrics_tick();
    });
  };
  if (config.metrics.enabled) {
    metrics_server = std::make_unique<metrics::MetricsHttpServer>(io, registry);
    if (absl::Status s = metrics_server->Start(config.metrics.listen); !s.ok()) {
      Log(LogLevel::kError, absl::StrCat("metrics disabled: ", s.ToString()));
      metrics_server.reset();
    } else {
      metrics_tick();
    }
  }

  // Signals are caught from here on, before READY=1: a reload or stop that systemd (or a test)
  // sends the moment the daemon reports ready is queued, not fatal (SIGHUP's default action).
  asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
  Notifier notifier;
  (void)notifier.Ready(daemon.Summary());
  Log(LogLevel::kInfo, "listening",
      {{"app_socket", config.sockets.app_socket},
       {"admin_socket", config.sockets.admin_socket},
       {"models", std::to_string(daemon.models().size())},
       {"engine", daemon.engine().name()}});
  if (daemon.CpuLatencyHeldUs() >= 0) {
    Log(LogLevel::kInfo, "holding a CPU wake-up latency request",
        {{"cpu_wakeup_latency", daemon.CpuLatencyState()}});
  }

  // STATUS= every few seconds and WATCHDOG=1 from this loop (a stuck loop stops the pings);
  // sessions whose apps went away are closed on the same beat.
  asio::steady_timer status_timer(io);
  std::function<void()> status_tick = [&] {
    daemon.CloseIdleSessions();
    (void)notifier.Status(daemon.Summary());
    status_timer.expires_after(std::chrono::seconds(5));
    status_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) status_tick();
    });
  };
  status_tick();
  asio::steady_timer watchdog_timer(io);
  const auto watchdog = notifier.WatchdogInterval();
  std::function<void()> watchdog_tick = [&] {
    (void)notifier.Watchdog();
    watchdog_timer.expires_after(watchdog / 2);
    watchdog_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) watchdog_tick();
    });
  };
  if (watchdog.count() > 0) watchdog_tick();

  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        // A reload loads new bundles on this loop: it gets a whole watchdog period, and the
        // loop pings again as soon as it is done.
        if (watchdog.count() > 0) (void)notifier.Watchdog();
        (void)notifier.Reloading();
        absl::StatusOr<DaemonConfig> next = ResolveConfig(args.overrides, user_mode);
        if (next.ok()) {
          daemon.Reload(*next);
          for (const std::string& w : daemon.TakeWarnings()) Log(LogLevel::kWarning, w);
          if (auto l = ParseLogLevel(next->logging.level); l.ok()) SetLogLevel(*l);
          Log(LogLevel::kInfo, "configuration reloaded");
        } else {
          Log(LogLevel::kError, absl::StrCat("reload failed, keeping the running configuration: ",
                                             next.status().message()));
        }
        (void)notifier.Ready(daemon.Summary());
        if (watchdog.count() > 0) (void)notifier.Watchdog();
        wait_signal();
        return;
      }
      Log(LogLevel::kInfo, absl::StrCat("received ", strsignal(sig), ": draining"));
      (void)notifier.Stopping();
      status_timer.cancel();
      watchdog_timer.cancel();
      metrics_timer.cancel();
      if (metrics_server) metrics_server->Stop();
      monitor.Stop();
      io.stop();
    });
  };
  wait_signal();
  io.run();

  // Drain: queued and running requests finish, watch streams end, then the listeners close.
  daemon.Shutdown();
  servers.Shutdown(std::chrono::seconds(5));
  Log(LogLevel::kInfo, "stopped");
  return 0;
}
