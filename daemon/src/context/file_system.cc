#include "context/file_system.h"

#include "context/errno_status.h"

namespace adaspring::context {

absl::StatusOr<std::string> FileSystem::ReadFile(const std::string& path) {
  absl::StatusOr<std::string> result = ReadFileOnce(path);
  for (int retry = 0;
       retry < kMaxInterruptRetries && !result.ok() && IsInterrupted(result.status()); ++retry) {
    result = ReadFileOnce(path);
  }
  return result;
}

}  // namespace adaspring::context
