#include "state/state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/ops/temp_dir.h"
#include "log/logger.h"

namespace adaspring::daemon {
namespace {

using ops_testing::TempDir;
using ::testing::HasSubstr;

std::vector<std::string> RawListing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(StateStoreTest, WritesReadsAndReplacesFiles) {
  TempDir dir;
  StateStore store(dir.Sub("state/nested"));
  ASSERT_TRUE(store.Init().ok());
  EXPECT_EQ(store.Read("models.list").status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(store.Write("profile-cpu.json", "{\"a\":1}").ok());
  ASSERT_TRUE(store.Write("profile-cpu.json", "{\"a\":2}").ok());
  ASSERT_TRUE(store.Write("empty", "").ok());
  EXPECT_EQ(*store.Read("profile-cpu.json"), "{\"a\":2}");
  EXPECT_EQ(*store.Read("empty"), "");
  EXPECT_THAT(*store.List(), ::testing::ElementsAre("empty", "profile-cpu.json"));
  // No temp files stay behind after successful writes.
  EXPECT_THAT(RawListing(store.dir()), ::testing::ElementsAre("empty", "profile-cpu.json"));
  EXPECT_EQ(
      std::filesystem::status(store.PathOf("empty")).permissions() & std::filesystem::perms::all,
      std::filesystem::perms(0640));

  ASSERT_TRUE(store.Remove("empty").ok());
  ASSERT_TRUE(store.Remove("empty").ok());  // already gone is fine
  EXPECT_THAT(*store.List(), ::testing::ElementsAre("profile-cpu.json"));
}

TEST(StateStoreTest, RefusesNamesOutsideTheDirectory) {
  TempDir dir;
  StateStore store(dir.path());
  ASSERT_TRUE(store.Init().ok());
  for (const std::string& name :
       std::vector<std::string>{"", "../x", "a/b", ".hidden", "sp ace", std::string(129, 'a')}) {
    const absl::Status s = store.Write(name, "x");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_TRUE(StateStore::IsValidName("profile-cpu_0.json"));
}

TEST(StateStoreTest, InitRemovesTempFilesACrashLeftBehind) {
  TempDir dir;
  dir.WriteFile(".models.list.tmp.AbC123", "half written");
  dir.WriteFile("models.list", "# adaspringd loaded models v1\n");
  StateStore store(dir.path());
  ASSERT_TRUE(store.Init().ok());
  EXPECT_THAT(RawListing(dir.path()), ::testing::ElementsAre("models.list"));
}

TEST(StateStoreTest, InitFailsClearlyWhenThePathIsAFile) {
  TempDir dir;
  const std::string file = dir.WriteFile("file", "x");
  const absl::Status s = StateStore(file).Init();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr(file));
}

// A disk that fills up mid-write: RLIMIT_FSIZE makes write() fail with EFBIG past the limit,
// in a forked child so the limit does not touch the test process.
TEST(StateStoreTest, FailedWriteKeepsTheOldFileAndSaysWhy) {
  TempDir dir;
  StateStore store(dir.path());
  ASSERT_TRUE(store.Init().ok());
  ASSERT_TRUE(store.Write("models.list", "old content").ok());

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of being killed
    const struct rlimit limit = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &limit);
    const absl::Status s = store.Write("models.list", std::string(64 * 1024, 'x'));
    const std::string message = s.ok() ? "OK" : std::string(s.message());
    (void)!write(pipe_fds[1], message.data(), message.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string message;
  char buffer[1024];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) message.append(buffer, n);
  close(pipe_fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));

  EXPECT_THAT(message, HasSubstr("saving state file " + store.PathOf("models.list")));
  EXPECT_THAT(message, HasSubstr("previous version is kept"));
  EXPECT_THAT(message, HasSubstr("File too large"));
  EXPECT_EQ(*store.Read("models.list"), "old content");
  EXPECT_THAT(RawListing(dir.path()), ::testing::ElementsAre("models.list"));
}

class CaptureSink final : public LogSink {
 public:
  explicit CaptureSink(std::vector<std::string>* lines) : lines_(lines) {}
  void Write(const LogRecord& record) override { lines_->push_back(FormatLogLine(record)); }

 private:
  std::vector<std::string>* lines_;
};

// A state file that was not saved is logged as a warning too, whatever the caller does with
// the Status (a lost change must not go unnoticed).
TEST(StateStoreTest, FailedWriteIsLogged) {
  TempDir dir;
  StateStore store(dir.Sub("state"));
  ASSERT_TRUE(store.Init().ok());
  std::filesystem::remove_all(store.dir());  // mkostemp fails with ENOENT
  std::vector<std::string> lines;
  SetLogSink(std::make_unique<CaptureSink>(&lines));
  const absl::Status s = store.Write("models.list", "content");
  SetLogSink(nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("saving state file " + store.PathOf("models.list")));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("warning adaspringd: state file not saved"));
  EXPECT_THAT(lines[0], HasSubstr("file=" + store.PathOf("models.list")));
  EXPECT_THAT(lines[0], HasSubstr("No such file or directory"));

  // A successful write logs nothing.
  ASSERT_TRUE(store.Init().ok());
  SetLogSink(std::make_unique<CaptureSink>(&lines));
  EXPECT_TRUE(store.Write("models.list", "content").ok());
  SetLogSink(nullptr);
  EXPECT_EQ(lines.size(), 1u);
}

TEST(StateStoreTest, ConcurrentWritersNeverMixContents) {
  TempDir dir;
  StateStore store(dir.path());
  ASSERT_TRUE(store.Init().ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      const std::string content(10000, static_cast<char>('a' + t));
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(store.Write("shared", content).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  const std::string result = *store.Read("shared");
  ASSERT_EQ(result.size(), 10000u);
  EXPECT_EQ(result, std::string(10000, result[0]));
  EXPECT_THAT(RawListing(dir.path()), ::testing::ElementsAre("shared"));
}

TEST(StateStoreTest, ModelListRoundTripsAndRejectsGarbage) {
  const std::vector<LoadedModelRecord> models = {{"smallres28", "/usr/share/m/smallres28.asb"},
                                                 {"mbv2", "/home/u/my models/mbv2 (1).asb"}};
  absl::StatusOr<std::string> text = EncodeModelList(models);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*DecodeModelList(*text), models);
  EXPECT_TRUE(DecodeModelList("")->empty());

  EXPECT_FALSE(EncodeModelList({{"a\tb", "/x"}}).ok());
  EXPECT_FALSE(EncodeModelList({{"a", ""}}).ok());
  // The message shows the values escaped: a raw newline would break it (and the log line).
  absl::StatusOr<std::string> nl = EncodeModelList({{"ok", "/tmp/new\nline.asb"}});
  ASSERT_FALSE(nl.ok());
  EXPECT_EQ(nl.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(nl.status().message()), HasSubstr("\"/tmp/new\\nline.asb\""));
  EXPECT_EQ(std::string(nl.status().message()).find('\n'), std::string::npos);
  EXPECT_FALSE(EncodeModelList({{"a", std::string("/x\0y", 4)}}).ok());
  absl::StatusOr<std::vector<LoadedModelRecord>> bad =
      DecodeModelList("# adaspringd loaded models v1\nno-tab-here\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("models.list:2"));
  EXPECT_FALSE(DecodeModelList("# something else\n").ok());
  EXPECT_FALSE(DecodeModelList("a\t/b\n").ok());  // no header
  EXPECT_EQ(ProfileFileName("cpu0"), "profile-cpu0.json");
}

TEST(StateStoreTest, ModelListSurvivesARestart) {
  TempDir dir;
  const std::vector<LoadedModelRecord> models = {{"m", "/models/m.asb"}};
  {
    StateStore store(dir.path());
    ASSERT_TRUE(store.Init().ok());
    ASSERT_TRUE(store.Write(kModelListFile, *EncodeModelList(models)).ok());
  }
  StateStore restarted(dir.path());
  ASSERT_TRUE(restarted.Init().ok());
  absl::StatusOr<std::string> text = restarted.Read(kModelListFile);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*DecodeModelList(*text), models);
}

}  // namespace
}  // namespace adaspring::daemon
