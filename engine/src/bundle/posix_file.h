// The bundle code's only system calls: a read-only mapping of a file and an atomic file
// replacement. errno becomes an absl::Status here and nowhere else in bundle I/O.
#ifndef ADASPRING_ENGINE_SRC_BUNDLE_POSIX_FILE_H_
#define ADASPRING_ENGINE_SRC_BUNDLE_POSIX_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace adaspring::engine::bundle_internal {

// `path: <what>: <strerror>` with a code that fits the errno: NOT_FOUND (ENOENT, ENOTDIR),
// PERMISSION_DENIED (EACCES, EPERM, EROFS), RESOURCE_EXHAUSTED (ENOSPC, EDQUOT, EFBIG,
// EMFILE, ENFILE, ENOMEM), INVALID_ARGUMENT otherwise.
absl::Status ErrnoStatus(const std::string& path, std::string_view what, int err);

// A read-only view of a whole regular file. The mapping lives as long as `keep_alive`.
// Contract: the file must not be truncated or rewritten in place while mapped (a truncation
// would turn reads into SIGBUS); WriteBundle never does that, it renames a new file over.
struct MappedFile {
  const uint8_t* data = nullptr;  // nullptr when size == 0 (nothing is mapped)
  size_t size = 0;
  std::shared_ptr<const void> keep_alive;
};

// Opens without blocking (a FIFO would otherwise hang the caller) and rejects anything that
// is not a regular file: INVALID_ARGUMENT "path contains a NUL character" / "is a
// directory" / "is not a regular file" /
// "reports size 0 (not a regular file with contents: it is on procfs ...)" for a file of a
// pseudo file system (procfs, sysfs, debugfs, tracefs, securityfs, cgroupfs) that reports
// size 0. A truly empty file is returned with size 0 (the parser reports "file is empty").
absl::StatusOr<MappedFile> MapReadOnly(const std::string& path);

// Gives back the resident pages wholly inside [offset, offset + size) of a mapping from
// MapReadOnly (madvise MADV_DONTNEED; advisory, errors ignored). The mapping is private and
// never written, so a later read of those bytes just faults them in from the file again.
void DropPages(const MappedFile& file, uint64_t offset, uint64_t size);

// Writes `bytes` to a new temporary file in path's directory, fsyncs it, renames it over
// `path` and fsyncs the directory. On any failure the temporary file is removed and `path`
// is left as it was.
absl::Status WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace adaspring::engine::bundle_internal

#endif  // ADASPRING_ENGINE_SRC_BUNDLE_POSIX_FILE_H_
