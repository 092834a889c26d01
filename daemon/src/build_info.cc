#include "build_info.h"

namespace adaspring::daemon {

const char* DaemonVersion() { return ADASPRING_VERSION; }

}  // namespace adaspring::daemon
