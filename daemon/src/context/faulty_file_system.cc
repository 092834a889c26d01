#include "context/faulty_file_system.h"

#include <fnmatch.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "context/errno_status.h"

namespace adaspring::context {

FaultyFileSystem::FaultyFileSystem(std::shared_ptr<FileSystem> base) : base_(std::move(base)) {}

FaultyFileSystem::~FaultyFileSystem() { ReleaseStalls(); }

void FaultyFileSystem::Inject(const std::string& pattern, Fault fault, int times) {
  absl::MutexLock lock(&mu_);
  rules_.push_back(Rule{pattern, fault, times});
}

void FaultyFileSystem::ClearFaults() {
  absl::MutexLock lock(&mu_);
  rules_.clear();
}

void FaultyFileSystem::ReleaseStalls() {
  absl::MutexLock lock(&mu_);
  stalls_released_ = true;
}

int FaultyFileSystem::stalled_reads() const {
  absl::MutexLock lock(&mu_);
  return stalled_;
}

bool FaultyFileSystem::TakeFault(const std::string& path, Fault* fault) {
  absl::MutexLock lock(&mu_);
  for (Rule& rule : rules_) {
    if (rule.remaining == 0 || fnmatch(rule.pattern.c_str(), path.c_str(), 0) != 0) continue;
    if (rule.remaining > 0) --rule.remaining;
    *fault = rule.fault;
    return true;
  }
  return false;
}

absl::StatusOr<std::string> FaultyFileSystem::ReadFileOnce(const std::string& path) {
  Fault fault;
  if (!TakeFault(path, &fault)) return base_->ReadFile(path);
  switch (fault) {
    case Fault::kNotFound:
      return ErrnoToStatus(ENOENT, path);
    case Fault::kPermissionDenied:
      return ErrnoToStatus(EACCES, path);
    case Fault::kInterrupted:
      return ErrnoToStatus(EINTR, path);
    case Fault::kInvalidArgument:
      return ErrnoToStatus(EINVAL, path);
    case Fault::kGarbage:
      return std::string("\x01\xfe garbage \x7f\n");
    case Fault::kShortRead: {
      absl::StatusOr<std::string> content = base_->ReadFile(path);
      if (content.ok()) content->resize(content->size() / 2);
      return content;
    }
    case Fault::kStall: {
      absl::MutexLock lock(&mu_);
      ++stalled_;
      mu_.Await(absl::Condition(&stalls_released_));
      --stalled_;
      break;
    }
  }
  return base_->ReadFile(path);
}

absl::StatusOr<std::vector<std::string>> FaultyFileSystem::ListDirectory(const std::string& path) {
  Fault fault;
  if (TakeFault(path, &fault)) {
    if (fault == Fault::kNotFound) return ErrnoToStatus(ENOENT, path);
    if (fault == Fault::kPermissionDenied) return ErrnoToStatus(EACCES, path);
  }
  return base_->ListDirectory(path);
}

bool FaultyFileSystem::Exists(const std::string& path) {
  {
    absl::MutexLock lock(&mu_);
    for (const Rule& rule : rules_) {
      if (rule.remaining != 0 && rule.fault == Fault::kNotFound &&
          fnmatch(rule.pattern.c_str(), path.c_str(), 0) == 0)
        return false;
    }
  }
  return base_->Exists(path);
}

absl::StatusOr<int> FaultyFileSystem::OpenPsiTrigger(const std::string& path,
                                                     const std::string& trigger) {
  Fault fault;
  if (TakeFault(path, &fault)) {
    if (fault == Fault::kNotFound) return ErrnoToStatus(ENOENT, path);
    if (fault == Fault::kPermissionDenied) return ErrnoToStatus(EACCES, path);
    if (fault == Fault::kInvalidArgument) return ErrnoToStatus(EINVAL, path);
  }
  return base_->OpenPsiTrigger(path, trigger);
}

}  // namespace adaspring::context
