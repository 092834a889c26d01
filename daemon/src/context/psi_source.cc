#include "context/psi_source.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "context/parse.h"

namespace adaspring::context {

PsiSource::PsiSource(std::shared_ptr<FileSystem> fs) : fs_(std::move(fs)) {}

SourceStatus PsiSource::Sample(SteadyTime, Readings* out) {
  if (!fs_->Exists("/proc/pressure"))
    return MakeStatus(name(), SourceState::kAbsent,
                      "no /proc/pressure (kernel without CONFIG_PSI)");
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  std::optional<double>* targets[] = {&out->sensed.psi_cpu_some_avg10,
                                      &out->sensed.psi_memory_some_avg10,
                                      &out->sensed.psi_io_some_avg10};
  const char* resources[] = {"cpu", "memory", "io"};
  // Each resource on its own: one unreadable or garbled file costs only its own value.
  std::vector<std::string> problems;
  for (int i = 0; i < 3; ++i) {
    const std::string path = absl::StrCat("/proc/pressure/", resources[i]);
    absl::StatusOr<std::string> content = fs_->ReadFile(path);
    if (absl::IsUnimplemented(content.status()))
      return MakeStatus(name(), SourceState::kAbsent,
                        absl::StrCat(content.status().message(), " (PSI disabled: psi=0)"));
    absl::StatusOr<double> avg10 =
        content.ok() ? ParsePsiSomeAvg10(*content, path) : absl::StatusOr<double>(content.status());
    if (!avg10.ok()) {
      problems.emplace_back(avg10.status().message());
      continue;
    }
    *targets[i] = *avg10;
    status.values.emplace_back(resources[i], absl::StrFormat("some avg10=%.2f", *avg10));
  }
  if (!problems.empty()) {
    status.state = SourceState::kDegraded;
    status.reason = ValidUtf8(absl::StrJoin(problems, "; "));
  }
  return status;
}

}  // namespace adaspring::context
