#include "log/logger.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/ops/temp_dir.h"
#include "log/protobuf_log.h"

namespace adaspring::daemon {
namespace {

using ::testing::HasSubstr;

std::chrono::system_clock::time_point At(time_t seconds) {
  return std::chrono::system_clock::from_time_t(seconds);
}

// Captures records as formatted lines.
class CaptureSink final : public LogSink {
 public:
  explicit CaptureSink(std::vector<std::string>* lines) : lines_(lines) {}
  void Write(const LogRecord& record) override { lines_->push_back(FormatLogLine(record)); }

 private:
  std::vector<std::string>* lines_;
};

class LoggerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogLevel(LogLevel::kInfo);
  }
};

TEST_F(LoggerTest, FormatsTimeLevelMessageAndFields) {
  const LogRecord record{LogLevel::kInfo,
                         At(1795873200),  // 2026-11-28T13:40:00Z
                         "model loaded",
                         {{"model", "smallres28"}, {"path", "/x y.asb"}, {"note", "a\"b"}}};
  EXPECT_EQ(FormatLogLine(record),
            "2026-11-28T13:40:00Z info adaspringd: model loaded model=smallres28 "
            "path=\"/x y.asb\" note=\"a\\\"b\"\n");
  const LogRecord multi{LogLevel::kError, At(0), "two\nlines", {{"empty", ""}}};
  EXPECT_EQ(FormatLogLine(multi),
            "1970-01-01T00:00:00Z error adaspringd: two\\nlines empty=\"\"\n");
}

TEST_F(LoggerTest, FiltersByLevel) {
  std::vector<std::string> lines;
  SetLogSink(std::make_unique<CaptureSink>(&lines));
  SetLogLevel(LogLevel::kWarning);
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  Log(LogLevel::kDebug, "d");
  Log(LogLevel::kInfo, "i");
  Log(LogLevel::kWarning, "w", {{"k", "v"}});
  Log(LogLevel::kError, "e");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr(" warning adaspringd: w k=v\n"));
  EXPECT_THAT(lines[1], HasSubstr(" error adaspringd: e\n"));
}

TEST_F(LoggerTest, ParsesLevelsAndTargets) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarning);
  EXPECT_FALSE(ParseLogLevel("loud").ok());
  EXPECT_EQ(*ParseLogTarget("journal"), LogTarget::kJournal);
  EXPECT_FALSE(ParseLogTarget("syslog").ok());
}

TEST_F(LoggerTest, StreamSinkWritesWholeLinesFromManyThreads) {
  ops_testing::TempDir dir;
  const std::string path = dir.Sub("log");
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  SetLogSink(MakeStreamSink(fd));
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) {
        Log(LogLevel::kInfo, "tick", {{"thread", absl::StrCat(t)}, {"i", absl::StrCat(i)}});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  SetLogSink(nullptr);
  close(fd);

  std::ifstream in(path);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    ++count;
    EXPECT_THAT(line,
                ::testing::MatchesRegex("[0-9T:Z-]+ info adaspringd: tick thread=[0-3] i=[0-9]+"));
  }
  EXPECT_EQ(count, kThreads * kPerThread);
}

TEST_F(LoggerTest, RecognisesTheJournalStreamByDeviceAndInode) {
  ops_testing::TempDir dir;
  const std::string path = dir.WriteFile("stream", "");
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct stat st;
  ASSERT_EQ(fstat(fd, &st), 0);
  const char* old = getenv("JOURNAL_STREAM");
  const std::string saved = old ? old : "";

  setenv("JOURNAL_STREAM", absl::StrCat(st.st_dev, ":", st.st_ino).c_str(), 1);
  EXPECT_TRUE(FdIsJournalStream(fd));
  setenv("JOURNAL_STREAM", absl::StrCat(st.st_dev, ":", st.st_ino + 1).c_str(), 1);
  EXPECT_FALSE(FdIsJournalStream(fd));  // stderr was redirected elsewhere since
  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(FdIsJournalStream(fd));
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(FdIsJournalStream(fd));
  if (old) setenv("JOURNAL_STREAM", saved.c_str(), 1);
  close(fd);
}

TEST_F(LoggerTest, JournalRecordsCarryStructuredFields) {
  const LogRecord record{LogLevel::kWarning,
                         At(0),
                         "slow request",
                         {{"session_id", "42"}, {"9lives", "x"}, {"message", "m"}, {"a-b", "c"}}};
  EXPECT_THAT(
      JournalFields(record),
      ::testing::ElementsAre("MESSAGE=slow request", "PRIORITY=4", "SYSLOG_IDENTIFIER=adaspringd",
                             "SESSION_ID=42", "F_9LIVES=x", "F_MESSAGE=m", "A_B=c"));
  // Sending for real: journald may or may not run here; the call must return either way
  // (without a journal socket it falls back to stderr).
  SetLogSink(MakeJournalSink());
  Log(LogLevel::kDebug, "filtered out");
}

}  // namespace
}  // namespace adaspring::daemon

namespace adaspring::daemon {
namespace {

// libprotobuf's messages (which any client can provoke, e.g. with invalid UTF-8 in a string
// field) are limited to a few per minute; the rest are counted and reported once.
TEST(LogRateLimitTest, AFewPerMinuteThenOneCount) {
  LogRateLimit limit(3);
  uint64_t suppressed = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limit.Allow(100 + i, &suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(limit.Allow(110, &suppressed));
  EXPECT_TRUE(limit.Allow(161, &suppressed));  // a new minute
  EXPECT_EQ(suppressed, 50u);
  EXPECT_TRUE(limit.Allow(162, &suppressed));
  EXPECT_EQ(suppressed, 0u);
}

}  // namespace
}  // namespace adaspring::daemon
