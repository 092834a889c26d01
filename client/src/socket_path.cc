#include "adaspring/client/socket_path.h"

#include <unistd.h>

#include <cstdlib>

#include "channel.h"

namespace adaspring::client {

SocketEnv CurrentSocketEnv() {
  SocketEnv env;
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR")) env.xdg_runtime_dir = xdg;
  env.uid = static_cast<unsigned>(getuid());
  // Also "there" when this user may not reach it (the system socket's directory is 0750,
  // group adaspring): the connection then fails with "permission denied" naming the group,
  // not "not running" at a user-mode path.
  env.exists = internal::SocketExists;
  return env;
}

std::string DefaultSocketPath(const SocketEnv& env) {
  if (env.exists && env.exists(kSystemSocketPath)) return kSystemSocketPath;
  const std::string tmp_path = "/tmp/adaspring-" + std::to_string(env.uid) + "/" + kAppSocketName;
  std::string xdg_path;
  if (!env.xdg_runtime_dir.empty()) {
    xdg_path = env.xdg_runtime_dir + "/adaspring/" + kAppSocketName;
    if (env.exists && env.exists(xdg_path)) return xdg_path;
  }
  if (env.exists && env.exists(tmp_path)) return tmp_path;
  // Nothing listens: name the socket a user-mode daemon would create, so that the
  // "not running" message points at the right place.
  return xdg_path.empty() ? tmp_path : xdg_path;
}

std::string DefaultSocketPath() { return DefaultSocketPath(CurrentSocketEnv()); }

std::string AdminSocketFor(const std::string& app_socket) {
  const auto slash = app_socket.rfind('/');
  if (slash == std::string::npos) return kAdminSocketName;
  return app_socket.substr(0, slash + 1) + kAdminSocketName;
}

}  // namespace adaspring::client
