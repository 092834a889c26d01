// `adaspringd --probe` on fake boards and on this machine.
#include "context/probe.h"

#include <iostream>
#include <sstream>
#include <string>

#include "context/faulty_file_system.h"
#include "context/parse.h"
#include "context/real_file_system.h"
#include "daemon/context/fake_tree.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

std::string Probe(const std::string& root, bool json, int* code = nullptr) {
  ProbeOptions options;
  options.context_root = root;
  options.json = json;
  options.interval = std::chrono::milliseconds(0);
  std::ostringstream out;
  const int exit_code = RunProbe(options, out);
  if (code) *code = exit_code;
  return out.str();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The table line of a source: name, state and reason.
std::string Row(const std::string& table, const std::string& source) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(source + " ", 0) == 0) return line;
  return "";
}

TEST(ProbeTest, IntelLaptopTable) {
  testing::FakeTree tree(testing::IntelLaptop());
  int code = -1;
  const std::string table = Probe(tree.root(), false, &code);
  EXPECT_EQ(code, 0);
  for (const char* source :
       {"rapl", "thermal", "cgroup", "meminfo", "psi", "cpu", "cpufreq", "battery"})
    EXPECT_TRUE(Contains(Row(table, source), "available")) << source << "\n" << table;
  EXPECT_TRUE(Contains(Row(table, "hwmon"), "absent"));
  // A fake tree has no kernel pressure files, and the probe says so.
  EXPECT_TRUE(Contains(Row(table, "psi_trigger"), "not a kernel pressure file")) << table;
  EXPECT_TRUE(Contains(table, "x86_pkg_temp 62.0 C"));
  EXPECT_TRUE(Contains(table, "memory_limit_bytes       2.0 GiB"));
  EXPECT_TRUE(Contains(table, "battery_percent          57.00 %"));
}

TEST(ProbeTest, ArmBoardJson) {
  testing::FakeTree tree(testing::ArmBoard());
  const std::string json = Probe(tree.root(), true);
  EXPECT_TRUE(Contains(json, "\"root\": \"" + tree.root() + "\"")) << json;
  EXPECT_TRUE(Contains(json, "\"power_w\": 7.5")) << json;
  EXPECT_TRUE(Contains(json, "\"temperature_c\": 51.54"));
  EXPECT_TRUE(Contains(json, "{\"name\": \"rapl\", \"state\": \"absent\""));
  EXPECT_TRUE(Contains(json, "{\"name\": \"hwmon\", \"state\": \"available\""));
  EXPECT_TRUE(Contains(json, "\"ina3221.VDD_IN\": \"6.000 W\""));
  EXPECT_TRUE(Contains(json, "\"has_battery\": false"));
}

TEST(ProbeTest, ServerVmJsonShowsWhatIsMissing) {
  testing::FakeTree tree(testing::ServerVm());
  const std::string json = Probe(tree.root(), true);
  for (const char* source : {"rapl", "hwmon", "thermal", "cpufreq", "battery"})
    EXPECT_TRUE(Contains(json, std::string("{\"name\": \"") + source + "\", \"state\": \"absent\""))
        << source << "\n"
        << json;
  EXPECT_TRUE(Contains(json, "\"memory.limit_in_bytes\": \"unlimited (9223372036854771712)\""));
  EXPECT_TRUE(Contains(json, "\"memory_limit_bytes\": 8347648000"));
}

TEST(ProbeTest, HungReadIsReportedNotWaitedFor) {
  testing::FakeTree tree(testing::IntelLaptop());
  auto faulty = std::make_shared<FaultyFileSystem>(std::make_shared<RealFileSystem>(tree.root()));
  faulty->Inject("/proc/meminfo", Fault::kStall, 1);
  ProbeOptions options;
  options.interval = std::chrono::milliseconds(10);
  options.read_timeout = std::chrono::milliseconds(50);
  const ContextSnapshot s = ProbeSnapshot(faulty, options);
  const SourceStatus* meminfo = s.FindSource("meminfo");
  ASSERT_NE(meminfo, nullptr);
  EXPECT_EQ(meminfo->state, SourceState::kDegraded);
  EXPECT_NE(meminfo->reason.find("read timed out"), std::string::npos) << meminfo->reason;
  EXPECT_EQ(s.FindSource("thermal")->state, SourceState::kAvailable);
  EXPECT_EQ(s.cause, "probe");
  faulty->ReleaseStalls();
}

// A byte that is not UTF-8 in a directory name must not reach the JSON (nor the proto).
TEST(ProbeTest, JsonStaysUtf8WithNonUtf8Names) {
  testing::FakeTree tree(testing::IntelLaptop());
  tree.Write({{"/sys/class/power_supply/B\xffX/type/", ""}});
  const std::string json = Probe(tree.root(), true);
  EXPECT_TRUE(Contains(json, "/sys/class/power_supply/B\\\\xffX/type: Is a directory")) << json;
  std::istringstream lines(json);
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(ValidUtf8(line), line);
}

TEST(ProbeTest, MissingRootIsAnError) {
  int code = 0;
  const std::string out = Probe("/nonexistent/adaspring-root", false, &code);
  EXPECT_EQ(code, 66);
  EXPECT_TRUE(Contains(out, "is not a readable directory"));
}

// This machine: whatever it has, every source is reported with a state, and nothing crashes.
// The output is printed so that a person can compare it with the machine.
TEST(ProbeTest, RealMachineReportsEverySource) {
  int code = -1;
  const std::string table = Probe("/", false, &code);
  EXPECT_EQ(code, 0);
  std::cout << table;
  for (const char* source : {"rapl", "hwmon", "thermal", "cgroup", "meminfo", "psi", "cpu",
                             "cpufreq", "battery", "psi_trigger"}) {
    const std::string row = Row(table, source);
    EXPECT_TRUE(Contains(row, "available") || Contains(row, "degraded") || Contains(row, "absent"))
        << source << ": \"" << row << "\"";
  }
  EXPECT_TRUE(Contains(Row(table, "meminfo"), "available"));
}

}  // namespace
}  // namespace adaspring::context
