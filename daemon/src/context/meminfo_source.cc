#include "context/meminfo_source.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "context/parse.h"

namespace adaspring::context {

MeminfoSource::MeminfoSource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

SourceStatus MeminfoSource::Sample(SteadyTime, Readings* out) {
  constexpr char kPath[] = "/proc/meminfo";
  absl::StatusOr<std::string> content = fs_->ReadFile(kPath);
  if (absl::IsNotFound(content.status()))
    return MakeStatus(name(), SourceState::kAbsent, "no /proc/meminfo (procfs not mounted)");
  if (!content.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(content.status().message()));
  if (absl::StatusOr<std::string> whole = ParseAttribute(*content, kPath); !whole.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(whole.status().message()));
  const auto fields = ParseKeyedNumbers(*content);
  // A field in bytes; nullopt when absent. A negative value, or one whose bytes do not fit in
  // int64, is an error naming the field and its value.
  absl::Status bad;
  auto kib = [&](const char* key) -> std::optional<int64_t> {
    auto it = fields.find(key);
    if (it == fields.end()) return std::nullopt;
    if (it->second < 0 || it->second > std::numeric_limits<int64_t>::max() / 1024) {
      if (bad.ok())
        bad = absl::OutOfRangeError(
            absl::StrCat(kPath, ": ", key, " ", it->second, " kB out of range"));
      return std::nullopt;
    }
    return it->second * 1024;
  };
  const std::optional<int64_t> total = kib("MemTotal");
  if (!bad.ok()) return MakeStatus(name(), SourceState::kDegraded, std::string(bad.message()));
  if (!total || *total <= 0)
    return MakeStatus(
        name(), SourceState::kDegraded,
        absl::StrCat(kPath, ": garbage (no MemTotal in \"", Printable(*content), "\")"));
  std::optional<int64_t> available = kib("MemAvailable");
  if (!bad.ok()) return MakeStatus(name(), SourceState::kDegraded, std::string(bad.message()));
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  if (!available) {
    // Summed up to MemTotal at most, which also keeps the sum from overflowing.
    int64_t sum = 0;
    for (const char* key : {"MemFree", "Buffers", "Cached"})
      sum += std::min(kib(key).value_or(0), *total - sum);
    available = sum;
    if (!bad.ok()) return MakeStatus(name(), SourceState::kDegraded, std::string(bad.message()));
    status.values.emplace_back("note", "no MemAvailable (kernel < 3.14): MemFree+Buffers+Cached");
  }
  if (*available > *total) available = total;
  status.values.emplace_back("MemTotal", FormatBytes(*total));
  status.values.emplace_back("MemAvailable", FormatBytes(*available));
  out->memory.push_back(MemoryBound{name(), total, *total - *available, available});
  return status;
}

}  // namespace adaspring::context
