#include "bundle/posix_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace adaspring::engine::bundle_internal {
namespace {

// Closes a descriptor on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

std::string DirOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Writes everything, retrying short writes and EINTR. False with errno set on failure.
bool WriteAll(int fd, std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return true;
}

// The name of the pseudo file system `fd` is on when its files report size 0 whatever they
// hold (the kernel generates the contents on read), else nullptr.
const char* PseudoFileSystem(int fd) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0) return nullptr;
  switch (static_cast<unsigned long>(fs.f_type)) {  // <linux/magic.h>
    case 0x9fa0:
      return "procfs";
    case 0x62656572:
      return "sysfs";
    case 0x64626720:
      return "debugfs";
    case 0x74726163:
      return "tracefs";
    case 0x73636673:
      return "securityfs";
    case 0x27e0eb:
    case 0x63677270:
      return "cgroupfs";
    default:
      return nullptr;
  }
}

}  // namespace

absl::Status ErrnoStatus(const std::string& path, std::string_view what, int err) {
  const std::string msg = absl::StrCat(path, ": ", std::string(what), ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InvalidArgumentError(msg);
  }
}

absl::StatusOr<MappedFile> MapReadOnly(const std::string& path) {
  // open() would stop at the NUL and read another file than the one named.
  if (const size_t nul = path.find('\0'); nul != std::string::npos)
    return absl::InvalidArgumentError(
        absl::StrCat(absl::CEscape(path), ": path contains a NUL character (byte ", nul, ")"));
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return ErrnoStatus(path, "cannot open", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a bundle file"));
  if (!S_ISREG(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(path, ": is not a regular file"));
  MappedFile file;
  file.size = static_cast<size_t>(st.st_size);
  if (file.size == 0) {
    // A procfs or sysfs file reports size 0 but is not empty: say what it is instead.
    if (const char* fs = PseudoFileSystem(fd.get())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": reports size 0 (not a regular file with contents: it is on ", fs,
                       ", whose files are generated when read); not a model bundle"));
    }
    return file;  // mmap of 0 bytes fails; the parser reports "empty"
  }
  void* addr = ::mmap(nullptr, file.size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (addr == MAP_FAILED) return ErrnoStatus(path, "cannot map", errno);
  file.data = static_cast<const uint8_t*>(addr);
  const size_t size = file.size;
  file.keep_alive = std::shared_ptr<const void>(
      addr, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return file;
}

void DropPages(const MappedFile& file, uint64_t offset, uint64_t size) {
  if (file.data == nullptr || offset >= file.size) return;
  size = std::min<uint64_t>(size, file.size - offset);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(file.data) + offset;
  const uintptr_t begin = (first + page - 1) / page * page;
  const uintptr_t end = (first + size) / page * page;
  if (end > begin) (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string dir = DirOf(path);
  std::string tmp = path + ".tmp-XXXXXX";
  Fd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(path, "cannot create a temporary file", errno);
  auto fail = [&](std::string_view what) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(path, what, err);
  };
  // mkostemp creates 0600; a bundle is meant to be readable by the daemon's user and others.
  if (::fchmod(fd.get(), 0644) != 0) return fail("cannot set the mode of the temporary file");
  if (!WriteAll(fd.get(), bytes)) return fail("cannot write");
  if (::fsync(fd.get()) != 0) return fail("cannot fsync");
  if (::close(fd.release()) != 0) return fail("cannot close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename over");
  // Make the rename itself durable.
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0)
    return ErrnoStatus(path, "written, but cannot fsync its directory", errno);
  return absl::OkStatus();
}

}  // namespace adaspring::engine::bundle_internal
