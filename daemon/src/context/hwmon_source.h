// Board power from hwmon sensors: power meters (power*_input) or voltage/current pairs
// (in*_input x curr*_input), as INA219/INA226/INA3221 monitors expose them on ARM boards.
#ifndef ADASPRING_DAEMON_CONTEXT_HWMON_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_HWMON_SOURCE_H_

#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Per hwmon device: each channel N with power<N>_input (microwatts) is a rail; otherwise each
// N with both curr<N>_input (mA) and in<N>_input (mV) is one. A rail whose label names the
// board input (VDD_IN, "in", "sys", "total", "board") is taken as the device's total, since
// the other rails of such monitors are subsets of it (Jetson's INA3221); without one the rails
// are summed. Devices without power rails (coretemp, fans) are ignored.
class HwmonSource final : public Source {
 public:
  explicit HwmonSource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "hwmon"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_HWMON_SOURCE_H_
