// Context traces: a documented CSV form of recorded or scripted context (docs/CONTEXT.md),
// replayed by ReplaySource for tests, demos and simulation.
#ifndef ADASPRING_DAEMON_CONTEXT_TRACE_H_
#define ADASPRING_DAEMON_CONTEXT_TRACE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "context/readings.h"

namespace adaspring::context {

struct TraceRow {
  double t_s = 0;        // offset from the start of the replay, seconds
  ContextValues values;  // after sample-and-hold: cells left empty keep the previous value
  std::string phase;     // the `phase` column, held like the values
  int line = 0;          // 1-based line in the file, for messages
};

struct Trace {
  std::string name;                  // file name or label, for messages
  std::vector<std::string> columns;  // as in the header
  std::vector<TraceRow> rows;        // non-decreasing t_s
  double duration_s() const { return rows.empty() ? 0 : rows.back().t_s; }
};

// Column names ParseTrace accepts, in documentation order.
const std::vector<std::string>& TraceColumns();

// Parses CSV text: '#' comment lines and blank lines are skipped; the first other line is the
// header (t_s required, plus any subset of TraceColumns(), each at most once); every row has as
// many cells as the header; an empty cell keeps the column's previous value. Errors are
// INVALID_ARGUMENT "<name>:<line>:<column>: <what>" with 1-based line and column numbers.
absl::StatusOr<Trace> ParseTrace(const std::string& text, const std::string& name);

// Reads and parses a trace file (a configuration file, read with the C++ library; not sensing).
absl::StatusOr<Trace> LoadTraceFile(const std::string& path);

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_TRACE_H_
