// Built-in defaults (system and user mode) and the file-system checks of a configuration.
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/config_loader.h"
#include "context/trace.h"

namespace adaspring::daemon {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

// XDG base directories must be absolute; relative values are to be ignored (XDG spec).
std::string XdgDir(const char* variable, const char* home_relative) {
  const std::string value = Env(variable);
  if (!value.empty() && value[0] == '/') return value;
  std::string home = Env("HOME");
  if (home.empty() || home[0] != '/') home = absl::StrCat("/tmp/adaspring-home-", getuid());
  return absl::StrCat(home, "/", home_relative);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Parent(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

DaemonConfig DefaultConfig(bool user_mode) {
  DaemonConfig config;
  if (user_mode) {
    config.mode = "user";
    const std::string xdg_runtime = Env("XDG_RUNTIME_DIR");
    config.runtime_dir = !xdg_runtime.empty() && xdg_runtime[0] == '/'
                             ? xdg_runtime + "/adaspring"
                             : absl::StrCat("/tmp/adaspring-", getuid());
    config.state_dir = XdgDir("XDG_STATE_HOME", ".local/state") + "/adaspring";
    config.models.directory = "";  // user mode loads what --models-dir or preload names
  } else {
    config.mode = "system";
    config.runtime_dir = "/run/adaspring";    // RuntimeDirectory=adaspring
    config.state_dir = "/var/lib/adaspring";  // StateDirectory=adaspring
    config.sockets.app_group = "adaspring";   // apps join this group (sysusers.d snippet)
    config.models.directory = "/usr/share/adaspring/models";
  }
  config.sockets.app_socket = config.runtime_dir + "/adaspringd.sock";
  config.sockets.admin_socket = config.runtime_dir + "/admin.sock";
  return config;
}

std::string DefaultConfigPath(bool user_mode) {
  if (!user_mode) return "/etc/adaspring/adaspringd.toml";
  return XdgDir("XDG_CONFIG_HOME", ".config") + "/adaspring/adaspringd.toml";
}

bool DetectUserMode() {
  // A system service started by systemd has $INVOCATION_ID but no $XDG_RUNTIME_DIR (that is
  // set for user services and login sessions). Root in a shell or container stays in user
  // mode: the system layout needs the unit's directories and the adaspring group.
  return Env("INVOCATION_ID").empty() || !Env("XDG_RUNTIME_DIR").empty();
}

absl::Status CheckPaths(const DaemonConfig& config) {
  std::vector<std::string> problems;
  auto add = [&](const std::string& key, const std::string& value, const std::string& why) {
    problems.push_back(absl::StrCat(key, " = \"", value, "\": ", why));
  };
  auto must_be_directory = [&](const std::string& key, const std::string& path) {
    if (!path.empty() && !IsDirectory(path)) add(key, path, "no such directory");
  };
  auto must_be_readable = [&](const std::string& key, const std::string& path) {
    if (path.empty()) return;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      add(key, path, "no such file");
    } else if (!S_ISREG(st.st_mode)) {
      add(key, path, "not a regular file");
    } else if (::access(path.c_str(), R_OK) != 0) {
      add(key, path, "not readable by this user");
    }
  };

  must_be_directory("context.root", config.context.root);
  if (IsDirectory(config.context.root) && ::access(config.context.root.c_str(), R_OK | X_OK) != 0) {
    add("context.root", config.context.root, "not readable by this user");
  }
  must_be_directory("models.directory", config.models.directory);
  must_be_readable("context.replay_trace", config.context.replay_trace);
  if (!config.context.replay_trace.empty() && IsRegularFile(config.context.replay_trace) &&
      ::access(config.context.replay_trace.c_str(), R_OK) == 0) {
    // The trace's contents too: a bad line would otherwise stop the daemon only after start.
    if (absl::StatusOr<context::Trace> trace = context::LoadTraceFile(config.context.replay_trace);
        !trace.ok()) {
      problems.push_back(absl::StrCat("context.replay_trace: ", trace.status().message()));
    }
  }
  if (config.tcp.enabled) {
    must_be_readable("tcp.tls_cert_file", config.tcp.tls_cert_file);
    must_be_readable("tcp.tls_key_file", config.tcp.tls_key_file);
    must_be_readable("tcp.tls_client_ca_file", config.tcp.tls_client_ca_file);
  }
  // The daemon creates the runtime directory itself (mkdir, one level), so its parent must
  // exist; sockets live in it or in another existing directory.
  if (!IsDirectory(config.runtime_dir) && !IsDirectory(Parent(config.runtime_dir))) {
    add("runtime_dir", config.runtime_dir,
        absl::StrCat("neither it nor its parent ", Parent(config.runtime_dir), " exists"));
  }
  for (const auto& [key, socket] :
       {std::pair{"sockets.app_socket", &config.sockets.app_socket},
        std::pair{"sockets.admin_socket", &config.sockets.admin_socket}}) {
    const std::string dir = Parent(*socket);
    if (dir != config.runtime_dir && !IsDirectory(dir)) {
      add(key, *socket, absl::StrCat("directory ", dir, " does not exist"));
    }
  }
  for (const auto& [key, group] : {std::pair{"sockets.app_group", &config.sockets.app_group},
                                   std::pair{"sockets.admin_group", &config.sockets.admin_group}}) {
    if (!group->empty() && ::getgrnam(group->c_str()) == nullptr) {
      add(key, *group, "no such group (the package creates \"adaspring\" with systemd-sysusers)");
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(problems, "\n"));
}

}  // namespace adaspring::daemon
