#include "context/cpu_source.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "context/parse.h"

namespace adaspring::context {

CpuSource::CpuSource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

SourceStatus CpuSource::Sample(SteadyTime, Readings* out) {
  constexpr char kPath[] = "/proc/stat";
  absl::StatusOr<std::string> content = fs_->ReadFile(kPath);
  if (absl::IsNotFound(content.status()))
    return MakeStatus(name(), SourceState::kAbsent, "no /proc/stat (procfs not mounted)");
  if (!content.ok())
    return MakeStatus(name(), SourceState::kDegraded, std::string(content.status().message()));
  const std::vector<std::string> lines = absl::StrSplit(*content, '\n');
  // Fields of the aggregate line: user nice system idle iowait irq softirq steal guest
  // guest_nice. guest time is already inside user/nice, so it is not added again.
  std::optional<Jiffies> now_jiffies;
  uint32_t cpus = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("cpu", 0) != 0) continue;
    size_t digits_end = 3;
    while (digits_end < line.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(line[digits_end])))
      ++digits_end;
    if (digits_end > 3) {
      // "cpuN ...": one CPU; a line cut by a short read is not counted.
      if (digits_end < line.size() && line[digits_end] == ' ' && i + 1 < lines.size()) ++cpus;
      continue;
    }
    if (line.size() > 3 && line[3] != ' ') continue;  // "cpufoo": not a CPU line
    const std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 5 || i + 1 >= lines.size()) break;
    Jiffies j;
    for (size_t f = 1; f < fields.size() && f <= 8; ++f) {
      uint64_t value = 0;
      if (!absl::SimpleAtoi(fields[f], &value)) {
        j.total = 0;
        break;
      }
      j.total += value;
      if (f == 4 || f == 5) j.idle += value;
    }
    if (j.total > 0) now_jiffies = j;
  }
  if (!now_jiffies || cpus == 0)
    return MakeStatus(name(), SourceState::kDegraded,
                      absl::StrCat(kPath, ": garbage or short read (no complete \"cpu\" line in \"",
                                   Printable(*content), "\")"));
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  out->sensed.cpu_count = cpus;
  status.values.emplace_back("cpus", absl::StrCat(cpus));
  if (previous_ && now_jiffies->total > previous_->total && now_jiffies->idle >= previous_->idle) {
    const double total = static_cast<double>(now_jiffies->total - previous_->total);
    const double idle = static_cast<double>(now_jiffies->idle - previous_->idle);
    const double busy = std::clamp(1.0 - idle / total, 0.0, 1.0);
    out->sensed.cpu_busy_fraction = busy;
    status.values.emplace_back("busy", absl::StrFormat("%.3f", busy));
  } else {
    status.values.emplace_back("busy", "baseline taken; busy fraction from the next sample");
  }
  previous_ = now_jiffies;
  return status;
}

}  // namespace adaspring::context
