// libFuzzer target for the context trace CSV parser (daemon/src/context/trace.h). Any text must
// give either INVALID_ARGUMENT "<name>:<line>:<column>: ..." or a trace that keeps the documented
// promises: a header with t_s and no duplicate column, at least one row, finite non-decreasing
// t_s >= 0, increasing line numbers, and every value inside its column's range.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "context/trace.h"

namespace {

// Says which promise broke (the reproducer alone does not) and stops the run.
[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "trace_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

template <typename T>
bool InRange(const std::optional<T>& value, double lo, double hi) {
  if (!value.has_value()) return true;
  const double v = static_cast<double>(*value);
  return std::isfinite(v) && v >= lo && v <= hi;
}

bool RowValuesInRange(const adaspring::context::ContextValues& v) {
  constexpr double kMiB = 1024.0 * 1024.0;
  return InRange(v.memory_available_bytes, 0, 1e9 * kMiB) &&
         InRange(v.memory_limit_bytes, 0, 1e9 * kMiB) &&
         InRange(v.memory_used_bytes, 0, 1e9 * kMiB) && InRange(v.cpu_busy_fraction, 0, 1) &&
         InRange(v.cpu_count, 1, 4096) && InRange(v.cpu_freq_khz, 0, 1e9) &&
         InRange(v.cpu_max_freq_khz, 0, 1e9) && InRange(v.psi_cpu_some_avg10, 0, 100) &&
         InRange(v.psi_memory_some_avg10, 0, 100) && InRange(v.psi_io_some_avg10, 0, 100) &&
         InRange(v.temperature_c, -273, 300) && InRange(v.temperature_trip_c, -273, 300) &&
         InRange(v.power_w, 0, 1e5) && InRange(v.battery_percent, 0, 100);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace adaspring::context;  // NOLINT
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<Trace> trace = ParseTrace(text, "fuzz.csv");
  if (!trace.ok()) {
    if (trace.status().code() != absl::StatusCode::kInvalidArgument ||
        !absl::StartsWith(trace.status().message(), "fuzz.csv:")) {
      Fail("error is not INVALID_ARGUMENT \"fuzz.csv:...\"", trace.status().ToString());
    }
    return 0;
  }
  if (trace->name != "fuzz.csv" || trace->columns.empty() || trace->rows.empty()) {
    Fail("accepted without a name, header or rows", trace->name);
  }
  int t_columns = 0;
  for (size_t c = 0; c < trace->columns.size(); ++c) {
    if (trace->columns[c] == "t_s") ++t_columns;
    for (size_t prior = 0; prior < c; ++prior) {
      if (trace->columns[prior] == trace->columns[c]) Fail("duplicate column", trace->columns[c]);
    }
  }
  if (t_columns != 1) Fail("not exactly one t_s column", std::to_string(t_columns));
  double previous_t_s = 0;
  int previous_line = 0;
  for (const TraceRow& row : trace->rows) {
    const std::string where = "line " + std::to_string(row.line);
    if (!std::isfinite(row.t_s) || row.t_s < previous_t_s) Fail("bad or decreasing t_s", where);
    if (row.line <= previous_line) Fail("line numbers do not increase", where);
    if (!RowValuesInRange(row.values)) Fail("a value outside its column's range", where);
    previous_t_s = row.t_s;
    previous_line = row.line;
  }
  if (trace->duration_s() != trace->rows.back().t_s) Fail("duration_s is not the last t_s", "");
  return 0;
}
