// FileSystem backed by system calls. The only file in context/ that makes them.
#ifndef ADASPRING_DAEMON_CONTEXT_REAL_FILE_SYSTEM_H_
#define ADASPRING_DAEMON_CONTEXT_REAL_FILE_SYSTEM_H_

#include <string>
#include <vector>

#include "context/file_system.h"

namespace adaspring::context {

// Maps every absolute path under `root`: RealFileSystem("/tmp/fake") reads
// "/proc/meminfo" from "/tmp/fake/proc/meminfo"; "" or "/" is the real machine.
// Thread-safe (stateless after construction).
class RealFileSystem final : public FileSystem {
 public:
  explicit RealFileSystem(std::string root = "/");

  const std::string& root() const { return root_; }
  // The host path a context path maps to.
  std::string HostPath(const std::string& path) const;

  absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) override;
  bool Exists(const std::string& path) override;
  absl::StatusOr<int> OpenPsiTrigger(const std::string& path, const std::string& trigger) override;

 protected:
  absl::StatusOr<std::string> ReadFileOnce(const std::string& path) override;

 private:
  std::string root_;    // as given, for messages
  std::string prefix_;  // root without trailing '/'; empty for the real root
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_REAL_FILE_SYSTEM_H_
