#include "log/logger.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#define SD_JOURNAL_SUPPRESS_LOCATION  // we pass no CODE_FILE/CODE_LINE of the logger itself
#include <systemd/sd-journal.h>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace adaspring::daemon {
namespace {

constexpr char kIdentifier[] = "adaspringd";

// syslog(3) priorities, as the journal expects in PRIORITY=.
int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return 7;
    case LogLevel::kInfo:
      return 6;
    case LogLevel::kWarning:
      return 4;
    case LogLevel::kError:
      return 3;
  }
  return 6;
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void AppendEscaped(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out->push_back('?');
        } else {
          out->push_back(c);
        }
    }
  }
}

// Journal field names: [A-Z0-9_], not starting with '_' (trusted fields) or a digit.
std::string JournalFieldName(std::string_view key) {
  std::string name;
  name.reserve(key.size() + 2);
  for (char c : key) {
    if (c >= 'a' && c <= 'z') {
      name.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      name.push_back(c);
    } else {
      name.push_back('_');
    }
  }
  if (name.empty() || name[0] == '_' || (name[0] >= '0' && name[0] <= '9')) {
    name.insert(0, "F_");
  }
  // Keep the fields we set ourselves from being shadowed by a caller's key.
  if (name == "MESSAGE" || name == "PRIORITY" || name == "SYSLOG_IDENTIFIER") {
    name.insert(0, "F_");
  }
  return name;
}

class StreamSink final : public LogSink {
 public:
  explicit StreamSink(int fd) : fd_(fd) {}
  void Write(const LogRecord& record) override {
    const std::string line = FormatLogLine(record);
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere left to report a logging failure
      done += static_cast<size_t>(n);
    }
  }

 private:
  int fd_;
};

class JournalSink final : public LogSink {
 public:
  void Write(const LogRecord& record) override {
    std::vector<std::string> fields = JournalFields(record);
    std::vector<struct iovec> iov(fields.size());
    for (size_t i = 0; i < fields.size(); ++i) {
      iov[i].iov_base = fields[i].data();
      iov[i].iov_len = fields[i].size();
    }
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
      // The journal is gone (e.g. during shutdown): fall back to stderr, which systemd
      // still collects or which is a terminal.
      StreamSink(2).Write(record);
    }
  }
};

struct LoggerState {
  std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};
  absl::Mutex mu;
  std::unique_ptr<LogSink> sink ABSL_GUARDED_BY(mu);
};

// Never destroyed: threads may still log while static destructors run at exit.
LoggerState& State() {
  static LoggerState* state = new LoggerState();
  return *state;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(const std::string& text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warning" || text == "warn") return LogLevel::kWarning;
  if (text == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("log level \"", text, "\": must be one of debug, info, warning, error"));
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

absl::StatusOr<LogTarget> ParseLogTarget(const std::string& text) {
  if (text == "auto") return LogTarget::kAuto;
  if (text == "journal") return LogTarget::kJournal;
  if (text == "stderr") return LogTarget::kStderr;
  return absl::InvalidArgumentError(
      absl::StrCat("log target \"", text, "\": must be one of auto, journal, stderr"));
}

std::unique_ptr<LogSink> MakeStreamSink(int fd) { return std::make_unique<StreamSink>(fd); }
std::unique_ptr<LogSink> MakeJournalSink() { return std::make_unique<JournalSink>(); }

bool FdIsJournalStream(int fd) {
  // systemd sets JOURNAL_STREAM="<st_dev>:<st_ino>" of the stream it connected to stdout and
  // stderr; if stderr was redirected since, the numbers no longer match (sd_journal docs).
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr || *env == '\0') return false;
  const std::string value(env);
  const size_t colon = value.find(':');
  if (colon == std::string::npos) return false;
  uint64_t dev = 0, ino = 0;
  if (!absl::SimpleAtoi(value.substr(0, colon), &dev) ||
      !absl::SimpleAtoi(value.substr(colon + 1), &ino)) {
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  return static_cast<uint64_t>(st.st_dev) == dev && static_cast<uint64_t>(st.st_ino) == ino;
}

std::vector<std::string> JournalFields(const LogRecord& record) {
  std::vector<std::string> fields;
  fields.reserve(3 + record.fields.size());
  fields.push_back(absl::StrCat("MESSAGE=", std::string(record.message)));
  fields.push_back(absl::StrCat("PRIORITY=", SyslogPriority(record.level)));
  fields.push_back(absl::StrCat("SYSLOG_IDENTIFIER=", kIdentifier));
  for (const LogField& f : record.fields) {
    fields.push_back(absl::StrCat(JournalFieldName(f.key), "=", std::string(f.value)));
  }
  return fields;
}

std::string FormatLogLine(const LogRecord& record) {
  const time_t seconds = std::chrono::system_clock::to_time_t(record.time);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char stamp[32];
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &utc);

  std::string line;
  line.reserve(64 + record.message.size() + 24 * record.fields.size());
  absl::StrAppend(&line, stamp, " ", LogLevelName(record.level), " ", kIdentifier, ": ");
  for (char c : record.message) {
    if (c == '\n') {
      line.append("\\n");
    } else {
      line.push_back(c);
    }
  }
  for (const LogField& f : record.fields) {
    line.push_back(' ');
    line.append(f.key.data(), f.key.size());
    line.push_back('=');
    if (NeedsQuotes(f.value)) {
      line.push_back('"');
      AppendEscaped(f.value, &line);
      line.push_back('"');
    } else {
      line.append(f.value.data(), f.value.size());
    }
  }
  line.push_back('\n');
  return line;
}

void InitLogging(LogLevel min_level, LogTarget target) {
  bool journal = target == LogTarget::kJournal;
  if (target == LogTarget::kAuto) journal = FdIsJournalStream(2);
  SetLogSink(journal ? MakeJournalSink() : MakeStreamSink(2));
  SetLogLevel(min_level);
}

void SetLogSink(std::unique_ptr<LogSink> sink) {
  if (!sink) sink = MakeStreamSink(2);
  LoggerState& state = State();
  absl::MutexLock lock(&state.mu);
  state.sink = std::move(sink);
}

void SetLogLevel(LogLevel min_level) {
  State().min_level.store(static_cast<int>(min_level), std::memory_order_relaxed);
}

LogLevel GetLogLevel() {
  return static_cast<LogLevel>(State().min_level.load(std::memory_order_relaxed));
}

namespace log_internal {
bool Enabled(LogLevel level) {
  return static_cast<int>(level) >= State().min_level.load(std::memory_order_relaxed);
}
}  // namespace log_internal

void Log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  if (!log_internal::Enabled(level)) return;
  const LogRecord record{level, std::chrono::system_clock::now(), message, fields};
  LoggerState& state = State();
  absl::MutexLock lock(&state.mu);
  if (!state.sink) state.sink = MakeStreamSink(2);
  state.sink->Write(record);
}

}  // namespace adaspring::daemon
