// Feeds the systemd watchdog from an Asio event loop: a repeating timer on the daemon's
// io_context sends WATCHDOG=1 every WatchdogSec/2. Because the ping runs ON the loop, a loop
// that hangs stops the pings and systemd restarts the service (Restart=on-failure).
//
// Threading: Start()/Stop() from the loop's thread or before it runs; the timer's handler
// runs on `io`. Lifetime: `io` and `notifier` outlive this object; destroying it stops it.
#ifndef ADASPRING_DAEMON_SYSTEMD_WATCHDOG_TIMER_H_
#define ADASPRING_DAEMON_SYSTEMD_WATCHDOG_TIMER_H_

#include <chrono>
#include <memory>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace adaspring::daemon {

class Notifier;

class WatchdogTimer {
 public:
  WatchdogTimer(boost::asio::io_context& io, Notifier& notifier);
  ~WatchdogTimer();
  WatchdogTimer(const WatchdogTimer&) = delete;
  WatchdogTimer& operator=(const WatchdogTimer&) = delete;

  // Starts pinging when the unit has WatchdogSec= (Notifier::WatchdogInterval() > 0) and
  // returns true; returns false (and does nothing) otherwise. `interval_override` > 0 replaces
  // the half interval (tests).
  bool Start(std::chrono::microseconds interval_override = std::chrono::microseconds(0));
  void Stop();
  // The ping period in use (zero when not started).
  std::chrono::microseconds period() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SYSTEMD_WATCHDOG_TIMER_H_
