#include "context/probe.h"

#include <unistd.h>

#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "context/default_sources.h"
#include "context/parse.h"
#include "context/psi_trigger.h"
#include "context/readings.h"
#include "context/real_file_system.h"

namespace adaspring::context {

ContextSnapshot ProbeSnapshot(std::shared_ptr<FileSystem> fs, const ProbeOptions& options) {
  SourceOptions source_options;
  source_options.extra_cgroup = options.extra_cgroup;
  std::vector<std::shared_ptr<Source>> sources = MakeDefaultSources(fs, source_options);
  ContextSnapshot snapshot;
  for (int round = 0; round < 2; ++round) {
    if (round == 1) std::this_thread::sleep_for(options.interval);
    snapshot = SampleSources(sources, std::chrono::steady_clock::now());
  }
  if (!options.psi_trigger_path.empty()) {
    absl::StatusOr<ArmedPsiTrigger> armed =
        ArmPsiTrigger(*fs, options.psi_trigger_path, options.psi_trigger_spec);
    SourceStatus status;
    if (armed.ok()) {
      ::close(armed->fd);
      status = MakeStatus("psi_trigger", SourceState::kAvailable, armed->note);
      status.values.emplace_back("trigger",
                                 absl::StrCat(options.psi_trigger_path, ": ", armed->spec));
    } else {
      const bool absent = absl::IsNotFound(armed.status()) ||
                          absl::IsUnimplemented(armed.status()) ||
                          absl::IsFailedPrecondition(armed.status());
      status = MakeStatus("psi_trigger", absent ? SourceState::kAbsent : SourceState::kDegraded,
                          std::string(armed.status().message()));
    }
    snapshot.sources.push_back(std::move(status));
  }
  snapshot.time = std::chrono::system_clock::now();
  snapshot.steady_time = std::chrono::steady_clock::now();
  snapshot.sequence = 1;
  snapshot.cause = "probe";
  return snapshot;
}

int RunProbe(const ProbeOptions& options, std::ostream& out) {
  auto fs = std::make_shared<RealFileSystem>(options.context_root);
  if (!RealFileSystem("/").Exists(options.context_root) || !fs->ListDirectory("/").ok()) {
    out << "adaspringd --probe: context root " << options.context_root
        << " is not a readable directory\n";
    return 66;
  }
  const ContextSnapshot snapshot = ProbeSnapshot(fs, options);
  if (options.json) {
    WriteProbeJson(snapshot, options.context_root, out);
  } else {
    WriteProbeTable(snapshot, options.context_root, out);
  }
  return 0;
}

int RunProbe(const std::string& context_root, bool json, std::ostream& out) {
  ProbeOptions options;
  options.context_root = context_root.empty() ? "/" : context_root;
  options.json = json;
  return RunProbe(options, out);
}

}  // namespace adaspring::context
