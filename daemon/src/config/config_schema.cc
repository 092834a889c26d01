#include "config/config_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "log/logger.h"
#include "metrics/listen_address.h"

namespace adaspring::daemon::config_internal {
namespace {

// The struct member behind a key, as an accessor usable in a constant table. Unary '+' turns
// the capture-less lambda into the function pointer the variant holds.
#define ADASPRING_TOP(member) \
  "", #member, +[](DaemonConfig & c) -> auto& { return c.member; }
#define ADASPRING_KEY(table, member) \
#table, #member, +[](DaemonConfig & c) -> auto& { return c.table.member; }

// sun_path is 108 bytes including the terminating NUL (unix(7)).
constexpr size_t kMaxSocketPathBytes = 107;

}  // namespace

std::string TomlDouble(double value);

namespace {
// Numbers in messages: integers without a fraction, others as written in TOML.
std::string FormatPlain(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return TomlDouble(value);
}
}  // namespace

std::string Field::DottedKey() const {
  return table[0] == '\0' ? std::string(key) : absl::StrCat(table, ".", key);
}

const std::vector<Field>& Fields() {
  static const std::vector<Field> kFields = {
      {ADASPRING_TOP(mode)},
      {ADASPRING_TOP(runtime_dir)},
      {ADASPRING_TOP(state_dir)},
      {ADASPRING_KEY(sockets, app_socket)},
      {ADASPRING_KEY(sockets, admin_socket)},
      {ADASPRING_KEY(sockets, app_mode), true},
      {ADASPRING_KEY(sockets, admin_mode), true},
      {ADASPRING_KEY(sockets, app_group)},
      {ADASPRING_KEY(sockets, admin_group)},
      {ADASPRING_KEY(tcp, enabled)},
      {ADASPRING_KEY(tcp, listen)},
      {ADASPRING_KEY(tcp, tls_cert_file)},
      {ADASPRING_KEY(tcp, tls_key_file)},
      {ADASPRING_KEY(tcp, tls_client_ca_file)},
      {ADASPRING_KEY(models, directory)},
      {ADASPRING_KEY(models, preload)},
      {ADASPRING_KEY(models, cache_bytes)},
      {ADASPRING_KEY(models, warm_up)},
      {ADASPRING_KEY(models, winograd)},
      {ADASPRING_KEY(context, root)},
      {ADASPRING_KEY(context, period_ms)},
      {ADASPRING_KEY(context, cgroup)},
      {ADASPRING_KEY(context, replay_trace)},
      {ADASPRING_KEY(context, psi_triggers)},
      {ADASPRING_KEY(context, disabled_sources)},
      {ADASPRING_KEY(policy, memory_reserve_bytes)},
      {ADASPRING_KEY(policy, cpu_reserve_fraction)},
      {ADASPRING_KEY(policy, battery_low_percent)},
      {ADASPRING_KEY(policy, thermal_headroom_c)},
      {ADASPRING_KEY(policy, min_accuracy_gain)},
      {ADASPRING_KEY(policy, min_cost_saving)},
      {ADASPRING_KEY(policy, cooldown_ms)},
      {ADASPRING_KEY(policy, latency_p95_slack)},
      {ADASPRING_KEY(limits, max_sessions)},
      {ADASPRING_KEY(limits, max_sessions_per_app)},
      {ADASPRING_KEY(limits, max_inflight_per_session)},
      {ADASPRING_KEY(limits, max_queue)},
      {ADASPRING_KEY(limits, max_message_bytes)},
      {ADASPRING_KEY(limits, max_batch)},
      {ADASPRING_KEY(limits, session_idle_timeout_s)},
      {ADASPRING_KEY(scheduler, mode)},
      {ADASPRING_KEY(scheduler, workers)},
      {ADASPRING_KEY(scheduler, batch_max)},
      {ADASPRING_KEY(scheduler, batch_max_delay_us)},
      {ADASPRING_KEY(scheduler, inline_when_idle)},
      {ADASPRING_KEY(scheduler, cpu_wakeup_latency_us)},
      {ADASPRING_KEY(metrics, enabled)},
      {ADASPRING_KEY(metrics, listen)},
      {ADASPRING_KEY(logging, level)},
      {ADASPRING_KEY(logging, target)},
  };
  return kFields;
}

#undef ADASPRING_TOP
#undef ADASPRING_KEY

const std::vector<std::string>& TableNames() {
  static const std::vector<std::string> kTables = {
      "sockets", "tcp", "models", "context", "policy", "limits", "scheduler", "metrics", "logging"};
  return kTables;
}

std::string ValidKeys(const std::string& table) {
  std::vector<std::string> keys;
  for (const Field& f : Fields()) {
    if (table == f.table) keys.push_back(f.key);
  }
  if (table.empty()) {
    for (const std::string& t : TableNames()) keys.push_back(absl::StrCat("[", t, "]"));
  }
  return absl::StrJoin(keys, ", ");
}

const Field* FindField(const std::string& table, const std::string& key) {
  for (const Field& f : Fields()) {
    if (table == f.table && key == f.key) return &f;
  }
  return nullptr;
}

const Field* FindFieldByDottedKey(const std::string& dotted_key) {
  for (const Field& f : Fields()) {
    if (f.DottedKey() == dotted_key) return &f;
  }
  return nullptr;
}

double NumericValue(const Field& field, const DaemonConfig& config) {
  DaemonConfig& c = const_cast<DaemonConfig&>(config);  // accessors only read here
  return std::visit(
      [&](auto ref) -> double {
        const auto& v = ref(c);
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_arithmetic_v<T>) {
          return static_cast<double>(v);
        } else {
          return std::nan("");
        }
      },
      field.ref);
}

const std::vector<std::string>& ContextSourceNames() {
  // Kept in step with the names the context sources report (daemon/src/context).
  static const std::vector<std::string> kNames = {"rapl",    "hwmon",  "thermal", "cgroup",
                                                  "meminfo", "psi",    "cpu",     "cgroup-cpu",
                                                  "cpufreq", "battery"};
  return kNames;
}

// ---- TOML text ----

std::string TomlString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string TomlDouble(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[40];
  // Whole numbers as people write them ("20.0", not "2e+01").
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof(buffer), "%.1f", value);
    return buffer;
  }
  // Otherwise the shortest text that reads back exactly.
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  // TOML floats need a '.' or an exponent; "1e+20" is valid TOML, "20" would be an integer.
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::string FileModeText(uint32_t mode) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%04o", mode);
  return buffer;
}

std::string FieldValueText(const Field& field, const DaemonConfig& config) {
  DaemonConfig& c = const_cast<DaemonConfig&>(config);  // accessors only read here
  return std::visit(
      [&](auto ref) -> std::string {
        const auto& v = ref(c);
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return TomlString(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          return TomlDouble(v);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::vector<std::string> quoted;
          for (const std::string& s : v) quoted.push_back(TomlString(s));
          return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
        } else if constexpr (std::is_same_v<T, uint32_t>) {
          return field.file_mode ? TomlString(FileModeText(v)) : absl::StrCat(v);
        } else {
          return absl::StrCat(v);
        }
      },
      field.ref);
}

const std::vector<RangeRule>& Ranges() {
  // gRPC takes an int for max_message_bytes, and below 4 KiB not even a small image fits;
  // cpu_wakeup_latency_us: -1 = no request, the kernel's PM QoS takes 0 .. 2000 s.
  static const std::vector<RangeRule> kRanges = {
      {"models.cache_bytes", 0, 1ll << 40},
      {"context.period_ms", 10, 60000},
      {"policy.memory_reserve_bytes", 0, 1ll << 40},
      {"policy.cpu_reserve_fraction", 0, 0.9},
      {"policy.battery_low_percent", 0, 100},
      {"policy.thermal_headroom_c", 0, 100},
      {"policy.min_accuracy_gain", 0, 0.5},
      {"policy.min_cost_saving", 0, 0.9},
      {"policy.cooldown_ms", 0, 600000},
      {"policy.latency_p95_slack", 0.5, 10},
      {"limits.max_sessions", 1, 65536},
      {"limits.max_sessions_per_app", 1, 65536},
      {"limits.max_inflight_per_session", 1, 65536},
      {"limits.max_queue", 1, 1 << 20},
      {"limits.max_message_bytes", 4096, 1u << 30},
      {"limits.max_batch", 1, 1024},
      {"limits.session_idle_timeout_s", 0, 30 * 86400},
      {"scheduler.workers", 0, 1024},
      {"scheduler.batch_max", 1, 1024},
      {"scheduler.batch_max_delay_us", 0, 1000000},
      {"scheduler.cpu_wakeup_latency_us", -1, 2000000000},
  };
  return kRanges;
}

const RangeRule* FindRange(const std::string& dotted_key) {
  for (const RangeRule& r : Ranges()) {
    if (dotted_key == r.key) return &r;
  }
  return nullptr;
}

std::string RangeText(const RangeRule& rule) {
  return absl::StrCat("must be between ", FormatPlain(rule.lo), " and ", FormatPlain(rule.hi));
}

std::string Abbreviated(const std::string& shown) {
  constexpr size_t kKeep = 60;
  if (shown.size() <= kKeep + 20) return shown;
  size_t cut = kKeep;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(shown.substr(0, cut), "... (", shown.size(), " bytes)");
}

// ---- validation ----

std::vector<Problem> CheckValues(const DaemonConfig& c) {
  std::vector<Problem> problems;
  auto add = [&](const std::string& key, const std::string& value, const std::string& why) {
    problems.push_back({key, absl::StrCat(key, " = ", Abbreviated(value), ": ", why)});
  };
  auto range = [&](const std::string& key, double value, double lo, double hi) {
    if (!(value >= lo && value <= hi)) add(key, FormatPlain(value), RangeText({"", lo, hi}));
  };
  auto absolute = [&](const std::string& key, const std::string& path, bool may_be_empty) {
    if (path.empty()) {
      if (!may_be_empty) add(key, "\"\"", "must not be empty");
    } else if (path[0] != '/') {
      add(key, TomlString(path), "must be an absolute path");
    }
  };
  auto one_of = [&](const std::string& key, const std::string& value,
                    const std::vector<std::string>& allowed) {
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      add(key, TomlString(value), absl::StrCat("must be one of ", absl::StrJoin(allowed, ", ")));
    }
  };

  for (const RangeRule& r : Ranges()) {
    const Field* field = FindFieldByDottedKey(r.key);
    if (field != nullptr) range(r.key, NumericValue(*field, c), r.lo, r.hi);
  }
  one_of("mode", c.mode, {"system", "user"});
  absolute("runtime_dir", c.runtime_dir, false);
  absolute("state_dir", c.state_dir, false);

  // Sockets.
  for (const auto& [key, path] : {std::pair{"sockets.app_socket", &c.sockets.app_socket},
                                  std::pair{"sockets.admin_socket", &c.sockets.admin_socket}}) {
    absolute(key, *path, false);
    if (path->size() > kMaxSocketPathBytes) {
      add(key, TomlString(*path),
          absl::StrCat("is ", path->size(), " bytes; a Unix socket path may have at most ",
                       kMaxSocketPathBytes));
    }
  }
  if (!c.sockets.app_socket.empty() && c.sockets.app_socket == c.sockets.admin_socket) {
    add("sockets.admin_socket", TomlString(c.sockets.admin_socket),
        "must differ from sockets.app_socket (admin calls are refused on the app socket)");
  }
  for (const auto& [key, mode] : {std::pair{"sockets.app_mode", c.sockets.app_mode},
                                  std::pair{"sockets.admin_mode", c.sockets.admin_mode}}) {
    if (mode > 0777) {
      add(key, TomlString(FileModeText(mode)),
          "not a permission mode: use three octal digits such as \"0660\" (or 0o660)");
    } else if ((mode & 0600) != 0600) {
      add(key, TomlString(FileModeText(mode)),
          "the owner (the daemon) needs read and write permission (0600)");
    }
  }
  if (c.sockets.admin_mode <= 0777 && (c.sockets.admin_mode & 0007) != 0) {
    add("sockets.admin_mode", TomlString(FileModeText(c.sockets.admin_mode)),
        "the admin socket must not be accessible to other users (no bits in the last digit)");
  }

  // TCP.
  if (absl::StatusOr<ListenAddress> a = ParseListenAddress(c.tcp.listen); !a.ok()) {
    add("tcp.listen", TomlString(c.tcp.listen), std::string(a.status().message()));
  }
  if (c.tcp.enabled) {
    if (c.tcp.tls_cert_file.empty() || c.tcp.tls_key_file.empty()) {
      add("tcp.enabled", "true",
          "tcp.tls_cert_file and tcp.tls_key_file must both be set: the TCP listener never "
          "serves without TLS");
    }
  }
  absolute("tcp.tls_cert_file", c.tcp.tls_cert_file, true);
  absolute("tcp.tls_key_file", c.tcp.tls_key_file, true);
  absolute("tcp.tls_client_ca_file", c.tcp.tls_client_ca_file, true);

  // Models.
  absolute("models.directory", c.models.directory, true);
  for (const std::string& p : c.models.preload) {
    if (p.empty()) {
      add("models.preload", "[..., \"\", ...]", "entries must not be empty");
    } else if (p[0] != '/') {
      add("models.preload", TomlString(p), "entries must be absolute paths");
    }
  }

  // Context.
  absolute("context.root", c.context.root, false);

  absolute("context.replay_trace", c.context.replay_trace, true);
  if (const std::string& g = c.context.cgroup; !g.empty()) {
    const std::vector<std::string> parts = absl::StrSplit(g, '/');
    if (g[0] != '/') {
      add("context.cgroup", TomlString(g),
          "must start with / (a path in the cgroup v2 hierarchy, e.g. \"/apps.slice\")");
    } else if (std::find(parts.begin(), parts.end(), "..") != parts.end()) {
      add("context.cgroup", TomlString(g), "must not contain \"..\"");
    } else if (g.size() > 4096) {
      add("context.cgroup", TomlString(g), "is longer than a path may be (4096 bytes)");
    }
  }
  for (const std::string& s : c.context.disabled_sources) {
    one_of("context.disabled_sources", s, ContextSourceNames());
  }

  // Policy.

  // Limits.

  if (c.limits.max_sessions_per_app > c.limits.max_sessions) {
    add("limits.max_sessions_per_app", absl::StrCat(c.limits.max_sessions_per_app),
        absl::StrCat("must not exceed limits.max_sessions (", c.limits.max_sessions, ")"));
  }

  // Scheduler.
  one_of("scheduler.mode", c.scheduler.mode, {"latency", "throughput"});

  if (c.scheduler.batch_max > c.limits.max_batch) {
    add("scheduler.batch_max", absl::StrCat(c.scheduler.batch_max),
        absl::StrCat("must not exceed limits.max_batch (", c.limits.max_batch, ")"));
  }

  // Metrics and logging.
  if (absl::StatusOr<ListenAddress> a = ParseListenAddress(c.metrics.listen); !a.ok()) {
    add("metrics.listen", TomlString(c.metrics.listen), std::string(a.status().message()));
  }
  if (!ParseLogLevel(c.logging.level).ok()) {
    one_of("logging.level", c.logging.level, {"debug", "info", "warning", "error"});
  }
  one_of("logging.target", c.logging.target, {"auto", "journal", "stderr"});
  return problems;
}

}  // namespace adaspring::daemon::config_internal
