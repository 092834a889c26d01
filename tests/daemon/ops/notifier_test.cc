#include "systemd/notifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/ops/temp_dir.h"
#include "systemd/watchdog_timer.h"

namespace adaspring::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// The test's own notification socket, standing in for systemd: NOTIFY_SOCKET points at it
// while the object lives.
class FakeSystemd {
 public:
  FakeSystemd() : path_(dir_.Sub("notify")) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~FakeSystemd() {
    unsetenv("NOTIFY_SOCKET");
    close(fd_);
  }
  bool bound() const { return bound_; }

  // The next datagram, waiting at most 5 s (an event with a deadline, not a sleep).
  std::string Receive() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return "<timeout>";
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    return n < 0 ? "<error>" : std::string(buffer, static_cast<size_t>(n));
  }

 private:
  ops_testing::TempDir dir_;
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(NotifierTest, SendsEachStateToNotifySocket) {
  FakeSystemd systemd;
  ASSERT_TRUE(systemd.bound());
  Notifier notifier;
  ASSERT_TRUE(notifier.enabled());

  ASSERT_TRUE(notifier.Ready().ok());
  EXPECT_EQ(systemd.Receive(), "READY=1");
  ASSERT_TRUE(notifier.Ready("serving 2 models").ok());
  EXPECT_EQ(systemd.Receive(), "READY=1\nSTATUS=serving 2 models");
  ASSERT_TRUE(notifier.Status("3 sessions\n2 models").ok());
  EXPECT_EQ(systemd.Receive(), "STATUS=3 sessions 2 models");  // one line only
  ASSERT_TRUE(notifier.Watchdog().ok());
  EXPECT_EQ(systemd.Receive(), "WATCHDOG=1");
  ASSERT_TRUE(notifier.Reloading().ok());
  EXPECT_THAT(systemd.Receive(), MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+"));
  ASSERT_TRUE(notifier.Stopping().ok());
  EXPECT_EQ(systemd.Receive(), "STOPPING=1");
  ASSERT_TRUE(notifier.ExtendTimeout(std::chrono::seconds(5)).ok());
  EXPECT_EQ(systemd.Receive(), "EXTEND_TIMEOUT_USEC=5000000");
}

TEST(NotifierTest, IsANoOpWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  Notifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_TRUE(notifier.Ready().ok());
  EXPECT_TRUE(notifier.Status("x").ok());
  EXPECT_TRUE(notifier.Watchdog().ok());
  EXPECT_TRUE(notifier.Stopping().ok());
}

TEST(NotifierTest, ReportsAnUnreachableSocket) {
  ops_testing::TempDir dir;
  setenv("NOTIFY_SOCKET", dir.Sub("nobody-listens").c_str(), 1);
  Notifier notifier;
  const absl::Status s = notifier.Ready();
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("READY=1"));
}

TEST(NotifierTest, WatchdogIntervalComesFromTheEnvironment) {
  Notifier notifier;
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(notifier.WatchdogInterval().count(), 0);

  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", absl::StrCat(getpid()).c_str(), 1);
  EXPECT_EQ(notifier.WatchdogInterval(), std::chrono::seconds(3));

  // The watchdog is meant for another process (e.g. a wrapper script): not ours to ping.
  setenv("WATCHDOG_PID", absl::StrCat(getpid() + 1).c_str(), 1);
  EXPECT_EQ(notifier.WatchdogInterval().count(), 0);
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

TEST(WatchdogTimerTest, PingsFromTheEventLoopUntilStopped) {
  FakeSystemd systemd;
  ASSERT_TRUE(systemd.bound());
  setenv("WATCHDOG_USEC", "20000", 1);  // WatchdogSec=20ms: pings every 10 ms
  setenv("WATCHDOG_PID", absl::StrCat(getpid()).c_str(), 1);
  Notifier notifier;
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  WatchdogTimer timer(io, notifier);
  ASSERT_TRUE(timer.Start());
  EXPECT_EQ(timer.period(), std::chrono::milliseconds(10));
  std::thread loop([&] { io.run(); });
  // The immediate ping plus two from the timer.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(systemd.Receive(), "WATCHDOG=1") << i;
  std::promise<void> stopped;
  boost::asio::post(io, [&] {
    timer.Stop();
    stopped.set_value();
  });
  stopped.get_future().wait();
  guard.reset();
  io.stop();
  loop.join();
  EXPECT_EQ(timer.period().count(), 0);
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
}

TEST(WatchdogTimerTest, DoesNothingWithoutWatchdogSec) {
  unsetenv("WATCHDOG_USEC");
  Notifier notifier;
  boost::asio::io_context io;
  WatchdogTimer timer(io, notifier);
  EXPECT_FALSE(timer.Start());
  EXPECT_EQ(io.poll(), 0u);  // nothing was scheduled
}

}  // namespace
}  // namespace adaspring::daemon
