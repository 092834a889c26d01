#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "daemon/ops/temp_dir.h"

namespace adaspring::daemon {
namespace {

using ops_testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// Sets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old, had_ = true;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

TEST(ConfigLoaderTest, SystemDefaultsUseTheFhsLayout) {
  const DaemonConfig c = DefaultConfig(/*user_mode=*/false);
  EXPECT_EQ(c.mode, "system");
  EXPECT_EQ(c.runtime_dir, "/run/adaspring");
  EXPECT_EQ(c.state_dir, "/var/lib/adaspring");
  EXPECT_EQ(c.sockets.app_socket, "/run/adaspring/adaspringd.sock");
  EXPECT_EQ(c.sockets.admin_socket, "/run/adaspring/admin.sock");
  EXPECT_EQ(c.sockets.app_group, "adaspring");
  EXPECT_EQ(c.models.directory, "/usr/share/adaspring/models");
  EXPECT_EQ(DefaultConfigPath(false), "/etc/adaspring/adaspringd.toml");
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(ConfigLoaderTest, UserDefaultsFollowXdgDirectories) {
  {
    ScopedEnv runtime("XDG_RUNTIME_DIR", "/run/user/4242");
    ScopedEnv state("XDG_STATE_HOME", "/home/u/.state");
    const DaemonConfig c = DefaultConfig(/*user_mode=*/true);
    EXPECT_EQ(c.mode, "user");
    EXPECT_EQ(c.runtime_dir, "/run/user/4242/adaspring");
    EXPECT_EQ(c.sockets.app_socket, "/run/user/4242/adaspring/adaspringd.sock");
    EXPECT_EQ(c.state_dir, "/home/u/.state/adaspring");
    EXPECT_EQ(c.sockets.app_group, "");
    EXPECT_TRUE(ValidateConfig(c).ok()) << ValidateConfig(c);
  }
  {
    ScopedEnv runtime("XDG_RUNTIME_DIR", nullptr);
    ScopedEnv state("XDG_STATE_HOME", nullptr);
    ScopedEnv home("HOME", "/home/u");
    const DaemonConfig c = DefaultConfig(/*user_mode=*/true);
    EXPECT_EQ(c.runtime_dir, absl::StrCat("/tmp/adaspring-", getuid()));
    EXPECT_EQ(c.state_dir, "/home/u/.local/state/adaspring");
  }
}

TEST(ConfigLoaderTest, ShippedSystemConfigEqualsTheBuiltInDefaults) {
  absl::StatusOr<DaemonConfig> c = LoadConfig(ADASPRING_SOURCE_DIR "/configs/adaspringd.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  // The file documents every default: if one drifts, this fails.
  EXPECT_EQ(DumpConfig(*c), DumpConfig(DefaultConfig(false)));
  EXPECT_TRUE(*c == DefaultConfig(false));
}

TEST(ConfigLoaderTest, ShippedUserConfigLoads) {
  absl::StatusOr<DaemonConfig> c = LoadConfig(ADASPRING_SOURCE_DIR "/configs/adaspringd-user.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->mode, "user");
  EXPECT_EQ(c->sockets.app_mode, 0600u);
  EXPECT_EQ(c->logging.target, "stderr");
  EXPECT_EQ(c->runtime_dir, DefaultConfig(true).runtime_dir);
}

// Found by config_fuzz: raw control characters from the file (a quoted key) or from toml++'s
// message (the character it saw) are escaped, so each problem stays one line and no terminal
// escape reaches the journal.
TEST(ConfigLoaderTest, MessagesEscapeControlCharacters) {
  absl::StatusOr<DaemonConfig> a =
      ParseConfig("\"a\\nb\" = 1\n[limits]\n\"x\\u001b[31m\" = 2\n", "t.toml");
  ASSERT_FALSE(a.ok());
  const std::string m(a.status().message());
  EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
  EXPECT_NE(m.find("\"a\\nb\": unknown key"), std::string::npos) << m;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 1) << m;  // two problems, two lines
  absl::StatusOr<DaemonConfig> b = ParseConfig("[policy]\ncpu_reserve_fraction = na\n", "t.toml");
  ASSERT_FALSE(b.ok());
  const std::string syntax(b.status().message());
  EXPECT_EQ(syntax.find('\n'), std::string::npos) << syntax;
  EXPECT_NE(syntax.find("t.toml:2:"), std::string::npos) << syntax;
}

TEST(ConfigLoaderTest, UnknownKeyIsNamedWithTheValidKeysOfItsTable) {
  absl::StatusOr<DaemonConfig> c = ParseConfig("[limits]\nmax_sesions = 3\n", "test.toml");
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(c.status()),
              AllOf(HasSubstr("test.toml:2:1: limits.max_sesions: unknown key"),
                    HasSubstr("valid keys in [limits]: max_sessions, max_sessions_per_app"),
                    HasSubstr("max_batch")));
}

TEST(ConfigLoaderTest, UnknownTopLevelTableListsTheTables) {
  absl::StatusOr<DaemonConfig> c = ParseConfig("[metric]\nenabled = true\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), AllOf(HasSubstr("metric: unknown key"), HasSubstr("[metrics]"),
                                         HasSubstr("runtime_dir")));
}

TEST(ConfigLoaderTest, WrongTypeNamesKeyValueAndTypes) {
  absl::StatusOr<DaemonConfig> c =
      ParseConfig("[limits]\nmax_sessions = \"many\"\n[tcp]\nenabled = 1\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()),
              AllOf(HasSubstr("t.toml:2:1: limits.max_sessions = \"many\": expected an integer, "
                              "got a string"),
                    HasSubstr("tcp.enabled = 1: expected true or false, got an integer")));
  c = ParseConfig("limits = 3\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), HasSubstr("limits = 3: expected a table ([limits])"));
}

TEST(ConfigLoaderTest, OutOfRangeNumbersAreRefusedWithTheRange) {
  absl::StatusOr<DaemonConfig> c = ParseConfig(
      "[limits]\nmax_sessions = 0\n[context]\nperiod_ms = -5\n[policy]\n"
      "cpu_reserve_fraction = 1.5\n",
      "t.toml");
  ASSERT_FALSE(c.ok());
  const std::string m = Message(c.status());
  EXPECT_THAT(m, HasSubstr("t.toml:2:1: limits.max_sessions = 0: must be between 1 and 65536"));
  // Stored as uint32, but the message names the key's own range, not the type's.
  EXPECT_THAT(m, HasSubstr("context.period_ms = -5: must be between 10 and 60000"));
  EXPECT_THAT(m, HasSubstr("policy.cpu_reserve_fraction = 1.5: must be between 0 and 0.9"));
}

TEST(ConfigLoaderTest, CpuWakeupLatencyIsOffOrAPmQosValue) {
  EXPECT_EQ(DefaultConfig(false).scheduler.cpu_wakeup_latency_us, -1);
  absl::StatusOr<DaemonConfig> c =
      ParseConfig("[scheduler]\ncpu_wakeup_latency_us = 0\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->scheduler.cpu_wakeup_latency_us, 0);
  c = ParseConfig("[scheduler]\ncpu_wakeup_latency_us = -2\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()),
              HasSubstr("t.toml:2:1: scheduler.cpu_wakeup_latency_us = -2: must be between -1 and "
                        "2000000000"));
  c = ParseConfig("[scheduler]\ncpu_wakeup_latency_us = \"low\"\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), HasSubstr("scheduler.cpu_wakeup_latency_us = \"low\""));
}

TEST(ConfigLoaderTest, CrossFieldLimitsAreChecked) {
  absl::StatusOr<DaemonConfig> c = ParseConfig(
      "[limits]\nmax_sessions = 4\nmax_sessions_per_app = 8\nmax_batch = 4\n"
      "[scheduler]\nbatch_max = 8\n",
      "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()),
              AllOf(HasSubstr("limits.max_sessions_per_app = 8: must not exceed "
                              "limits.max_sessions (4)"),
                    HasSubstr("scheduler.batch_max = 8: must not exceed limits.max_batch (4)")));
}

TEST(ConfigLoaderTest, SocketModesAreOctalAndSafe) {
  absl::StatusOr<DaemonConfig> ok =
      ParseConfig("[sockets]\napp_mode = 0o640\nadmin_mode = \"600\"\n", "t");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->sockets.app_mode, 0640u);
  EXPECT_EQ(ok->sockets.admin_mode, 0600u);

  EXPECT_THAT(Message(ParseConfig("[sockets]\napp_mode = \"0999\"\n", "t").status()),
              HasSubstr("sockets.app_mode = \"0999\": not a permission mode"));
  // A plain integer is decimal: 660 would be 0o1224, and 432 silently 0o660. Both refused, the
  // value shown as written.
  EXPECT_THAT(Message(ParseConfig("[sockets]\napp_mode = 660\n", "t").status()),
              HasSubstr("sockets.app_mode = 660: a decimal integer is not a permission mode"));
  EXPECT_FALSE(ParseConfig("[sockets]\napp_mode = 432\n", "t").ok());
  EXPECT_THAT(Message(ParseConfig("[sockets]\nadmin_mode = \"0666\"\n", "t").status()),
              HasSubstr("admin socket must not be accessible to other users"));
  EXPECT_THAT(Message(ParseConfig("[sockets]\napp_mode = \"0060\"\n", "t").status()),
              HasSubstr("owner (the daemon) needs read and write"));
}

TEST(ConfigLoaderTest, TlsNeedsCertificateAndKey) {
  absl::StatusOr<DaemonConfig> c = ParseConfig("[tcp]\nenabled = true\n", "t");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()),
              HasSubstr("tcp.enabled = true: tcp.tls_cert_file and tcp.tls_key_file must both "
                        "be set"));
  EXPECT_TRUE(ParseConfig("[tcp]\nenabled = true\ntls_cert_file = \"/c.pem\"\n"
                          "tls_key_file = \"/k.pem\"\n",
                          "t")
                  .ok());
}

TEST(ConfigLoaderTest, EnumsAndAddressesAreChecked) {
  const std::string m =
      Message(ParseConfig("mode = \"embedded\"\n[scheduler]\nmode = \"fast\"\n[metrics]\nlisten = "
                          "\"example.com:80\"\n[logging]\nlevel = \"verbose\"\n[context]\n"
                          "disabled_sources = [\"rapl\", \"gpu\"]\n",
                          "t")
                  .status());
  EXPECT_THAT(m, HasSubstr("mode = \"embedded\": must be one of system, user"));
  EXPECT_THAT(m, HasSubstr("scheduler.mode = \"fast\": must be one of latency, throughput"));
  EXPECT_THAT(m, HasSubstr("metrics.listen = \"example.com:80\""));
  EXPECT_THAT(m, HasSubstr("logging.level = \"verbose\": must be one of debug"));
  EXPECT_THAT(m, HasSubstr("context.disabled_sources = \"gpu\": must be one of rapl"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("= \"rapl\"")));
}

TEST(ConfigLoaderTest, SyntaxErrorsCarryThePosition) {
  absl::StatusOr<DaemonConfig> c = ParseConfig("[limits]\nmax_sessions = = 3\n", "bad.toml");
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(c.status()), HasSubstr("bad.toml:2:"));
  EXPECT_THAT(Message(c.status()), HasSubstr("TOML syntax error"));
}

TEST(ConfigLoaderTest, ModeSelectsDefaultsAndSocketsFollowRuntimeDir) {
  absl::StatusOr<DaemonConfig> c = ParseConfig("mode = \"system\"\n", "t");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(*c == DefaultConfig(false));

  c = ParseConfig("runtime_dir = \"/srv/ada\"\n[sockets]\nadmin_socket = \"/srv/adm.sock\"\n", "t");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sockets.app_socket, "/srv/ada/adaspringd.sock");
  EXPECT_EQ(c->sockets.admin_socket, "/srv/adm.sock");
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  absl::StatusOr<DaemonConfig> c = LoadConfig("/nonexistent/adaspringd.toml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(c.status()), HasSubstr("/nonexistent/adaspringd.toml"));
}

TEST(ConfigLoaderTest, CheckPathsNamesMissingDirectoriesAndFiles) {
  TempDir dir;
  DaemonConfig c = DefaultConfig(true);
  ApplyOverrides({"", dir.Sub("run"), dir.path(), dir.path()}, &c);
  EXPECT_TRUE(CheckPaths(c).ok()) << CheckPaths(c);

  c.context.root = dir.Sub("no-such-root");
  c.models.directory = dir.Sub("no-models");
  c.context.replay_trace = dir.Sub("trace.csv");
  c.runtime_dir = dir.Sub("a/b/c");
  const absl::Status s = CheckPaths(c);
  ASSERT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      Message(s),
      AllOf(HasSubstr("context.root = \"" + dir.Sub("no-such-root") + "\": no such directory"),
            HasSubstr("models.directory = \"" + dir.Sub("no-models") + "\""),
            HasSubstr("context.replay_trace = \"" + dir.Sub("trace.csv") + "\": no such file"),
            HasSubstr("runtime_dir = \"" + dir.Sub("a/b/c") + "\": neither")));
}

TEST(ConfigLoaderTest, OnlyARegularFileIsReadAsTheConfiguration) {
  TempDir dir;
  // A directory opens like a file for std::ifstream and used to load as an empty file (every
  // key back to its default, also on SIGHUP).
  absl::StatusOr<DaemonConfig> c = LoadConfig(dir.path());
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), AllOf(HasSubstr(dir.path()), HasSubstr("is a directory")));
  // A FIFO would block the reader (start-up, or a reload on the event loop) until someone
  // writes to it.
  const std::string fifo = dir.Sub("fifo.toml");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  c = LoadConfig(fifo);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), AllOf(HasSubstr(fifo), HasSubstr("not a regular file")));
  // Far larger than any configuration: refused before parsing.
  c = LoadConfig(dir.WriteFile("huge.toml", std::string(2 << 20, '#')));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()), HasSubstr("at most 1048576 are read"));
  std::ostringstream out, err;
  EXPECT_EQ(CheckConfigCommand(dir.path(), out, err), kExitConfig);
  EXPECT_THAT(err.str(), HasSubstr("is a directory"));
}

TEST(ConfigLoaderTest, ProblemsAreReportedInFileOrderWithLongValuesShortened) {
  const std::string long_value(100000, 'x');
  absl::StatusOr<DaemonConfig> c = ParseConfig("[limits]\nmax_sessions = 0\n[logging]\nlevel = \"" +
                                                   long_value + "\"\n[context]\nperiod_ms = 1\n",
                                               "t.toml");
  ASSERT_FALSE(c.ok());
  const std::string m = Message(c.status());
  const size_t sessions = m.find("t.toml:2:1:"), level = m.find("t.toml:4:1:"),
               period = m.find("t.toml:6:1:");
  ASSERT_NE(sessions, std::string::npos) << m;
  ASSERT_NE(level, std::string::npos) << m;
  ASSERT_NE(period, std::string::npos) << m;
  EXPECT_LT(sessions, level);
  EXPECT_LT(level, period);
  EXPECT_THAT(m, HasSubstr("... (100002 bytes)"));
  EXPECT_LT(m.size(), 1000u);
}

TEST(ConfigLoaderTest, CgroupAndPreloadPathsAreChecked) {
  for (const char* bad : {"apps.slice", "/apps.slice/../../etc"}) {
    absl::StatusOr<DaemonConfig> c =
        ParseConfig(absl::StrCat("[context]\ncgroup = \"", bad, "\"\n"), "t.toml");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_THAT(Message(c.status()), HasSubstr("context.cgroup")) << bad;
  }
  EXPECT_TRUE(ParseConfig("[context]\ncgroup = \"/apps.slice\"\n", "t.toml").ok());
  absl::StatusOr<DaemonConfig> c =
      ParseConfig("[models]\npreload = [\"relative/x.asb\"]\n", "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(Message(c.status()),
              HasSubstr("models.preload = \"relative/x.asb\": entries must be absolute paths"));
}

TEST(ConfigLoaderTest, CheckPathsReadsTheReplayTrace) {
  TempDir dir;
  DaemonConfig c = DefaultConfig(true);
  ApplyOverrides({"", dir.path(), "", dir.path()}, &c);
  c.context.replay_trace = dir.WriteFile("trace.csv", "t_s,cpu_busy\n0,abc\n");
  const absl::Status s = CheckPaths(c);
  ASSERT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(s),
              AllOf(HasSubstr("context.replay_trace"), HasSubstr("trace.csv:2"), HasSubstr("abc")));
  c.context.replay_trace = dir.WriteFile("good.csv", "t_s,cpu_busy\n0,0.5\n");
  EXPECT_TRUE(CheckPaths(c).ok()) << CheckPaths(c);
}

TEST(ConfigLoaderTest, CheckPathsRequiresTlsFilesAndGroups) {
  TempDir dir;
  DaemonConfig c = DefaultConfig(true);
  ApplyOverrides({"", dir.path(), "", dir.path()}, &c);
  c.tcp.enabled = true;
  c.tcp.tls_cert_file = dir.WriteFile("cert.pem", "x");
  c.tcp.tls_key_file = dir.Sub("key.pem");
  c.sockets.app_group = "no-such-group-adaspring";
  const std::string m = Message(CheckPaths(c));
  EXPECT_THAT(m, HasSubstr("tcp.tls_key_file = \"" + dir.Sub("key.pem") + "\": no such file"));
  EXPECT_THAT(m, ::testing::Not(HasSubstr("tls_cert_file")));
  EXPECT_THAT(m, HasSubstr("sockets.app_group = \"no-such-group-adaspring\": no such group"));
}

TEST(ConfigLoaderTest, RuntimeDirOverrideMovesSocketsAndState) {
  DaemonConfig c = DefaultConfig(false);
  ApplyOverrides({"", "/tmp/x/", "/m", "/fake"}, &c);
  EXPECT_EQ(c.runtime_dir, "/tmp/x");
  EXPECT_EQ(c.sockets.app_socket, "/tmp/x/adaspringd.sock");
  EXPECT_EQ(c.sockets.admin_socket, "/tmp/x/admin.sock");
  EXPECT_EQ(c.state_dir, "/tmp/x/state");
  EXPECT_EQ(c.models.directory, "/m");
  EXPECT_EQ(c.context.root, "/fake");
}

TEST(ConfigLoaderTest, ResolveConfigAppliesFileThenOverrides) {
  TempDir dir;
  const std::string file = dir.WriteFile(
      "a.toml",
      absl::StrCat("[limits]\nmax_sessions = 70\n[context]\nroot = \"", dir.path(), "\"\n"));
  absl::StatusOr<DaemonConfig> c = ResolveConfig({file, dir.Sub("rt"), "", ""}, /*user_mode=*/true);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->limits.max_sessions, 70u);
  EXPECT_EQ(c->sockets.app_socket, dir.Sub("rt") + "/adaspringd.sock");
  EXPECT_EQ(c->context.root, dir.path());

  // An override that points at nothing is caught by the path checks.
  c = ResolveConfig({file, dir.Sub("rt"), dir.Sub("missing-models"), ""}, true);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(c.status()), HasSubstr("models.directory"));
}

TEST(ConfigLoaderTest, CheckConfigCommandExitsWithExConfig) {
  TempDir dir;
  const std::string good = dir.WriteFile(
      "good.toml", absl::StrCat("runtime_dir = \"", dir.path(), "\"\n[context]\nroot = \"/\"\n"));
  const std::string bad = dir.WriteFile("bad.toml", "[limits]\nmax_queue = 0\nbogus = 1\n");
  std::ostringstream out, err;
  EXPECT_EQ(CheckConfigCommand(good, out, err), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr(good + ": OK"));
  EXPECT_THAT(out.str(), HasSubstr("[limits]"));

  std::ostringstream out2, err2;
  EXPECT_EQ(CheckConfigCommand(bad, out2, err2), 78);
  EXPECT_EQ(kExitConfig, 78);
  EXPECT_THAT(err2.str(), AllOf(HasSubstr("limits.bogus: unknown key"), HasSubstr("EX_CONFIG")));
  EXPECT_TRUE(out2.str().empty());

  std::ostringstream out3, err3;
  EXPECT_EQ(CheckConfigCommand(dir.Sub("none.toml"), out3, err3), 78);
  EXPECT_THAT(err3.str(), HasSubstr("none.toml"));
}

TEST(ConfigLoaderTest, ReloadReportsChangedAndRestartOnlyKeys) {
  const DaemonConfig running = DefaultConfig(false);
  DaemonConfig next = running;
  EXPECT_TRUE(ChangedKeys(running, next).empty());
  next.limits.max_sessions = 10;
  next.logging.level = "debug";
  next.sockets.app_mode = 0666;
  next.metrics.enabled = true;
  EXPECT_THAT(ChangedKeys(running, next),
              ::testing::ElementsAre("sockets.app_mode", "limits.max_sessions", "metrics.enabled",
                                     "logging.level"));
  EXPECT_THAT(RestartRequiredKeys(running, next),
              ::testing::ElementsAre("sockets.app_mode", "metrics.enabled"));
}

// ---- round trip: LoadConfig(DumpConfig(x)) == x over many random valid configurations ----

class RandomConfig {
 public:
  explicit RandomConfig(uint32_t seed) : rng_(seed) {}

  std::string Text() {
    // ASCII with the characters TOML must escape, plus UTF-8 (é, 中).
    static const std::vector<std::string> kPieces = {
        "a",  "Z",    "0",    "_",        "-",
        ".",  " ",    "\"",   "\\",       "\t",
        "\n", "\x01", "\x7f", "\xc3\xa9", "\xe4\xb8\xad",
        "=",  "#",    "[",    "'"};
    std::string s;
    const int n = Int(0, 12);
    for (int i = 0; i < n; ++i) s += kPieces[Int(0, kPieces.size() - 1)];
    return s;
  }
  std::string Path() { return absl::StrCat("/", Text()); }
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  double Real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  bool Bool() { return Int(0, 1) == 1; }

  DaemonConfig Make() {
    DaemonConfig c = DefaultConfig(Bool());
    c.runtime_dir = Path();
    c.state_dir = Path();
    c.sockets.app_socket = absl::StrCat("/a", Text());
    c.sockets.admin_socket = absl::StrCat("/b", Text());
    c.sockets.app_mode = static_cast<uint32_t>(0600 | Int(0, 077));
    c.sockets.admin_mode = static_cast<uint32_t>(0600 | (Int(0, 7) << 3));
    c.sockets.app_group = Text();
    c.sockets.admin_group = Text();
    c.tcp.enabled = Bool();
    c.tcp.listen = Bool() ? absl::StrCat("127.0.0.", Int(1, 254), ":", Int(0, 65535))
                          : absl::StrCat("[::1]:", Int(0, 65535));
    c.tcp.tls_cert_file = Path();
    c.tcp.tls_key_file = Path();
    c.tcp.tls_client_ca_file = Bool() ? "" : Path();
    c.models.directory = Bool() ? "" : Path();
    c.models.preload.clear();
    for (int i = Int(0, 3); i > 0; --i) c.models.preload.push_back(Path());
    c.models.cache_bytes = Int(0, 1ll << 40);
    c.models.warm_up = Bool();
    c.models.winograd = Bool();
    c.context.root = Path();
    c.context.period_ms = static_cast<uint32_t>(Int(10, 60000));
    c.context.cgroup = Bool() ? "" : Path();
    c.context.replay_trace = Bool() ? "" : Path();
    c.context.psi_triggers = Bool();
    c.context.disabled_sources.clear();
    for (int i = Int(0, 3); i > 0; --i) {
      c.context.disabled_sources.push_back(Bool() ? "rapl" : "battery");
    }
    c.policy.memory_reserve_bytes = Int(0, 1ll << 40);
    c.policy.cpu_reserve_fraction = Real(0, 0.9);
    c.policy.battery_low_percent = Real(0, 100);
    c.policy.thermal_headroom_c = static_cast<double>(Int(0, 100));  // whole numbers too
    c.policy.min_accuracy_gain = Real(0, 0.5);
    c.policy.min_cost_saving = Bool() ? 1e-9 : Real(0, 0.9);
    c.policy.cooldown_ms = static_cast<uint32_t>(Int(0, 600000));
    c.policy.latency_p95_slack = Real(0.5, 10);
    c.limits.max_sessions = static_cast<uint32_t>(Int(1, 65536));
    c.limits.max_sessions_per_app = static_cast<uint32_t>(Int(1, c.limits.max_sessions));
    c.limits.max_inflight_per_session = static_cast<uint32_t>(Int(1, 65536));
    c.limits.max_queue = static_cast<uint32_t>(Int(1, 1 << 20));
    c.limits.max_message_bytes = static_cast<uint32_t>(Int(4096, 1 << 30));
    c.limits.max_batch = static_cast<uint32_t>(Int(1, 1024));
    c.limits.session_idle_timeout_s = static_cast<uint32_t>(Int(0, 30 * 86400));
    c.scheduler.mode = Bool() ? "latency" : "throughput";
    c.scheduler.workers = static_cast<uint32_t>(Int(0, 1024));
    c.scheduler.batch_max = static_cast<uint32_t>(Int(1, c.limits.max_batch));
    c.scheduler.batch_max_delay_us = static_cast<uint32_t>(Int(0, 1000000));
    c.metrics.enabled = Bool();
    c.metrics.listen = absl::StrCat("127.0.0.1:", Int(0, 65535));
    c.logging.level = std::vector<std::string>{"debug", "info", "warning", "error"}[Int(0, 3)];
    c.logging.target = std::vector<std::string>{"auto", "journal", "stderr"}[Int(0, 2)];
    return c;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(ConfigLoaderTest, DumpThenLoadRoundTripsRandomConfigs) {
  RandomConfig random(20261128);
  for (int i = 0; i < 300; ++i) {
    const DaemonConfig original = random.Make();
    ASSERT_TRUE(ValidateConfig(original).ok()) << i << ": " << ValidateConfig(original);
    const std::string text = DumpConfig(original);
    absl::StatusOr<DaemonConfig> loaded = ParseConfig(text, "dump");
    ASSERT_TRUE(loaded.ok()) << i << ": " << loaded.status() << "\n" << text;
    ASSERT_TRUE(*loaded == original) << i << ":\n"
                                     << text << "\nreloaded:\n"
                                     << DumpConfig(*loaded);
  }
}

TEST(ConfigLoaderTest, DumpOfDefaultsLoadsThroughAFile) {
  // Whole floats are written as people write them, not as "2e+01".
  EXPECT_THAT(DumpConfig(DefaultConfig(false)), HasSubstr("battery_low_percent = 20.0\n"));
  TempDir dir;
  for (bool user : {false, true}) {
    const DaemonConfig c = DefaultConfig(user);
    absl::StatusOr<DaemonConfig> loaded = LoadConfig(dir.WriteFile("d.toml", DumpConfig(c)));
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_TRUE(*loaded == c);
  }
}

}  // namespace
}  // namespace adaspring::daemon
