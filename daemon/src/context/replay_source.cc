#include "context/replay_source.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "context/parse.h"

namespace adaspring::context {
namespace {

// start + offset_s, saturating at SteadyTime::max() ("never") instead of overflowing the
// clock's int64 count: offsets beyond 1e9 s (31 years) and sums past the clock's end.
SteadyTime SaturatingAdd(SteadyTime start, double offset_s) {
  using Duration = SteadyTime::duration;
  if (!(offset_s < 1e9)) return SteadyTime::max();
  const Duration offset =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(std::max(offset_s, 0.0)));
  if (start > SteadyTime::max() - offset) return SteadyTime::max();
  return start + offset;
}

}  // namespace

ReplaySource::ReplaySource(Trace trace, bool loop) : trace_(std::move(trace)), loop_(loop) {}

std::optional<SteadyTime> ReplaySource::NextChange() const {
  absl::MutexLock lock(&mu_);
  return next_change_;
}

SourceStatus ReplaySource::Sample(SteadyTime now, Readings* out) {
  if (trace_.rows.empty())
    return MakeStatus(name(), SourceState::kDegraded, absl::StrCat(trace_.name, ": empty"));
  absl::MutexLock lock(&mu_);
  if (!start_) start_ = now;
  const double duration_s = trace_.duration_s();
  double elapsed_s = std::chrono::duration<double>(now - *start_).count();
  double cycle_start_s = 0;
  if (loop_ && duration_s > 0 && elapsed_s >= duration_s) {
    cycle_start_s = std::floor(elapsed_s / duration_s) * duration_s;
    elapsed_s -= cycle_start_s;
  }
  // The row in force: the last with t_s <= elapsed (rows are sorted). A small slack absorbs
  // timer jitter so that a wake-up scheduled exactly for a row sees that row.
  constexpr double kSlackS = 0.002;
  int current = -1;
  for (size_t i = 0; i < trace_.rows.size(); ++i) {
    if (trace_.rows[i].t_s <= elapsed_s + kSlackS) current = static_cast<int>(i);
  }
  const size_t next = static_cast<size_t>(current + 1);
  auto at = [&](double t_s) { return SaturatingAdd(*start_, cycle_start_s + t_s); };
  if (next < trace_.rows.size()) {
    next_change_ = at(trace_.rows[next].t_s);
  } else if (loop_ && duration_s > 0) {
    next_change_ = at(duration_s + trace_.rows.front().t_s);
  } else {
    next_change_.reset();
  }
  SourceStatus status = MakeStatus(name(), SourceState::kAvailable);
  status.values.emplace_back("trace", trace_.name);
  status.values.emplace_back("t_s", absl::StrFormat("%.3f", elapsed_s));
  if (current < 0) {
    status.values.emplace_back("row", "none yet");
    return status;
  }
  const TraceRow& row = trace_.rows[current];
  out->replayed = row.values;
  out->phase = row.phase;
  status.values.emplace_back(
      "row", absl::StrCat(current + 1, "/", trace_.rows.size(), " (line ", row.line, ")"));
  if (!row.phase.empty()) status.values.emplace_back("phase", row.phase);
  if (!loop_ && next >= trace_.rows.size())
    status.reason = absl::StrFormat("trace ended at t=%.3f s; last row stays in force", row.t_s);
  return status;
}

}  // namespace adaspring::context
