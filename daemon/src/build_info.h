#ifndef ADASPRING_DAEMON_BUILD_INFO_H_
#define ADASPRING_DAEMON_BUILD_INFO_H_

namespace adaspring::daemon {

// Version of adaspringd, e.g. "0.1.0".
const char* DaemonVersion();

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_BUILD_INFO_H_
