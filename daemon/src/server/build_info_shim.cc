#include "server/build_info_shim.h"

#include <fstream>

#include "build_info.h"

namespace adaspring::daemon {

std::string DaemonVersionString() { return DaemonVersion(); }

std::string CpuModelName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

}  // namespace adaspring::daemon
