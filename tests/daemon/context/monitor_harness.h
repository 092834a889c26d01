// Runs a ContextMonitor on its own io_context thread and records what it publishes, so that
// tests wait for an event with a deadline instead of sleeping.
#ifndef ADASPRING_TESTS_DAEMON_CONTEXT_MONITOR_HARNESS_H_
#define ADASPRING_TESTS_DAEMON_CONTEXT_MONITOR_HARNESS_H_

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "context/context_monitor.h"

namespace adaspring::context::testing {

class MonitorHarness {
 public:
  MonitorHarness(std::shared_ptr<FileSystem> fs, std::vector<std::shared_ptr<Source>> sources,
                 ContextMonitorOptions options)
      : work_(boost::asio::make_work_guard(io_)),
        monitor_(std::make_unique<ContextMonitor>(io_, std::move(fs), std::move(sources),
                                                  std::move(options))) {
    monitor_->Subscribe([this](const ContextSnapshot& snapshot) {
      absl::MutexLock lock(&mu_);
      log_.push_back(snapshot);
    });
    thread_ = std::thread([this] { io_.run(); });
  }

  ~MonitorHarness() {
    work_.reset();
    io_.stop();
    thread_.join();
    monitor_.reset();  // the loop is not running: allowed by the monitor's contract
  }

  ContextMonitor& monitor() { return *monitor_; }

  // The first snapshot (published after `after_sequence`) satisfying `predicate`, or nullopt
  // after `timeout`.
  std::optional<ContextSnapshot> WaitFor(
      std::function<bool(const ContextSnapshot&)> predicate, uint64_t after_sequence = 0,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::optional<ContextSnapshot> found;
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const ContextSnapshot& snapshot : log_) {
        if (snapshot.sequence > after_sequence && predicate(snapshot)) {
          found = snapshot;
          return true;
        }
      }
      return false;
    };
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&ready), absl::FromChrono(timeout));
    return found;
  }

  std::vector<ContextSnapshot> Log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::unique_ptr<ContextMonitor> monitor_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<ContextSnapshot> log_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::context::testing

#endif  // ADASPRING_TESTS_DAEMON_CONTEXT_MONITOR_HARNESS_H_
