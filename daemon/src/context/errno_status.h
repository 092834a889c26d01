// The one place where errno values become absl::Status (STYLE.md habit 3).
#ifndef ADASPRING_DAEMON_CONTEXT_ERRNO_STATUS_H_
#define ADASPRING_DAEMON_CONTEXT_ERRNO_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace adaspring::context {

// Returns a Status whose code follows absl::ErrnoToStatusCode (ENOENT -> NOT_FOUND,
// EACCES/EPERM -> PERMISSION_DENIED, ...) and whose message is "<what>: <strerror>". The errno
// value travels as a payload so that callers can recognise EINTR (see IsInterrupted) and
// report the exact cause; `what` is usually the path.
absl::Status ErrnoToStatus(int error_number, const std::string& what);

// The errno carried by a Status made by ErrnoToStatus, or 0.
int StatusErrno(const absl::Status& status);

// True for a Status made from EINTR: the call may simply be repeated.
bool IsInterrupted(const absl::Status& status);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_ERRNO_STATUS_H_
