// Battery charge and mains state from /sys/class/power_supply.
#ifndef ADASPRING_DAEMON_CONTEXT_BATTERY_SOURCE_H_
#define ADASPRING_DAEMON_CONTEXT_BATTERY_SOURCE_H_

#include <memory>
#include <string>

#include "context/file_system.h"
#include "context/source.h"

namespace adaspring::context {

// Supplies of type "Battery" (except scope "Device": a mouse or headset battery) give the
// capacity (percent; energy_now/energy_full when capacity is missing) and status. Supplies of
// type "Mains", "USB*" or "Wireless" with online=1 mean on AC. Without such a supply, a
// battery reporting Charging or Full also means on AC. No battery at all: on AC, and the
// source is absent (a mains-powered board).
class BatterySource final : public Source {
 public:
  explicit BatterySource(std::shared_ptr<FileSystem> fs);
  std::string name() const override { return "battery"; }
  SourceStatus Sample(SteadyTime now, Readings* out) override;

 private:
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_BATTERY_SOURCE_H_
