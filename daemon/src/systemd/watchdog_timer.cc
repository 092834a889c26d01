#include "systemd/watchdog_timer.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "log/logger.h"
#include "systemd/notifier.h"

namespace adaspring::daemon {

struct WatchdogTimer::Impl : std::enable_shared_from_this<WatchdogTimer::Impl> {
  Impl(boost::asio::io_context& io, Notifier& n) : timer(io), notifier(n) {}

  void Schedule() {
    timer.expires_after(period);
    timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      std::shared_ptr<Impl> self = weak.lock();
      if (ec || !self || !self->running) return;  // stopped or destroyed
      if (absl::Status s = self->notifier.Watchdog(); !s.ok()) {
        Log(LogLevel::kWarning, "watchdog ping failed", {{"error", s.message()}});
      }
      self->Schedule();
    });
  }

  boost::asio::steady_timer timer;
  Notifier& notifier;
  std::chrono::microseconds period{0};
  bool running = false;
};

WatchdogTimer::WatchdogTimer(boost::asio::io_context& io, Notifier& notifier)
    : impl_(std::make_shared<Impl>(io, notifier)) {}

WatchdogTimer::~WatchdogTimer() { Stop(); }

bool WatchdogTimer::Start(std::chrono::microseconds interval_override) {
  std::chrono::microseconds period = interval_override;
  if (period.count() <= 0) {
    // Half the interval, as sd_watchdog_enabled(3) recommends: one late ping is survivable.
    period = impl_->notifier.WatchdogInterval() / 2;
  }
  if (period.count() <= 0) return false;
  impl_->period = period;
  impl_->running = true;
  // A first ping at once: start-up may have used part of the interval already.
  (void)impl_->notifier.Watchdog();
  impl_->Schedule();
  return true;
}

void WatchdogTimer::Stop() {
  impl_->running = false;
  impl_->timer.cancel();
  impl_->period = std::chrono::microseconds(0);
}

std::chrono::microseconds WatchdogTimer::period() const { return impl_->period; }

}  // namespace adaspring::daemon
