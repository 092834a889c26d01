// Package power from Intel/AMD RAPL through the powercap class.
#ifndef ADASPRING_DAEMON_CONTEXT_RAPL_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_RAPL_SOURCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Reads /sys/class/powercap/<type>:<n>/energy_uj of every top-level package zone (sub-zones
// "intel-rapl:0:1" are contained in their package and "intel-rapl-mmio" duplicates it, so both
// are skipped). Power is the energy difference between two samples over their interval,
// summed over packages; the counter wraps at max_energy_range_uj. The first sample only
// establishes the baseline (no power_w yet). Negative counters are rejected, and a difference
// that would mean more than kMaxPlausibleWatts (a counter reset after resume or a driver
// reload, not one wrap) is reported as degraded "counter reset" and taken as the new baseline.
// energy_uj has been root-only since CVE-2020-8694 (Platypus), so non-root daemons see it degraded
// with that reason.
class RaplSource final : public Source {
 public:
  explicit RaplSource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "rapl"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

  // Energy consumed between two counter readings, handling one wrap-around. Both readings must
  // lie in 0..max_range_uj (Sample checks this), which keeps the arithmetic from overflowing.
  static int64_t EnergyDeltaUj(int64_t previous_uj, int64_t current_uj, int64_t max_range_uj);

 private:
  struct ZoneState {
    int64_t energy_uj = 0;
    int64_t max_range_uj = 0;
    SteadyTime time;
  };
  std::shared_ptr<FileSystem> fs_;
  std::map<std::string, ZoneState> previous_;  // by zone directory
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_RAPL_SOURCE_H_
