// adaspringd as a child process, as systemd runs it: READY=1 once listening, RELOADING=1 then
// READY=1 on SIGHUP, STOPPING=1 and exit 0 on SIGTERM. The notifications are read from a
// datagram socket of the test's own (NOTIFY_SOCKET).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "daemon/core/daemon_harness.h"

namespace adaspring::daemon::testing {
namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ~NotifySocket() { ::close(fd_); }
  // Waits up to `timeout_ms` for a datagram containing `needle`; returns all text seen.
  bool WaitFor(const std::string& needle, int timeout_ms, std::string* seen) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - std::chrono::steady_clock::now())
                                            .count());
      if (::poll(&p, 1, std::max(1, left)) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) continue;
      const std::string msg(buf, static_cast<size_t>(n));
      seen->append(msg).append("\n");
      if (msg.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(ProcessTest, NotifiesReadyReloadsOnSighupAndDrainsOnSigterm) {
  const std::string binary = std::string(ADASPRING_BINARY_DIR) + "/daemon/adaspringd";
  if (!std::filesystem::exists(binary)) GTEST_SKIP() << "build adaspringd first: " << binary;
  TempDir dir;
  const std::string config = dir.path() + "/adaspringd.toml";
  std::ofstream(config) << "mode = \"user\"\n";
  std::filesystem::create_directories(dir.path() + "/models");
  // A sim bundle is not readable by the real engine: the daemon logs it, skips it and serves
  // its built-in random model instead (the damaged-bundle path, end to end).
  std::ofstream(dir.path() + "/models/junk.asb") << "garbage";
  NotifySocket notify(dir.path() + "/notify.sock");
  const std::string runtime = dir.path() + "/run";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("NOTIFY_SOCKET", (dir.path() + "/notify.sock").c_str(), 1);
    ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "--runtime-dir",
            runtime.c_str(), "--models-dir", (dir.path() + "/models").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string seen;
  const bool ready = notify.WaitFor("READY=1", 60000, &seen);
  EXPECT_TRUE(ready) << seen;
  if (ready) {
    EXPECT_TRUE(std::filesystem::exists(runtime + "/adaspringd.sock"));
    EXPECT_TRUE(std::filesystem::exists(runtime + "/admin.sock"));
    EXPECT_NE(seen.find("STATUS="), std::string::npos) << seen;
    // A second daemon on the same runtime directory refuses to take the sockets over (it used
    // to, and removed them when it stopped, leaving this one unreachable).
    const std::string second_log = dir.path() + "/second.log";
    const pid_t second = ::fork();
    ASSERT_GE(second, 0);
    if (second == 0) {
      const int fd = ::open(second_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 2);
      ::unsetenv("NOTIFY_SOCKET");
      ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "--runtime-dir",
              runtime.c_str(), "--models-dir", (dir.path() + "/models").c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int second_status = 0;
    ASSERT_EQ(::waitpid(second, &second_status, 0), second);
    EXPECT_TRUE(WIFEXITED(second_status));
    EXPECT_EQ(WEXITSTATUS(second_status), 69);  // EX_UNAVAILABLE
    std::ifstream in(second_log);
    const std::string second_text((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    EXPECT_NE(second_text.find("is listening on " + runtime + "/adaspringd.sock"),
              std::string::npos)
        << second_text;
    EXPECT_TRUE(std::filesystem::exists(runtime + "/adaspringd.sock"));
    EXPECT_TRUE(std::filesystem::exists(runtime + "/admin.sock"));
    ::kill(pid, SIGHUP);
    EXPECT_TRUE(notify.WaitFor("RELOADING=1", 10000, &seen)) << seen;
    EXPECT_TRUE(notify.WaitFor("READY=1", 10000, &seen)) << seen;
  }
  ::kill(pid, SIGTERM);
  EXPECT_TRUE(notify.WaitFor("STOPPING=1", 10000, &seen)) << seen;
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(runtime + "/adaspringd.sock"));
}

}  // namespace
}  // namespace adaspring::daemon::testing
