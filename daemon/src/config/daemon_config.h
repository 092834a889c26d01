// adaspringd's configuration: what /etc/adaspring/adaspringd.toml (or the user-mode default,
// configs/adaspringd-user.toml) holds, after defaults and command-line overrides.
// Loading and validation: config_loader.h. Units are in the field names.
#ifndef ADASPRING_DAEMON_CONFIG_DAEMON_CONFIG_H_
#define ADASPRING_DAEMON_CONFIG_DAEMON_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

namespace adaspring::daemon {

struct SocketConfig {
  std::string app_socket;    // e.g. /run/adaspring/adaspringd.sock
  std::string admin_socket;  // e.g. /run/adaspring/admin.sock
  uint32_t app_mode = 0660;
  uint32_t admin_mode = 0600;
  std::string app_group;    // group owning the app socket ("" = leave as is)
  std::string admin_group;  // group owning the admin socket ("" = leave as is)
  bool operator==(const SocketConfig&) const = default;
};

struct TcpConfig {
  bool enabled = false;
  std::string listen = "127.0.0.1:7443";
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;  // TLS required when enabled
  bool operator==(const TcpConfig&) const = default;
};

struct ModelsConfig {
  std::string directory;              // every valid *.asb in it is loaded at start
  std::vector<std::string> preload;   // extra bundle paths
  int64_t cache_bytes = 256ll << 20;  // evolution LRU bound per model
  bool warm_up = true;                // every layer's kernels and factors made at load
  bool winograd = true;               // Winograd kernel for large 3 x 3 convolutions
  bool operator==(const ModelsConfig&) const = default;
};

struct ContextConfig {
  std::string root = "/";  // prefix for /sys, /proc (fake trees in tests)
  uint32_t period_ms = 200;
  std::string cgroup;        // extra cgroup to watch ("" = own cgroup only)
  std::string replay_trace;  // CSV trace replayed instead of sensing ("" = off)
  bool psi_triggers = true;
  std::vector<std::string> disabled_sources;  // e.g. {"rapl"}
  bool operator==(const ContextConfig&) const = default;
};

struct PolicyConfig {
  int64_t memory_reserve_bytes = 64ll << 20;  // kept free for the rest of the system
  double cpu_reserve_fraction = 0.1;          // of all cores
  double battery_low_percent = 20;            // below: energy-saver budgets
  double thermal_headroom_c = 10;             // below the trip point: throttle budgets
  double min_accuracy_gain = 0.005;           // hysteresis (fraction)
  double min_cost_saving = 0.10;              // hysteresis (fraction)
  uint32_t cooldown_ms = 1000;                // min time between switches of one session
  double latency_p95_slack = 1.0;             // re-evolve when p95 > budget x slack
  bool operator==(const PolicyConfig&) const = default;
};

struct LimitsConfig {
  uint32_t max_sessions = 256;
  uint32_t max_sessions_per_app = 16;
  uint32_t max_inflight_per_session = 64;
  uint32_t max_queue = 1024;  // requests queued across sessions
  uint32_t max_message_bytes = 16u << 20;
  uint32_t max_batch = 32;
  // A session without calls and without open streams for this long is closed (its client is
  // presumably gone; the client library reopens a session transparently). 0 = never.
  uint32_t session_idle_timeout_s = 600;
  bool operator==(const LimitsConfig&) const = default;
};

struct SchedulerConfig {
  // "latency": one request at a time using all cores; "throughput": one core per worker.
  std::string mode = "throughput";
  uint32_t workers = 0;               // 0 = number of cores
  uint32_t batch_max = 16;            // dynamic batching: max images per batch
  uint32_t batch_max_delay_us = 500;  // max queueing delay added for batching
  // throughput mode: a request that finds the workers idle runs on its gRPC thread
  bool inline_when_idle = true;
  // >= 0: hold a PM QoS request of this many microseconds on the CPU wake-up latency while
  // serving (no idle state that takes longer to leave); -1 = none (the kernel's own choice).
  int64_t cpu_wakeup_latency_us = -1;
  // Not a key: the PM QoS device (tests point it at a file of their own).
  std::string cpu_latency_device = "/dev/cpu_dma_latency";
  bool operator==(const SchedulerConfig&) const = default;
};

struct MetricsConfig {
  bool enabled = false;
  std::string listen = "127.0.0.1:9464";  // loopback only unless explicitly changed
  bool operator==(const MetricsConfig&) const = default;
};

struct LoggingConfig {
  std::string level = "info";   // debug | info | warning | error
  std::string target = "auto";  // auto (journal under systemd, else stderr) | journal | stderr
  bool operator==(const LoggingConfig&) const = default;
};

struct DaemonConfig {
  std::string mode = "user";  // "system" | "user"
  std::string runtime_dir;    // sockets (user mode: $XDG_RUNTIME_DIR/adaspring)
  std::string state_dir;      // profiles, loaded-model list
  SocketConfig sockets;
  TcpConfig tcp;
  ModelsConfig models;
  ContextConfig context;
  PolicyConfig policy;
  LimitsConfig limits;
  SchedulerConfig scheduler;
  MetricsConfig metrics;
  LoggingConfig logging;
  bool operator==(const DaemonConfig&) const = default;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_CONFIG_DAEMON_CONFIG_H_
