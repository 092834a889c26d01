// Small host facts for status replies.
#ifndef ADASPRING_DAEMON_SERVER_BUILD_INFO_SHIM_H_
#define ADASPRING_DAEMON_SERVER_BUILD_INFO_SHIM_H_

#include <string>

namespace adaspring::daemon {

std::string DaemonVersionString();
// "model name" of /proc/cpuinfo ("unknown" when absent).
std::string CpuModelName();

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVER_BUILD_INFO_SHIM_H_
