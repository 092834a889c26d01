#include "context/meminfo_source.h"

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
  auto kib = [&](const char* key) -> std::optional<int64_t> {
    auto it = fields.find(key);
    if (it == fields.end() || it->second < 0) return std::nullopt;
    return it->second * 1024;
  };
  const std::optional<int64_t> total = kib("MemTotal");
  if (!total || *total <= 0)
    return MakeStatus(
        name(), SourceState::kDegraded,
        absl::StrCat(kPath, ": garbage (no MemTotal in \"", Printable(*content), "\")"));
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  std::optional<int64_t> available = kib("MemAvailable");
  if (!available) {
    available = kib("MemFree").value_or(0) + kib("Buffers").value_or(0) + kib("Cached").value_or(0);
    status.values.emplace_back("note", "no MemAvailable (kernel < 3.14): MemFree+Buffers+Cached");
  }
  if (*available > *total) available = total;
  status.values.emplace_back("MemTotal", FormatBytes(*total));
  status.values.emplace_back("MemAvailable", FormatBytes(*available));
  out->memory.push_back(MemoryBound{name(), total, *total - *available, available});
  return status;
}

}  // namespace adaspring::context
