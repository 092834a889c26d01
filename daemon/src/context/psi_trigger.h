// Arming a PSI trigger ("wake me when memory stalls for 150 ms within 1 s").
#ifndef ADASPRING_DAEMON_CONTEXT_PSI_TRIGGER_H_
#define ADASPRING_DAEMON_CONTEXT_PSI_TRIGGER_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "context/file_system.h"

namespace adaspring::context {

struct ArmedPsiTrigger {
  int fd = -1;       // owned by the caller; POLLPRI when the threshold is crossed
  std::string spec;  // the trigger the kernel accepted
  std::string note;  // why it differs from the requested one, or ""
};

// "some|full <stall_us> <window_us>" with the window rounded up to a multiple of 2 s and the
// stall scaled with it; nullopt when the spec does not parse or needs no change. Since Linux
// 6.5 a writer without CAP_SYS_RESOURCE (also root in a user namespace or a sandbox) may only
// use such windows and gets EINVAL otherwise.
std::optional<std::string> UnprivilegedTriggerSpec(const std::string& spec);

// Writes `spec` to `path` (e.g. /proc/pressure/memory) through the FileSystem. On EINVAL it
// retries once with UnprivilegedTriggerSpec and says so in `note`. Errors are those of
// FileSystem::OpenPsiTrigger for the last attempt.
absl::StatusOr<ArmedPsiTrigger> ArmPsiTrigger(FileSystem& fs, const std::string& path,
                                              const std::string& spec);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_PSI_TRIGGER_H_
