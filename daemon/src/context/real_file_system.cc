#include "context/real_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "context/errno_status.h"

namespace adaspring::context {
namespace {

// Closes an fd on scope exit; close() errors on read-only files carry no information.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

const char* FileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file";
}

}  // namespace

RealFileSystem::RealFileSystem(std::string root) : root_(std::move(root)) {
  prefix_ = root_;
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

std::string RealFileSystem::HostPath(const std::string& path) const { return prefix_ + path; }

absl::StatusOr<std::string> RealFileSystem::ReadFileOnce(const std::string& path) {
  const std::string host = HostPath(path);
  // O_NONBLOCK: harmless for regular and sysfs files, and keeps a FIFO or device node that
  // ended up in a fake tree from blocking open().
  const int fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoToStatus(errno, path);
  FdCloser closer(fd);
  // sysfs, procfs and cgroupfs attributes are regular files. A FIFO, socket or device in a
  // fake tree would read as empty, EAGAIN or endless bytes; say what it is instead. (A
  // directory is left to read(), whose EISDIR says so.)
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, path);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return absl::FailedPreconditionError(path + ": not a regular file (" +
                                         FileTypeName(st.st_mode) + ")");
  std::string content;
  char buffer[4096];
  // sysfs hands out an attribute in one read, procfs files may come in several: read to EOF.
  while (content.size() < kMaxReadBytes) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) return ErrnoToStatus(errno, path);
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  if (content.size() > kMaxReadBytes) content.resize(kMaxReadBytes);
  return content;
}

absl::StatusOr<std::vector<std::string>> RealFileSystem::ListDirectory(const std::string& path) {
  const std::string host = HostPath(path);
  DIR* dir = ::opendir(host.c_str());
  if (dir == nullptr) return ErrnoToStatus(errno, path);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  const int read_errno = errno;
  ::closedir(dir);
  if (read_errno != 0) return ErrnoToStatus(read_errno, path);
  std::sort(names.begin(), names.end());
  return names;
}

bool RealFileSystem::Exists(const std::string& path) {
  struct stat st;
  return ::stat(HostPath(path).c_str(), &st) == 0;
}

absl::StatusOr<int> RealFileSystem::OpenPsiTrigger(const std::string& path,
                                                   const std::string& trigger) {
  const std::string host = HostPath(path);
  const int fd = ::open(host.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, path);
  FdCloser closer(fd);
  // Only procfs (/proc/pressure/*) and cgroup2 (memory.pressure) files are triggers; a regular
  // file in a fake tree would accept the write and never wake anybody.
  struct statfs fs_info;
  if (::fstatfs(fd, &fs_info) != 0) return ErrnoToStatus(errno, path);
  if (fs_info.f_type != PROC_SUPER_MAGIC && fs_info.f_type != CGROUP2_SUPER_MAGIC)
    return absl::FailedPreconditionError(path +
                                         ": not a kernel pressure file (not on procfs or cgroup2)");
  // The kernel parses the trigger from one write including the terminating NUL.
  ssize_t written;
  do {
    written = ::write(fd, trigger.c_str(), trigger.size() + 1);
  } while (written < 0 && errno == EINTR);
  if (written < 0) return ErrnoToStatus(errno, path + " (trigger \"" + trigger + "\")");
  return closer.release();
}

}  // namespace adaspring::context
