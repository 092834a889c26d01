// The standard set of context sources, in the order they are sampled and reported.
#ifndef ADASPRING_DAEMON_CONTEXT_DEFAULT_SOURCES_H_
#define ADASPRING_DAEMON_CONTEXT_DEFAULT_SOURCES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "context/file_system.h"
#include "context/snapshot.h"
#include "context/source.h"

namespace adaspring::context {

struct SourceOptions {
  // A second cgroup to watch besides the daemon's own (e.g. "/apps.slice", where the client
  // apps run); empty for none.
  std::string extra_cgroup;
  // Source names not to read (config context.disabled_sources, e.g. {"rapl"}); each still
  // appears in snapshots, as absent "disabled in the configuration".
  std::vector<std::string> disabled;
};

// rapl, hwmon, thermal, cgroup[, cgroup:<extra>], meminfo, psi, cpu, cpufreq, battery.
// RAPL comes before hwmon so that package power wins when both exist.
std::vector<std::shared_ptr<Source>> MakeDefaultSources(std::shared_ptr<FileSystem> fs,
                                                        const SourceOptions& options = {});

// A trace replayed instead of sensing (config context.replay_trace): one ReplaySource.
// Errors: those of LoadTraceFile (NOT_FOUND, INVALID_ARGUMENT naming line and column).
absl::StatusOr<std::vector<std::shared_ptr<Source>>> MakeReplaySources(const std::string& path,
                                                                       bool loop = false);

// Samples each source once at `now`, in order, on the calling thread (no time limit; the
// monitor uses a worker instead) and combines the readings, statuses in source order.
ContextSnapshot SampleSources(const std::vector<std::shared_ptr<Source>>& sources, SteadyTime now);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_DEFAULT_SOURCES_H_
