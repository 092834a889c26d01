// Error-injecting FileSystem decorator for tests (leveldb's FaultInjectionTestEnv habit).
#ifndef ADASPRING_DAEMON_CONTEXT_FAULTY_FILE_SYSTEM_H_
#define ADASPRING_DAEMON_CONTEXT_FAULTY_FILE_SYSTEM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "context/file_system.h"

namespace adaspring::context {

enum class Fault {
  kNotFound,          // ENOENT on read/list/open (the file vanished, e.g. a hot-unplugged zone)
  kPermissionDenied,  // EACCES (e.g. RAPL energy_uj for non-root since CVE-2020-8694)
  kInterrupted,       // EINTR on a read attempt; FileSystem::ReadFile retries it
  kShortRead,         // only the first half of the content (no trailing newline)
  kGarbage,           // content replaced by bytes that parse as nothing
  kStall,             // the read blocks until ReleaseStalls() (a hung driver)
  kInvalidArgument,   // EINVAL (e.g. the kernel rejecting a PSI trigger)
};

// Passes every call to `base` unless a rule matches the path. Patterns are fnmatch(3) globs
// without FNM_PATHNAME, so '*' also matches '/': "*/energy_uj", "/proc/pressure/*".
// Thread-safe; rules may be added and removed while a monitor reads.
class FaultyFileSystem final : public FileSystem {
 public:
  explicit FaultyFileSystem(std::shared_ptr<FileSystem> base);
  ~FaultyFileSystem() override;  // releases stalled readers

  // Injects `fault` into the next `times` matching calls (-1: until cleared).
  void Inject(const std::string& pattern, Fault fault, int times = -1);
  void ClearFaults();
  // Wakes every read blocked by kStall (and makes later kStall reads return at once).
  void ReleaseStalls();
  // Number of reads currently blocked in kStall.
  int stalled_reads() const;

  absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) override;
  bool Exists(const std::string& path) override;
  absl::StatusOr<int> OpenPsiTrigger(const std::string& path, const std::string& trigger) override;

 protected:
  absl::StatusOr<std::string> ReadFileOnce(const std::string& path) override;

 private:
  struct Rule {
    std::string pattern;
    Fault fault;
    int remaining;  // -1: unlimited
  };
  // The fault for this call, consuming one use of its rule; false when none matches.
  bool TakeFault(const std::string& path, Fault* fault);

  std::shared_ptr<FileSystem> base_;
  mutable absl::Mutex mu_;
  std::vector<Rule> rules_ ABSL_GUARDED_BY(mu_);
  bool stalls_released_ ABSL_GUARDED_BY(mu_) = false;
  int stalled_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_FAULTY_FILE_SYSTEM_H_
