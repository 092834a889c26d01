#include "context/default_sources.h"

#include <utility>

#include "context/battery_source.h"
#include "context/cgroup_source.h"
#include "context/cpu_source.h"
#include "context/cpufreq_source.h"
#include "context/hwmon_source.h"
#include "context/meminfo_source.h"
#include "context/psi_source.h"
#include "context/rapl_source.h"
#include "context/readings.h"
#include "context/thermal_source.h"

namespace adaspring::context {

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
  sources.push_back(std::make_shared<CpufreqSource>(fs));
  sources.push_back(std::make_shared<BatterySource>(fs));
  return sources;
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
