#include "adaspring/client/socket_path.h"

#include <gtest/gtest.h>

#include <set>

namespace adaspring::client {
namespace {

SocketEnv Env(std::string xdg, std::set<std::string> existing) {
  SocketEnv env;
  env.xdg_runtime_dir = std::move(xdg);
  env.uid = 1000;
  env.exists = [existing](const std::string& p) { return existing.count(p) > 0; };
  return env;
}

TEST(SocketPathTest, SystemSocketWinsWhenPresent) {
  EXPECT_EQ(DefaultSocketPath(Env("/run/user/1000", {"/run/adaspring/adaspringd.sock",
                                                     "/run/user/1000/adaspring/adaspringd.sock"})),
            "/run/adaspring/adaspringd.sock");
}

TEST(SocketPathTest, UserModeSocketsInOrder) {
  EXPECT_EQ(DefaultSocketPath(Env("/run/user/1000", {"/run/user/1000/adaspring/adaspringd.sock",
                                                     "/tmp/adaspring-1000/adaspringd.sock"})),
            "/run/user/1000/adaspring/adaspringd.sock");
  EXPECT_EQ(DefaultSocketPath(Env("/run/user/1000", {"/tmp/adaspring-1000/adaspringd.sock"})),
            "/tmp/adaspring-1000/adaspringd.sock");
  EXPECT_EQ(DefaultSocketPath(Env("", {"/tmp/adaspring-1000/adaspringd.sock"})),
            "/tmp/adaspring-1000/adaspringd.sock");
}

TEST(SocketPathTest, NothingRunningNamesTheUserModePath) {
  EXPECT_EQ(DefaultSocketPath(Env("/run/user/1000", {})),
            "/run/user/1000/adaspring/adaspringd.sock");
  EXPECT_EQ(DefaultSocketPath(Env("", {})), "/tmp/adaspring-1000/adaspringd.sock");
}

TEST(SocketPathTest, AdminSocketIsBesideTheAppSocket) {
  EXPECT_EQ(AdminSocketFor("/run/adaspring/adaspringd.sock"), "/run/adaspring/admin.sock");
  EXPECT_EQ(AdminSocketFor("/tmp/x/y.sock"), "/tmp/x/admin.sock");
  EXPECT_EQ(AdminSocketFor("local.sock"), "admin.sock");
}

}  // namespace
}  // namespace adaspring::client
