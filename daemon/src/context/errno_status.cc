#include "context/errno_status.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"

namespace adaspring::context {
namespace {

constexpr char kErrnoPayloadUrl[] = "type.adaspring.dev/errno";

}  // namespace

absl::Status ErrnoToStatus(int error_number, const std::string& what) {
  // strerror_r's GNU variant may return a static string instead of filling the buffer.
  char buffer[128];
  const char* text = strerror_r(error_number, buffer, sizeof(buffer));
  absl::Status status(absl::ErrnoToStatusCode(error_number), what + ": " + text);
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(std::to_string(error_number)));
  return status;
}

int StatusErrno(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrnoPayloadUrl);
  int value = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &value)) return 0;
  return value;
}

bool IsInterrupted(const absl::Status& status) { return StatusErrno(status) == EINTR; }

}  // namespace adaspring::context
