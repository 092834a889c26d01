// adaspringctl commands. Each returns the process exit code (see ExitCode) after printing
// its result to stdout (a table for people, or one JSON object with --json) and any error as
// one line on stderr.
#ifndef ADASPRING_CLIENT_CTL_COMMANDS_H_
#define ADASPRING_CLIENT_CTL_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

namespace adaspring::ctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitServerError = 1,  // the daemon answered with an error (message printed)
  kExitUsage = 2,        // bad command line or unreadable local input
  kExitNotRunning = 3,   // no daemon on the socket (message names the socket)
};

struct GlobalOptions {
  std::string socket;        // app socket; empty = default
  std::string admin_socket;  // empty = admin.sock beside the app socket
  bool json = false;
  double timeout_s = 10;  // per call
};

int CmdStatus(const GlobalOptions& g);
int CmdContext(const GlobalOptions& g);
int CmdSessions(const GlobalOptions& g);
int CmdModelsList(const GlobalOptions& g);
int CmdModelsLoad(const GlobalOptions& g, const std::string& path);
int CmdModelsUnload(const GlobalOptions& g, const std::string& name, bool force);
int CmdProfile(const GlobalOptions& g, const std::string& name, bool force);

struct OverrideOptions {
  std::optional<double> memory_limit_mb, memory_available_mb, battery_pct, temp_c, cpu_busy,
      power_w;
  std::optional<bool> on_ac;
};
int CmdOverrideSet(const GlobalOptions& g, const OverrideOptions& o);
int CmdOverrideClear(const GlobalOptions& g);

struct WatchOptions {
  bool all_samples = false;
  int count = 0;       // stop after this many events (0 = no limit)
  double seconds = 0;  // stop after this long (0 = no limit)
};
int CmdWatch(const GlobalOptions& g, const WatchOptions& o);

struct InferOptions {
  std::string model, input, labels, pin, app = "adaspringctl";
  int index = 0, count = 1, top_k = 3;
  double budget_ms = 100;
};
int CmdInfer(const GlobalOptions& g, const InferOptions& o);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_COMMANDS_H_
