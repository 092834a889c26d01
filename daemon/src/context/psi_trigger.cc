#include "context/psi_trigger.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace adaspring::context {

std::optional<std::string> UnprivilegedTriggerSpec(const std::string& spec) {
  constexpr int64_t kUnprivilegedWindowUs = 2'000'000;
  const std::vector<std::string> fields = absl::StrSplit(spec, ' ', absl::SkipEmpty());
  int64_t stall_us = 0;
  int64_t window_us = 0;
  if (fields.size() != 3 || (fields[0] != "some" && fields[0] != "full") ||
      !absl::SimpleAtoi(fields[1], &stall_us) || !absl::SimpleAtoi(fields[2], &window_us) ||
      window_us <= 0 || stall_us <= 0)
    return std::nullopt;
  if (window_us % kUnprivilegedWindowUs == 0) return std::nullopt;
  const int64_t rounded_us =
      (window_us + kUnprivilegedWindowUs - 1) / kUnprivilegedWindowUs * kUnprivilegedWindowUs;
  const int64_t scaled_stall_us = stall_us * rounded_us / window_us;
  return absl::StrCat(fields[0], " ", scaled_stall_us, " ", rounded_us);
}

absl::StatusOr<ArmedPsiTrigger> ArmPsiTrigger(FileSystem& fs, const std::string& path,
                                              const std::string& spec) {
  absl::StatusOr<int> fd = fs.OpenPsiTrigger(path, spec);
  if (fd.ok()) return ArmedPsiTrigger{*fd, spec, ""};
  if (absl::IsPermissionDenied(fd.status())) {
    return absl::PermissionDeniedError(absl::StrCat(
        fd.status().message(),
        " (before Linux 6.5 a PSI trigger needs CAP_SYS_RESOURCE, which the service does not "
        "have: the daemon samples every context.period_ms instead)"));
  }
  if (!absl::IsInvalidArgument(fd.status())) return fd.status();
  const std::optional<std::string> fallback = UnprivilegedTriggerSpec(spec);
  if (!fallback) return fd.status();
  absl::StatusOr<int> retry = fs.OpenPsiTrigger(path, *fallback);
  if (!retry.ok()) return retry.status();
  return ArmedPsiTrigger{*retry, *fallback,
                         absl::StrCat("kernel refused \"", spec,
                                      "\" (EINVAL; unprivileged writers need windows "
                                      "in multiples of 2 s since Linux 6.5); using \"",
                                      *fallback, "\"")};
}

}  // namespace adaspring::context
