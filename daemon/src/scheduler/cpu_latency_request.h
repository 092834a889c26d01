// A CPU wake-up latency request through the kernel's PM QoS interface (/dev/cpu_dma_latency,
// Documentation/power/pm_qos_interface.rst): while the file stays open, no CPU enters an idle
// state whose exit latency exceeds the requested value, so a thread woken by a request does
// not wait for a deep C-state (or, in a VM whose vCPUs halt on idle, for the host) to resume
// it. Closing the file withdraws the request. This is what tuned's latency-performance
// profile does; it costs idle power, which is why the daemon only holds it when configured.
#ifndef ADASPRING_DAEMON_SCHEDULER_CPU_LATENCY_REQUEST_H_
#define ADASPRING_DAEMON_SCHEDULER_CPU_LATENCY_REQUEST_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace adaspring::daemon {

class CpuLatencyRequest {
 public:
  // The kernel accepts 0 .. 2000 s (PM_QOS_CPU_LATENCY_DEFAULT_VALUE, "no constraint").
  static constexpr int64_t kMaxLatencyUs = 2000000000;

  // Opens `device` for writing and requests `latency_us`. Errors name the device and the
  // cause (no such file, permission denied: the device is root's unless a unit grants it).
  static absl::StatusOr<std::unique_ptr<CpuLatencyRequest>> Open(const std::string& device,
                                                                 int64_t latency_us);
  ~CpuLatencyRequest();  // withdraws the request
  CpuLatencyRequest(const CpuLatencyRequest&) = delete;
  CpuLatencyRequest& operator=(const CpuLatencyRequest&) = delete;

  // Replaces the requested value on the same open file.
  absl::Status Update(int64_t latency_us);
  // What the device reports: for /dev/cpu_dma_latency the system-wide target (the smallest
  // request of every holder), which may be below ours.
  absl::StatusOr<int64_t> EffectiveUs() const;

  int64_t latency_us() const { return latency_us_; }
  const std::string& device() const { return device_; }

 private:
  CpuLatencyRequest(std::string device, int fd) : device_(std::move(device)), fd_(fd) {}

  std::string device_;
  int fd_ = -1;
  int64_t latency_us_ = -1;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SCHEDULER_CPU_LATENCY_REQUEST_H_
