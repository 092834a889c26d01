// File-system side of bundle I/O: open errors and their codes, and the atomicity of writes.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "adaspring/engine/bundle.h"
#include "engine/bundle/bundle_test_util.h"

namespace adaspring::engine {
namespace {

using testing::FullModel;
using testing::MakeTempDir;
using testing::ReadFileOrDie;
using testing::TinyArch;
using testing::WriteFileOrDie;

void ExpectError(const absl::Status& s, absl::StatusCode code, const std::string& path,
                 const std::string& what) {
  EXPECT_EQ(s.code(), code) << s;
  const std::string msg(s.message());
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find(what), std::string::npos) << msg;
}

// Child-process bodies for death tests; they return the child's exit code (0 = as expected).
int ReadAsNobody(const std::string& path) {
  if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) return 3;
  auto r = ReadBundle(path);
  const bool ok = r.status().code() == absl::StatusCode::kPermissionDenied &&
                  r.status().message().find(path + ": cannot open") == 0;
  return ok ? 0 : 1;
}

int WriteWithFileSizeLimit(const Model& model, const std::string& path, rlim_t limit_bytes) {
  std::signal(SIGXFSZ, SIG_IGN);  // so that write() fails with EFBIG instead of killing us
  struct rlimit lim = {limit_bytes, limit_bytes};
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 3;
  const absl::Status s = WriteBundle(model, path);
  const bool ok = s.code() == absl::StatusCode::kResourceExhausted &&
                  s.message().find(path + ": cannot write") == 0;
  return ok ? 0 : 1;
}

TEST(BundleFileTest, MissingFileIsNotFound) {
  const std::string path = MakeTempDir("missing") + "/nope.asb";
  ExpectError(ReadBundle(path).status(), absl::StatusCode::kNotFound, path, "cannot open");
}

TEST(BundleFileTest, DirectoryIsRejected) {
  const std::string dir = MakeTempDir("dir");
  ExpectError(ReadBundle(dir).status(), absl::StatusCode::kInvalidArgument, dir,
              "is a directory, not a bundle file");
}

TEST(BundleFileTest, FifoIsRejectedWithoutBlocking) {
  const std::string path = MakeTempDir("fifo") + "/pipe.asb";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  ExpectError(ReadBundle(path).status(), absl::StatusCode::kInvalidArgument, path,
              "is not a regular file");
}

TEST(BundleFileTest, EmptyFile) {
  const std::string path = MakeTempDir("empty") + "/e.asb";
  WriteFileOrDie(path, "");
  ExpectError(ReadBundle(path).status(), absl::StatusCode::kInvalidArgument, path, "file is empty");
}

// procfs files report size 0 whatever they hold: not "empty", and not a bundle.
TEST(BundleFileTest, ProcfsFileIsNotCalledEmpty) {
  const std::string path = "/proc/self/status";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size != 0) GTEST_SKIP() << "no procfs here";
  const absl::Status s = ReadBundle(path).status();
  ExpectError(s, absl::StatusCode::kInvalidArgument, path,
              "reports size 0 (not a regular file with contents: it is on procfs");
  EXPECT_NE(s.message().find("not a model bundle"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("empty"), std::string::npos) << s;
}

// open() stops at a NUL: the file opened would not be the file named. Refused, even when the
// part before the NUL names a valid bundle.
TEST(BundleFileTest, PathWithNulIsRefused) {
  const std::string good = MakeTempDir("nul") + "/m.asb";
  ASSERT_TRUE(WriteBundle(*FullModel(TinyArch(), 1), good).ok());
  ASSERT_TRUE(ReadBundle(good).ok());
  const std::string path = good + std::string("\0.junk", 6);
  const absl::Status s = ReadBundle(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(
      s.message().find("path contains a NUL character (byte " + std::to_string(good.size()) + ")"),
      std::string::npos)
      << s;
  EXPECT_EQ(s.message().find(good + "\\000.junk: "), 0u) << s;
}

TEST(BundleFileTest, DamagedFileNamesThePath) {
  const std::string path = MakeTempDir("damaged") + "/d.asb";
  auto bytes = SerializeBundle(*FullModel(TinyArch(), 1));
  ASSERT_TRUE(bytes.ok());
  WriteFileOrDie(path, bytes->substr(0, bytes->size() - 1));
  ExpectError(ReadBundle(path).status(), absl::StatusCode::kInvalidArgument, path,
              "extends past the end of the file");
}

TEST(BundleFileTest, UnreadableFileIsPermissionDenied) {
  const std::string dir = MakeTempDir("perm");
  ::chmod(dir.c_str(), 0755);
  const std::string path = dir + "/secret.asb";
  ASSERT_TRUE(WriteBundle(*FullModel(TinyArch(), 1), path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  // root ignores file modes: check in a child that gives up root first.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(::_exit(ReadAsNobody(path)), ::testing::ExitedWithCode(0), "");
}

TEST(BundleFileTest, WriteIntoMissingDirectoryFailsCleanly) {
  const std::string path = MakeTempDir("nodir") + "/no/such/dir/m.asb";
  ExpectError(WriteBundle(*FullModel(TinyArch(), 1), path), absl::StatusCode::kNotFound, path,
              "cannot create a temporary file");
}

TEST(BundleFileTest, WriteReplacesAtomicallyAndLeavesNoTemporaries) {
  const std::string dir = MakeTempDir("atomic");
  const std::string path = dir + "/m.asb";
  ASSERT_TRUE(WriteBundle(*FullModel(TinyArch(), 1), path).ok());
  ASSERT_TRUE(WriteBundle(*FullModel(TinyArch(), 2), path).ok());
  auto read = ReadBundle(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ((*read)->meta().version, "test-2");
  EXPECT_EQ((std::filesystem::status(path).permissions() & std::filesystem::perms::all),
            std::filesystem::perms(0644));
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "m.asb");
  }
  EXPECT_EQ(files, 1);
}

TEST(BundleFileTest, FailedWriteKeepsTheOldFile) {
  const std::string dir = MakeTempDir("fsize");
  const std::string path = dir + "/m.asb";
  ASSERT_TRUE(WriteBundle(*FullModel(TinyArch(), 1), path).ok());
  const std::string before = ReadFileOrDie(path);
  auto big_arch = BuiltinArch("smallres28");
  ASSERT_TRUE(big_arch.ok());
  const auto big = FullModel(*big_arch, 2);
  // A file-size limit makes write() fail with EFBIG part-way, as a full disk would.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(::_exit(WriteWithFileSizeLimit(*big, path, 64 << 10)), ::testing::ExitedWithCode(0),
              "");
  EXPECT_EQ(ReadFileOrDie(path), before);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(e.path().filename(), "m.asb");
  }
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace adaspring::engine
