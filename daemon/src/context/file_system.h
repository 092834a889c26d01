// The one interface through which context sensing touches sysfs, procfs and cgroupfs
// (leveldb's Env habit, STYLE.md habit 2). Production uses RealFileSystem (optionally rooted at
// a fake tree), tests add FaultyFileSystem on top to inject errors.
#ifndef ADASPRING_DAEMON_CONTEXT_FILE_SYSTEM_H_
#define ADASPRING_DAEMON_CONTEXT_FILE_SYSTEM_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace adaspring::context {

// Which file a thread is reading now, readable from other threads: the monitor names the file
// of a read it gave up on. A thread installs a tracker with Scope; while it is installed,
// FileSystem::ReadFile on that thread records the path for the length of each read.
class ReadTracker {
 public:
  // The path being read now, or "" between reads.
  std::string current() const;

  // Installs a tracker for the calling thread until destruction (not nested).
  class Scope {
   public:
    explicit Scope(ReadTracker* tracker);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  };

 private:
  friend class FileSystem;
  void Set(const std::string& path);

  mutable absl::Mutex mu_;
  std::string current_ ABSL_GUARDED_BY(mu_);
};

// Paths are absolute as on a real machine ("/proc/meminfo"); an implementation may map them
// under a root prefix. Errors carry the path and the errno (see errno_status.h).
//
// Thread safety: implementations must be safe for concurrent calls; the monitor reads from a
// worker thread while the probe or tests may read from others.
//
// Blocking: reads of sysfs/procfs files are normally fast, but a driver can stall. Callers
// that must not block (the event loop) run reads on a worker thread with a time limit; see
// ContextMonitor. Implementations therefore need no timeout of their own.
class FileSystem {
 public:
  // Upper bound for ReadFile: every file sensing reads is a small text attribute.
  static constexpr size_t kMaxReadBytes = 64 * 1024;
  // EINTR is retried this many times before the error is returned.
  static constexpr int kMaxInterruptRetries = 4;

  virtual ~FileSystem() = default;

  // Whole content of a small file (at most kMaxReadBytes; longer files are cut, which no
  // attribute we read reaches, and ParseAttribute reports the cut). Retries EINTR in this one
  // place. RealFileSystem refuses files that are not regular (FAILED_PRECONDITION "not a
  // regular file (a FIFO)").
  absl::StatusOr<std::string> ReadFile(const std::string& path);

  // Names of the entries of a directory (without "." and ".."), sorted. NOT_FOUND when absent.
  virtual absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& path) = 0;

  // True when the path exists (file, directory or symlink target).
  virtual bool Exists(const std::string& path) = 0;

  // Opens a PSI file O_RDWR|O_NONBLOCK|O_CLOEXEC and writes `trigger` (e.g.
  // "some 150000 1000000") to it. On success the caller owns the returned fd, which becomes
  // POLLPRI-readable whenever the trigger's threshold is crossed. Errors: PERMISSION_DENIED,
  // INVALID_ARGUMENT (kernel rejected the trigger), UNIMPLEMENTED (EOPNOTSUPP), NOT_FOUND,
  // FAILED_PRECONDITION (not a kernel pressure file, e.g. a regular file in a fake tree).
  virtual absl::StatusOr<int> OpenPsiTrigger(const std::string& path,
                                             const std::string& trigger) = 0;

 protected:
  // One read attempt; may return an EINTR status, which ReadFile retries.
  virtual absl::StatusOr<std::string> ReadFileOnce(const std::string& path) = 0;
};

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_FILE_SYSTEM_H_
