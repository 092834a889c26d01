// Loading, validating and dumping adaspringd's TOML configuration (toml++).
//
// The pipeline main() runs is ResolveConfig(): defaults for the mode -> the file (if any) ->
// command-line overrides -> value validation -> file-system checks. Every error names the key,
// the value and the reason, with the file position when it comes from a file, e.g.
//   /etc/adaspring/adaspringd.toml:12:1: limits.max_sessions = 0: must be between 1 and 65536
// All problems found are reported at once (one per line), not only the first.
// A failed load must make the daemon exit with kExitConfig (78, EX_CONFIG from sysexits.h).
//
// Thread safety: all functions are pure or only read the file system and the environment;
// they may be called from any thread.
#ifndef ADASPRING_DAEMON_CONFIG_CONFIG_LOADER_H_
#define ADASPRING_DAEMON_CONFIG_CONFIG_LOADER_H_

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "config/daemon_config.h"

namespace adaspring::daemon {

// EX_CONFIG: "something was found in an unconfigured or misconfigured state" (sysexits.h).
// systemd's unit uses RestartPreventExitStatus=78 so a broken config is not restarted in a loop.
inline constexpr int kExitConfig = 78;

// The command line options that change the configuration (issue 7's command line).
struct CommandLineOverrides {
  std::string config_path;   // --config FILE ("" = the mode's default file if it exists)
  std::string runtime_dir;   // --runtime-dir DIR: sockets DIR/adaspringd.sock, DIR/admin.sock,
                             // state DIR/state (wins over the file)
  std::string models_dir;    // --models-dir DIR: models.directory
  std::string context_root;  // --context-root DIR: context.root
};

// Built-in defaults. System mode: /run/adaspring, /var/lib/adaspring, app socket group
// "adaspring", models from /usr/share/adaspring/models. User mode: $XDG_RUNTIME_DIR/adaspring
// (or /tmp/adaspring-$UID), state in $XDG_STATE_HOME/adaspring (or ~/.local/state/adaspring),
// no socket groups, no models directory. Reads the environment; never fails.
DaemonConfig DefaultConfig(bool user_mode);

// The config file used when --config is not given: /etc/adaspring/adaspringd.toml in system
// mode, $XDG_CONFIG_HOME/adaspring/adaspringd.toml (or ~/.config/...) in user mode.
std::string DefaultConfigPath(bool user_mode);

// True unless the process runs as root or as a systemd system service (the unit passes an
// explicit --config with mode = "system" anyway; this only picks the defaults).
bool DetectUserMode();

// Parses TOML text. The file's top-level `mode` ("system" | "user", default "user") selects
// DefaultConfig(); keys present in the text override it. Socket paths not given in the text
// are derived from the (possibly overridden) runtime_dir. Runs ValidateConfig() but not
// CheckPaths(). `origin` names the text in messages (a path or "<string>").
// Errors: InvalidArgument (syntax, unknown key, wrong type, bad value).
absl::StatusOr<DaemonConfig> ParseConfig(const std::string& toml_text, const std::string& origin);

// Reads `path` and parses it as ParseConfig() does. NotFound / PermissionDenied when the file
// cannot be read; InvalidArgument for its content.
absl::StatusOr<DaemonConfig> LoadConfig(const std::string& path);

// Applies --runtime-dir / --models-dir / --context-root (not config_path) to `config`.
void ApplyOverrides(const CommandLineOverrides& overrides, DaemonConfig* config);

// Value checks that need no file system: ranges, enums, socket modes, listen addresses,
// TLS enabled without cert/key, empty required paths. InvalidArgument listing every problem.
absl::Status ValidateConfig(const DaemonConfig& config);

// File-system checks: context.root, models.directory (if set) and context.replay_trace must
// exist; TLS files must be readable when TCP is enabled; runtime_dir / state_dir must exist or
// have an existing parent (the daemon creates the last component). FailedPrecondition.
absl::Status CheckPaths(const DaemonConfig& config);

// The whole pipeline for main(): file (overrides.config_path, else DefaultConfigPath() if that
// file exists, else built-in defaults for `user_mode`), overrides, ValidateConfig, CheckPaths.
absl::StatusOr<DaemonConfig> ResolveConfig(const CommandLineOverrides& overrides, bool user_mode);

// TOML text with every key of `config`; LoadConfig/ParseConfig(DumpConfig(c)) == c for every
// valid c. Used for `adaspringctl config` style dumps and the round-trip tests.
std::string DumpConfig(const DaemonConfig& config);

// For SIGHUP: the dotted keys whose values differ between the running configuration and the
// newly loaded one (documentation order), and the subset that takes effect only after a
// restart (mode, runtime_dir, state_dir, sockets.*, tcp.*, metrics.* -- the daemon keeps the
// old value of those and should log a warning naming them).
std::vector<std::string> ChangedKeys(const DaemonConfig& running, const DaemonConfig& next);
std::vector<std::string> RestartRequiredKeys(const DaemonConfig& running, const DaemonConfig& next);

// `adaspringd --check-config FILE`: loads FILE, validates values and paths. On success prints
// "FILE: OK" and the effective configuration (DumpConfig) to `out` and returns 0; otherwise
// prints the messages to `err` and returns kExitConfig (78).
int CheckConfigCommand(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_CONFIG_CONFIG_LOADER_H_
