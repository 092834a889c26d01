#include "context/default_sources.h"

#include <utility>

#include "context/battery_source.h"
#include "context/cgroup_cpu_source.h"
#include "context/cgroup_source.h"
#include "context/cpu_source.h"
#include "context/cpufreq_source.h"
#include "context/hwmon_source.h"
#include "context/meminfo_source.h"
#include "context/parse.h"
#include "context/psi_source.h"
#include "context/rapl_source.h"
#include "context/readings.h"
#include "context/replay_source.h"
#include "context/thermal_source.h"
#include "context/trace.h"

namespace adaspring::context {
namespace {

// Stands in for a source the configuration turned off, so that it is still listed.
class DisabledSource final : public Source {
 public:
  explicit DisabledSource(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  SourceStatus Sample(SteadyTime, Readings*) override {
    return MakeStatus(name_, SourceState::kAbsent, "disabled in the configuration");
  }

 private:
  std::string name_;
};

}  // namespace

std::vector<std::shared_ptr<Source>> MakeDefaultSources(std::shared_ptr<FileSystem> fs,
                                                        const SourceOptions& options) {
  std::vector<std::shared_ptr<Source>> sources;
  sources.push_back(std::make_shared<RaplSource>(fs));
  sources.push_back(std::make_shared<HwmonSource>(fs));
  sources.push_back(std::make_shared<ThermalSource>(fs));
  sources.push_back(std::make_shared<CgroupSource>(fs));
  if (!options.extra_cgroup.empty())
    sources.push_back(std::make_shared<CgroupSource>(fs, options.extra_cgroup));
  sources.push_back(std::make_shared<MeminfoSource>(fs));
  sources.push_back(std::make_shared<PsiSource>(fs));
  sources.push_back(std::make_shared<CpuSource>(fs));
  sources.push_back(std::make_shared<CgroupCpuSource>(fs));
  sources.push_back(std::make_shared<CpufreqSource>(fs));
  sources.push_back(std::make_shared<BatterySource>(fs));
  for (auto& source : sources) {
    const std::string name = source->name();
    for (const std::string& disabled : options.disabled) {
      // "cgroup" also turns off the configured cgroup ("cgroup:/apps.slice").
      if (name == disabled || name.rfind(disabled + ":", 0) == 0)
        source = std::make_shared<DisabledSource>(name);
    }
  }
  return sources;
}

absl::StatusOr<std::vector<std::shared_ptr<Source>>> MakeReplaySources(const std::string& path,
                                                                       bool loop) {
  absl::StatusOr<Trace> trace = LoadTraceFile(path);
  if (!trace.ok()) return trace.status();
  return std::vector<std::shared_ptr<Source>>{
      std::make_shared<ReplaySource>(*std::move(trace), loop)};
}

ContextSnapshot SampleSources(const std::vector<std::shared_ptr<Source>>& sources, SteadyTime now) {
  Readings readings;
  std::vector<SourceStatus> statuses;
  for (const auto& source : sources) statuses.push_back(source->Sample(now, &readings));
  ContextSnapshot snapshot = Combine(readings);
  snapshot.sources = std::move(statuses);
  snapshot.steady_time = now;
  return snapshot;
}

}  // namespace adaspring::context
