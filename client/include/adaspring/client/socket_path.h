// Where adaspringd listens. The system service uses /run/adaspring; user mode (the embedded
// default) uses $XDG_RUNTIME_DIR/adaspring, or /tmp/adaspring-$UID without XDG_RUNTIME_DIR.
#ifndef ADASPRING_CLIENT_SOCKET_PATH_H_
#define ADASPRING_CLIENT_SOCKET_PATH_H_

#include <functional>
#include <string>

namespace adaspring::client {

inline constexpr char kSystemSocketPath[] = "/run/adaspring/adaspringd.sock";
inline constexpr char kAppSocketName[] = "adaspringd.sock";
inline constexpr char kAdminSocketName[] = "admin.sock";

// The environment the choice depends on, injectable for tests.
struct SocketEnv {
  std::string xdg_runtime_dir;  // empty when unset
  unsigned uid = 0;
  std::function<bool(const std::string&)> exists;  // whether a socket file exists
};
SocketEnv CurrentSocketEnv();

// The app socket: the system socket if it exists, else the user-mode one that exists
// ($XDG_RUNTIME_DIR/adaspring first, then /tmp/adaspring-$UID); when none exists, the path a
// user-mode daemon would use ($XDG_RUNTIME_DIR/adaspring/... if XDG_RUNTIME_DIR is set).
std::string DefaultSocketPath(const SocketEnv& env);
std::string DefaultSocketPath();
// The admin socket beside an app socket ("DIR/adaspringd.sock" -> "DIR/admin.sock").
std::string AdminSocketFor(const std::string& app_socket);

}  // namespace adaspring::client

#endif  // ADASPRING_CLIENT_SOCKET_PATH_H_
