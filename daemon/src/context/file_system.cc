#include "context/file_system.h"

#include "context/errno_status.h"

namespace adaspring::context {
namespace {

thread_local ReadTracker* current_tracker = nullptr;

}  // namespace

std::string ReadTracker::current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

void ReadTracker::Set(const std::string& path) {
  absl::MutexLock lock(&mu_);
  current_ = path;
}

ReadTracker::Scope::Scope(ReadTracker* tracker) { current_tracker = tracker; }
ReadTracker::Scope::~Scope() { current_tracker = nullptr; }

absl::StatusOr<std::string> FileSystem::ReadFile(const std::string& path) {
  ReadTracker* const tracker = current_tracker;
  if (tracker != nullptr) tracker->Set(path);
  absl::StatusOr<std::string> result = ReadFileOnce(path);
  for (int retry = 0;
       retry < kMaxInterruptRetries && !result.ok() && IsInterrupted(result.status()); ++retry) {
    result = ReadFileOnce(path);
  }
  if (tracker != nullptr) tracker->Set("");
  return result;
}

}  // namespace adaspring::context
