#include "scheduler/cpu_latency_request.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "context/errno_status.h"

namespace adaspring::daemon {
namespace {

absl::Status CheckRange(int64_t latency_us) {
  if (latency_us >= 0 && latency_us <= CpuLatencyRequest::kMaxLatencyUs) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("CPU wake-up latency ", latency_us,
                                                 " us is outside 0 .. ",
                                                 CpuLatencyRequest::kMaxLatencyUs));
}

}  // namespace

absl::StatusOr<std::unique_ptr<CpuLatencyRequest>> CpuLatencyRequest::Open(
    const std::string& device, int64_t latency_us) {
  // Refused before the device is touched.
  if (absl::Status s = CheckRange(latency_us); !s.ok()) return s;
  // Read back the effective target; O_CLOEXEC so that no child inherits (and keeps) it.
  const int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    absl::Status s = context::ErrnoToStatus(e, device);
    if (e == EACCES || e == EPERM) {
      return absl::PermissionDeniedError(
          absl::StrCat(s.message(),
                       " (the PM QoS device is root's; a unit drop-in can grant it, see "
                       "INSTALL.md \"Wake-up latency\")"));
    }
    return s;
  }
  std::unique_ptr<CpuLatencyRequest> r(new CpuLatencyRequest(device, fd));
  if (absl::Status s = r->Update(latency_us); !s.ok()) return s;
  return r;
}

CpuLatencyRequest::~CpuLatencyRequest() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status CpuLatencyRequest::Update(int64_t latency_us) {
  if (absl::Status s = CheckRange(latency_us); !s.ok()) return s;
  // The device takes the value as a binary s32 (a 4-byte write) at any offset.
  const int32_t value = static_cast<int32_t>(latency_us);
  ssize_t n;
  do {
    n = ::pwrite(fd_, &value, sizeof value, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return context::ErrnoToStatus(errno, absl::StrCat(device_, ": request of ", latency_us, " us"));
  }
  if (n != static_cast<ssize_t>(sizeof value)) {
    return absl::DataLossError(
        absl::StrCat(device_, ": short write (", n, " of 4 bytes) for ", latency_us, " us"));
  }
  latency_us_ = latency_us;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CpuLatencyRequest::EffectiveUs() const {
  int32_t value = 0;
  ssize_t n;
  do {
    n = ::pread(fd_, &value, sizeof value, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return context::ErrnoToStatus(errno, device_);
  if (n != static_cast<ssize_t>(sizeof value)) {
    return absl::DataLossError(absl::StrCat(device_, ": read ", n, " of 4 bytes"));
  }
  return static_cast<int64_t>(value);
}

}  // namespace adaspring::daemon
