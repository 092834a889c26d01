#include "context/probe.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <utility>

#include "context/context_monitor.h"
#include "context/default_sources.h"
#include "context/real_file_system.h"

namespace adaspring::context {

ContextSnapshot ProbeSnapshot(std::shared_ptr<FileSystem> fs, const ProbeOptions& options) {
  SourceOptions source_options;
  source_options.extra_cgroup = options.extra_cgroup;
  // The probe is the monitor run for two samples on a private loop, so that it sees exactly
  // what the daemon sees, PSI trigger included, and a hung read cannot hang it.
  boost::asio::io_context io;
  ContextMonitorOptions monitor_options;
  monitor_options.period = std::max(options.interval, std::chrono::milliseconds(1));
  monitor_options.read_timeout = options.read_timeout;
  monitor_options.psi_trigger_path = options.psi_trigger_path;
  monitor_options.psi_trigger_spec = options.psi_trigger_spec;
  ContextSnapshot snapshot;
  {
    ContextMonitor monitor(io, fs, MakeDefaultSources(fs, source_options), monitor_options);
    int published = 0;
    // Runs on this thread, inside io.run().
    monitor.Subscribe([&](const ContextSnapshot& s) {
      snapshot = s;
      if (++published == 2) io.stop();
    });
    monitor.Start();
    io.run();
  }  // destroyed while the loop is not running, as the monitor requires
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
