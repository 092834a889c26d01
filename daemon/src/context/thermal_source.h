// Temperatures from /sys/class/thermal/thermal_zone*.
#ifndef ADASPRING_DAEMON_CONTEXT_THERMAL_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_THERMAL_SOURCE_H_

#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Reports the hottest zone's temperature and that zone's lowest passive, hot or critical trip
// point (millidegrees in sysfs, degrees Celsius here). Zones come and go (hot-unplugged
// devices, drivers unbound): a zone that vanishes between listing and reading is skipped and
// noted; the source is degraded only when no zone could be read at all.
class ThermalSource final : public Source {
 public:
  explicit ThermalSource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "thermal"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_THERMAL_SOURCE_H_
