// adaspringd's logger: one process-wide sink, structured fields, a level filter.
//
// Under systemd (stderr is the journal stream: $JOURNAL_STREAM equals stderr's "dev:ino") the
// record goes to the journal via sd_journal_send with MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and
// one upper-cased field per {key, value} (e.g. app -> APP), so `journalctl APP=camera` works.
// Otherwise one line per record goes to stderr:
//   2026-11-28T13:40:00Z info adaspringd: model loaded model=smallres28 path="/x y.asb"
// (values with spaces, quotes or '=' are quoted, like logfmt).
//
// Usage:
//   InitLogging(LogLevel::kInfo, LogTarget::kAuto);           // once, in main()
//   Log(LogLevel::kInfo, "model loaded", {{"model", name}, {"path", path}});
//
// Thread safety: Log() may be called from any thread; records are written whole (one write()
// or one sd_journal_sendv() under a mutex). The level check is a relaxed atomic load, so a
// filtered-out Log() costs no lock. Not for the request path (it formats and may block on I/O).
#ifndef ADASPRING_DAEMON_LOG_LOGGER_H_
#define ADASPRING_DAEMON_LOG_LOGGER_H_

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace adaspring::daemon {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogTarget { kAuto, kJournal, kStderr };

// "debug" | "info" | "warning" | "error" (also "warn"); InvalidArgument otherwise.
absl::StatusOr<LogLevel> ParseLogLevel(const std::string& text);
const char* LogLevelName(LogLevel level);
// "auto" | "journal" | "stderr".
absl::StatusOr<LogTarget> ParseLogTarget(const std::string& text);

// One structured field. Keys are lower_snake_case ([a-z0-9_], starting with a letter); the
// views must stay valid during the Log() call only. Values may be std::string,
// std::string_view, absl::string_view (e.g. status.message()) or string literals; format
// numbers with absl::StrCat.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, absl::string_view v) : key(k), value(v.data(), v.size()) {}

  std::string_view key;
  std::string_view value;
};

struct LogRecord {
  LogLevel level;
  std::chrono::system_clock::time_point time;
  std::string_view message;
  std::initializer_list<LogField> fields;
};

// Where records go. Write() is called under the logger's mutex (never concurrently).
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(const LogRecord& record) = 0;
};

// Lines as above to `fd` (not owned, not closed).
std::unique_ptr<LogSink> MakeStreamSink(int fd);
// sd_journal_sendv with structured fields.
std::unique_ptr<LogSink> MakeJournalSink();

// True when $JOURNAL_STREAM names the file behind file descriptor `fd` (default stderr).
bool FdIsJournalStream(int fd = 2);

// The stderr line for `record` (with trailing '\n'); exposed for tests.
std::string FormatLogLine(const LogRecord& record);
// The journal fields ("MESSAGE=...", "PRIORITY=6", "SYSLOG_IDENTIFIER=adaspringd", then one
// "KEY=value" per field: upper-cased, other characters -> '_', "F_" prefixed when it would
// start with '_' or a digit or shadow one of the three); exposed for tests.
std::vector<std::string> JournalFields(const LogRecord& record);

// Selects the sink (kAuto: journal if FdIsJournalStream(2), else stderr) and the minimum level.
// May be called again (e.g. on SIGHUP after a config reload).
void InitLogging(LogLevel min_level, LogTarget target = LogTarget::kAuto);
// Replaces the sink (tests capture records this way). nullptr restores stderr.
void SetLogSink(std::unique_ptr<LogSink> sink);
void SetLogLevel(LogLevel min_level);
LogLevel GetLogLevel();
inline bool LogEnabled(LogLevel level);

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

// ---- implementation details ----
namespace log_internal {
bool Enabled(LogLevel level);
}  // namespace log_internal
inline bool LogEnabled(LogLevel level) { return log_internal::Enabled(level); }

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_LOG_LOGGER_H_
