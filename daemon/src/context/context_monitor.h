// The daemon's view of the device: samples every context source periodically on a
// Boost.Asio event loop, wakes at once on a PSI trigger, and publishes ContextSnapshots.
#ifndef ADASPRING_DAEMON_CONTEXT_CONTEXT_MONITOR_H_
#define ADASPRING_DAEMON_CONTEXT_CONTEXT_MONITOR_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "context/file_system.h"
#include "context/snapshot.h"
#include "context/source.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace adaspring::context {

struct ContextMonitorOptions {
  // Sampling period (DESIGN.md: default 200 ms).
  std::chrono::milliseconds period{200};
  // A read that makes no progress for this long (detected within 1-2x this time) is given up:
  // the source is marked degraded "read timed out" and skipped until its read returns; the
  // loop never waits.
  std::chrono::milliseconds read_timeout{1000};
  // PSI trigger for immediate wake-up; empty path disables it. The default asks for a wake-up
  // when some task stalled on memory for 150 ms within 1 s.
  std::string psi_trigger_path = "/proc/pressure/memory";
  std::string psi_trigger_spec = "some 150000 1000000";
};

// Threading: all sampling I/O runs on an internal worker thread; timers, the PSI fd and
// subscriber callbacks run on a strand of `io` (callbacks must not block: the loop also drives
// the systemd watchdog). Subscribe, Unsubscribe, SetOverride, ClearOverride, SampleNow and
// Latest are thread-safe. Start and Stop may be called from any thread.
// Lifetime: `io` must outlive the monitor. Destroy the monitor on a thread running `io` or
// while `io` is not running; pending handlers then do nothing.
// Failure: a missing, unreadable, garbled or stalled source never stops the monitor; it shows
// as degraded or absent in SourceStatus. PSI triggers the kernel refuses are reported as the
// pseudo-source "psi_trigger" (the periodic sampling still runs).
class ContextMonitor {
 public:
  using Callback = std::function<void(const ContextSnapshot&)>;

  // `fs` is used for the PSI trigger; the sources carry their own FileSystem (normally the
  // same one). See MakeDefaultSources.
  ContextMonitor(boost::asio::io_context& io, std::shared_ptr<FileSystem> fs,
                 std::vector<std::shared_ptr<Source>> sources, ContextMonitorOptions options = {});
  ~ContextMonitor();
  ContextMonitor(const ContextMonitor&) = delete;
  ContextMonitor& operator=(const ContextMonitor&) = delete;

  // Arms the PSI trigger and takes the first sample at once, then every period. Idempotent.
  void Start();
  // Cancels timers and the trigger; no callbacks after the loop has processed it.
  void Stop();

  // Registers a callback for every published snapshot (called on the io strand); returns an
  // id for Unsubscribe.
  int Subscribe(Callback callback);
  void Unsubscribe(int id);

  // Replaces sensed values from now on (admin SetContextOverride) and publishes a snapshot
  // with overridden = true at once. INVALID_ARGUMENT (see ValidateOverride) leaves the
  // current override unchanged.
  absl::Status SetOverride(const ContextOverride& override_values);
  void ClearOverride();

  // Asks for a sample now (e.g. the policy wants fresh numbers); `cause` is reported.
  void SampleNow(const std::string& cause = "request");

  // The latest published snapshot (sequence 0 before the first).
  ContextSnapshot Latest() const;
  // The latest sample as sensed, without the override (sequence 0 before the first).
  ContextSnapshot Sensed() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_CONTEXT_MONITOR_H_
