// Which engine build this is. Measured data that depends on the kernels (latency tables in the
// state directory) is keyed by EngineBuildId(), so an upgrade re-profiles instead of trusting
// numbers measured with other code.
#ifndef ADASPRING_ENGINE_BUILD_ID_H_
#define ADASPRING_ENGINE_BUILD_ID_H_

#include <string>

namespace adaspring::engine {

// Git commit (12 hex digits) the build was configured from; "" outside a git checkout.
const char* EngineGitCommit();
// "<version>[+g<commit>]+dnnl<major.minor.patch>" (the oneDNN found at run time).
const std::string& EngineBuildId();

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_BUILD_ID_H_
