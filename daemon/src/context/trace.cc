#include "context/trace.h"

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace adaspring::context {
namespace {

constexpr double kBytesPerMb = 1024.0 * 1024.0;
// Longest offset a row may have: 1e7 s is 115 days, longer than any replay, and far from
// where a steady_clock time point (int64 nanoseconds, ~292 years) overflows.
constexpr double kMaxTraceSeconds = 1e7;

// How one column's text becomes a value: returns an error text or "" on success.
using CellSetter = std::function<std::string(const std::string&, TraceRow*)>;

std::string SetNumber(const std::string& text, double lo, double hi, const char* range,
                      double* value) {
  if (!absl::SimpleAtod(text, value) || !std::isfinite(*value) || *value < lo || *value > hi)
    return absl::StrCat("bad value \"", text, "\" (expected a number in ", range, ")");
  return "";
}

CellSetter Double(std::optional<double> ContextValues::*field, double lo, double hi,
                  const char* range) {
  return [=](const std::string& text, TraceRow* row) {
    double value = 0;
    std::string error = SetNumber(text, lo, hi, range, &value);
    if (error.empty()) row->values.*field = value;
    return error;
  };
}

CellSetter Mebibytes(std::optional<int64_t> ContextValues::*field) {
  return [=](const std::string& text, TraceRow* row) {
    double mb = 0;
    std::string error = SetNumber(text, 0, 1e9, "0..1e9 MiB", &mb);
    if (error.empty()) row->values.*field = static_cast<int64_t>(mb * kBytesPerMb);
    return error;
  };
}

CellSetter Megahertz(std::optional<int64_t> ContextValues::*field) {
  return [=](const std::string& text, TraceRow* row) {
    double mhz = 0;
    std::string error = SetNumber(text, 0, 1e6, "0..1e6 MHz", &mhz);
    if (error.empty()) row->values.*field = static_cast<int64_t>(mhz * 1000);
    return error;
  };
}

const std::map<std::string, CellSetter>& Setters() {
  static const auto* setters = new std::map<std::string, CellSetter>{
      {"memory_available_mb", Mebibytes(&ContextValues::memory_available_bytes)},
      {"memory_limit_mb", Mebibytes(&ContextValues::memory_limit_bytes)},
      {"memory_used_mb", Mebibytes(&ContextValues::memory_used_bytes)},
      {"cpu_busy", Double(&ContextValues::cpu_busy_fraction, 0, 1, "0..1")},
      {"cpu_count",
       [](const std::string& text, TraceRow* row) -> std::string {
         uint32_t count = 0;
         if (!absl::SimpleAtoi(text, &count) || count == 0 || count > 4096)
           return absl::StrCat("bad value \"", text, "\" (expected an integer in 1..4096)");
         row->values.cpu_count = count;
         return "";
       }},
      {"cpu_freq_mhz", Megahertz(&ContextValues::cpu_freq_khz)},
      {"cpu_max_freq_mhz", Megahertz(&ContextValues::cpu_max_freq_khz)},
      {"psi_cpu_some", Double(&ContextValues::psi_cpu_some_avg10, 0, 100, "0..100")},
      {"psi_memory_some", Double(&ContextValues::psi_memory_some_avg10, 0, 100, "0..100")},
      {"psi_io_some", Double(&ContextValues::psi_io_some_avg10, 0, 100, "0..100")},
      {"temp_c", Double(&ContextValues::temperature_c, -273, 300, "-273..300")},
      {"temp_trip_c", Double(&ContextValues::temperature_trip_c, -273, 300, "-273..300")},
      {"power_w", Double(&ContextValues::power_w, 0, 1e5, "0..1e5")},
      {"battery_pct", Double(&ContextValues::battery_percent, 0, 100, "0..100")},
      {"on_ac",
       [](const std::string& text, TraceRow* row) -> std::string {
         const std::string lower = absl::AsciiStrToLower(text);
         if (lower == "1" || lower == "true" || lower == "yes") {
           row->values.on_ac = true;
         } else if (lower == "0" || lower == "false" || lower == "no") {
           row->values.on_ac = false;
         } else {
           return absl::StrCat("bad value \"", text, "\" (expected 0/1, true/false or yes/no)");
         }
         return "";
       }},
      {"phase",
       [](const std::string& text, TraceRow* row) -> std::string {
         row->phase = text;
         return "";
       }},
  };
  return *setters;
}

}  // namespace

const std::vector<std::string>& TraceColumns() {
  static const auto* columns = new std::vector<std::string>{"t_s",
                                                            "memory_available_mb",
                                                            "memory_limit_mb",
                                                            "memory_used_mb",
                                                            "cpu_busy",
                                                            "cpu_count",
                                                            "cpu_freq_mhz",
                                                            "cpu_max_freq_mhz",
                                                            "psi_cpu_some",
                                                            "psi_memory_some",
                                                            "psi_io_some",
                                                            "temp_c",
                                                            "temp_trip_c",
                                                            "power_w",
                                                            "battery_pct",
                                                            "on_ac",
                                                            "phase"};
  return *columns;
}

absl::StatusOr<Trace> ParseTrace(const std::string& text, const std::string& name) {
  Trace trace;
  trace.name = name;
  auto error = [&](int line, int column, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(name, ":", line, ":", column, ": ", what));
  };
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::vector<const CellSetter*> setters;  // per column; nullptr for t_s
  int t_column = -1;
  TraceRow held;
  for (size_t index = 0; index < lines.size(); ++index) {
    const int line_number = static_cast<int>(index) + 1;
    const std::string line(absl::StripAsciiWhitespace(lines[index]));
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    for (std::string& cell : cells) cell = std::string(absl::StripAsciiWhitespace(cell));
    if (trace.columns.empty()) {
      for (size_t c = 0; c < cells.size(); ++c) {
        const int column = static_cast<int>(c) + 1;
        const std::string& header = cells[c];
        for (size_t prior = 0; prior < c; ++prior)
          if (cells[prior] == header)
            return error(line_number, column, absl::StrCat("duplicate column \"", header, "\""));
        if (header == "t_s") {
          t_column = static_cast<int>(c);
          setters.push_back(nullptr);
          continue;
        }
        auto it = Setters().find(header);
        if (it == Setters().end())
          return error(line_number, column,
                       absl::StrCat("unknown column \"", header,
                                    "\" (known: ", absl::StrJoin(TraceColumns(), ", "), ")"));
        setters.push_back(&it->second);
      }
      if (t_column < 0) return error(line_number, 1, "the header has no t_s column");
      trace.columns = cells;
      continue;
    }
    if (cells.size() != trace.columns.size())
      return error(line_number, static_cast<int>(std::min(cells.size(), trace.columns.size())) + 1,
                   absl::StrCat("expected ", trace.columns.size(), " cells, found ", cells.size()));
    TraceRow row = held;
    row.line = line_number;
    double t_s = 0;
    if (!absl::SimpleAtod(cells[t_column], &t_s) || !std::isfinite(t_s) || t_s < 0 ||
        t_s > kMaxTraceSeconds)
      return error(
          line_number, t_column + 1,
          absl::StrCat("bad value \"", cells[t_column], "\" for t_s (expected seconds in 0..1e7)"));
    if (!trace.rows.empty() && t_s < trace.rows.back().t_s)
      return error(line_number, t_column + 1,
                   absl::StrCat("t_s ", cells[t_column],
                                " goes back in time (previous row: ", trace.rows.back().t_s, ")"));
    row.t_s = t_s;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (setters[c] == nullptr || cells[c].empty()) continue;
      const std::string what = (*setters[c])(cells[c], &row);
      if (!what.empty())
        return error(line_number, static_cast<int>(c) + 1,
                     absl::StrCat(what, " in column ", trace.columns[c]));
    }
    held = row;
    trace.rows.push_back(row);
  }
  if (trace.columns.empty()) return error(static_cast<int>(lines.size()), 1, "no header line");
  if (trace.rows.empty()) return error(static_cast<int>(lines.size()), 1, "no data rows");
  return trace;
}

absl::StatusOr<Trace> LoadTraceFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open trace"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return ParseTrace(buffer.str(), path);
}

}  // namespace adaspring::context
