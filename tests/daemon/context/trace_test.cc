#include "context/trace.h"

#include <chrono>
#include <string>

#include "context/replay_source.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

TEST(TraceTest, ParsesColumnsCommentsAndHoldsValues) {
  absl::StatusOr<Trace> trace = ParseTrace(
      "# a comment\n"
      "\n"
      "t_s, memory_available_mb, on_ac, battery_pct, phase\n"
      "0, 1000, 1, 90, idle\n"
      "  # indented comment\n"
      "1.5, 500, , , memory_squeeze\n"
      "2, , false, 20,\n",
      "t.csv");
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->rows.size(), 3u);
  EXPECT_EQ(trace->rows[1].t_s, 1.5);
  EXPECT_EQ(trace->rows[1].line, 6);
  EXPECT_EQ(*trace->rows[1].values.memory_available_bytes, 500 * kMiB);
  EXPECT_TRUE(*trace->rows[1].values.on_ac);              // held from row 1
  EXPECT_EQ(*trace->rows[1].values.battery_percent, 90);  // held
  EXPECT_EQ(trace->rows[1].phase, "memory_squeeze");
  EXPECT_EQ(*trace->rows[2].values.memory_available_bytes, 500 * kMiB);
  EXPECT_FALSE(*trace->rows[2].values.on_ac);
  EXPECT_EQ(trace->rows[2].phase, "memory_squeeze");
  EXPECT_FALSE(trace->rows[2].values.temperature_c.has_value());  // not a column
  EXPECT_EQ(trace->duration_s(), 2);
}

struct BadTrace {
  const char* text;
  const char* message;
};

class TraceErrorTest : public ::testing::TestWithParam<BadTrace> {};

TEST_P(TraceErrorTest, NamesLineAndColumn) {
  absl::StatusOr<Trace> trace = ParseTrace(GetParam().text, "bad.csv");
  ASSERT_FALSE(trace.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(trace.status()));
  EXPECT_NE(std::string(trace.status().message()).find(GetParam().message), std::string::npos)
      << trace.status();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TraceErrorTest,
    ::testing::Values(
        BadTrace{"t_s,cpu_busy\n0,0.5\n1,1.5\n",
                 "bad.csv:3:2: bad value \"1.5\" (expected a "
                 "number in 0..1) in column cpu_busy"},
        BadTrace{"t_s,bogus\n", "bad.csv:1:2: unknown column \"bogus\""},
        BadTrace{"cpu_busy\n0.5\n", "bad.csv:1:1: the header has no t_s column"},
        BadTrace{"t_s,cpu_busy,cpu_busy\n", "bad.csv:1:3: duplicate column \"cpu_busy\""},
        BadTrace{"# c\nt_s,temp_c\n0,40\n0,41,3\n", "bad.csv:4:3: expected 2 cells, found 3"},
        BadTrace{"t_s,temp_c\n1,40\n0.5,41\n", "bad.csv:3:1: t_s 0.5 goes back in time"},
        BadTrace{"t_s,temp_c\nabc,40\n", "bad.csv:2:1: bad value \"abc\" for t_s"},
        BadTrace{"t_s,cpu_busy\n0,0.1\n1e10,0.5\n",
                 "bad.csv:3:1: bad value \"1e10\" for t_s (expected seconds in 0..1e7)"},
        BadTrace{"t_s,cpu_busy\n0,0.1\n10000000.5,0.5\n", "bad.csv:3:1: bad value"},
        BadTrace{"t_s,on_ac\n0,maybe\n", "bad.csv:2:2: bad value \"maybe\" (expected 0/1"},
        BadTrace{"t_s,temp_c\n", "no data rows"}, BadTrace{"# only comments\n", "no header"}));

TEST(TraceTest, LargestOffsetIsAccepted) {
  absl::StatusOr<Trace> trace = ParseTrace("t_s,cpu_busy\n0,0.1\n1e7,0.5\n", "t.csv");
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->duration_s(), 1e7);
}

// The next change of a row far ahead saturates at "never" instead of overflowing the clock
// into the past (which made the monitor publish in a busy loop).
TEST(ReplaySourceTest, NextChangeSaturatesInsteadOfOverflowing) {
  absl::StatusOr<Trace> trace = ParseTrace("t_s,cpu_busy\n0,0.1\n1e7,0.5\n", "t.csv");
  ASSERT_TRUE(trace.ok()) << trace.status();
  // A start this close to the clock's end leaves less than 1e7 s of headroom.
  const SteadyTime late = SteadyTime::max() - std::chrono::hours(1);
  ReplaySource replay(*trace);
  Readings readings;
  EXPECT_EQ(replay.Sample(late, &readings).state, SourceState::kAvailable);
  EXPECT_EQ(*readings.replayed.cpu_busy_fraction, 0.1);
  ASSERT_TRUE(replay.NextChange().has_value());
  EXPECT_EQ(*replay.NextChange(), SteadyTime::max());

  // With room, the next change is exactly 1e7 s after the start.
  const SteadyTime start{};
  ReplaySource fresh(*trace);
  fresh.Sample(start, &readings);
  ASSERT_TRUE(fresh.NextChange().has_value());
  EXPECT_EQ(*fresh.NextChange(), start + std::chrono::seconds(10'000'000));
  EXPECT_GT(*fresh.NextChange(), start);
}

TEST(TraceTest, ShippedTracesParse) {
  for (const char* name : {"demo.csv", "short_squeeze.csv", "tight.csv"}) {
    absl::StatusOr<Trace> trace =
        LoadTraceFile(std::string(ADASPRING_SOURCE_DIR) + "/configs/traces/" + name);
    ASSERT_TRUE(trace.ok()) << name << ": " << trace.status();
    EXPECT_GE(trace->rows.size(), 2u) << name;
  }
  absl::StatusOr<Trace> demo =
      LoadTraceFile(std::string(ADASPRING_SOURCE_DIR) + "/configs/traces/demo.csv");
  ASSERT_TRUE(demo.ok());
  // The demo covers each situation the policy must react to.
  for (const char* phase : {"memory_squeeze", "battery_low", "thermal_rise", "cpu_contention"}) {
    bool found = false;
    for (const TraceRow& row : demo->rows) found = found || row.phase == phase;
    EXPECT_TRUE(found) << phase;
  }
  EXPECT_TRUE(absl::IsNotFound(LoadTraceFile("/nonexistent/trace.csv").status()));
}

}  // namespace
}  // namespace adaspring::context
