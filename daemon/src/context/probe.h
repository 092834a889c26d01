// `adaspringd --probe`: one snapshot of everything context sensing can see, for checking a new
// board (docs/CONTEXT.md).
#ifndef ADASPRING_DAEMON_CONTEXT_PROBE_H_
#define ADASPRING_DAEMON_CONTEXT_PROBE_H_

#include <chrono>
#include <memory>
#include <ostream>
#include <string>

#include "context/file_system.h"
#include "context/snapshot.h"

namespace adaspring::context {

struct ProbeOptions {
  std::string context_root = "/";  // a fake tree, or "/" for this machine
  bool json = false;
  std::string extra_cgroup;  // as SourceOptions::extra_cgroup
  // Rates (RAPL power, CPU busy) need two samples; the probe waits this long between them.
  std::chrono::milliseconds interval{250};
  // As ContextMonitorOptions::read_timeout: a hung read is reported, not waited for.
  std::chrono::milliseconds read_timeout{1000};
  // Also try to arm (and at once release) a PSI trigger, reported as "psi_trigger".
  std::string psi_trigger_path = "/proc/pressure/memory";
  std::string psi_trigger_spec = "some 150000 1000000";
};

// Runs a ContextMonitor with the default sources over `fs` on a private io_context until it
// has published two snapshots, `interval` apart, and returns the second (cause "probe").
// Never fails: problems show as source states, a hung read as "read timed out". Blocks for
// about the interval plus the reads.
ContextSnapshot ProbeSnapshot(std::shared_ptr<FileSystem> fs, const ProbeOptions& options);

// Human-readable, aligned: one line per source (state and reason), its values indented below,
// then the snapshot fields with units.
void WriteProbeTable(const ContextSnapshot& snapshot, const std::string& root, std::ostream& out);

// One JSON object with stable keys: {"root", "time", "snapshot": {<ContextSnapshot scalars by
// their proto names>}, "sources": [{"name", "state", "reason", "values": {..}}]}.
void WriteProbeJson(const ContextSnapshot& snapshot, const std::string& root, std::ostream& out);

// The whole command: probes `options.context_root` and prints table or JSON to `out`.
// Returns a process exit code: 0, or 66 (EX_NOINPUT) when the root is not a directory (the
// message goes to `out` as well, so that callers need only one stream).
int RunProbe(const ProbeOptions& options, std::ostream& out);
int RunProbe(const std::string& context_root, bool json, std::ostream& out);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_PROBE_H_
