#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "metrics/daemon_metrics.h"
#include "metrics/registry.h"

namespace adaspring::daemon::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsRegistryTest, RendersCountersAndGaugesInTextFormat004) {
  Registry registry;
  CounterFamily& requests = registry.AddCounter("t_requests_total", "Requests.", {"app", "model"});
  GaugeFamily& temperature = registry.AddGauge("t_temperature_celsius", "Temp.\nsecond line");
  requests.WithLabels({"cam", "m1"}).Increment();
  requests.WithLabels({"cam", "m1"}).Increment(2);
  requests.WithLabels({"a\"b\\c\nd", "m2"}).Increment();
  temperature.WithLabels({}).Set(41.5);
  EXPECT_EQ(registry.Render(),
            "# HELP t_requests_total Requests.\n"
            "# TYPE t_requests_total counter\n"
            "t_requests_total{app=\"a\\\"b\\\\c\\nd\",model=\"m2\"} 1\n"
            "t_requests_total{app=\"cam\",model=\"m1\"} 3\n"
            "# HELP t_temperature_celsius Temp.\\nsecond line\n"
            "# TYPE t_temperature_celsius gauge\n"
            "t_temperature_celsius 41.5\n");
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithInclusiveBounds) {
  Registry registry;
  Histogram& h =
      registry.AddHistogram("t_latency_seconds", "L.", {"app"}, {0.5, 0.1, 1}).WithLabels({"x"});
  h.Observe(0.1);  // on a bound: counted in that bucket (le = less or equal)
  h.Observe(0.2);
  h.Observe(1.0);
  h.Observe(7);
  h.Observe(std::numeric_limits<double>::quiet_NaN());  // only in +Inf
  const Histogram::Snapshot s = h.TakeSnapshot();
  EXPECT_THAT(s.cumulative, ::testing::ElementsAre(1, 2, 3, 5));
  EXPECT_EQ(s.count, 5u);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE t_latency_seconds histogram\n"
                              "t_latency_seconds_bucket{app=\"x\",le=\"0.1\"} 1\n"
                              "t_latency_seconds_bucket{app=\"x\",le=\"0.5\"} 2\n"
                              "t_latency_seconds_bucket{app=\"x\",le=\"1\"} 3\n"
                              "t_latency_seconds_bucket{app=\"x\",le=\"+Inf\"} 5\n"
                              "t_latency_seconds_sum{app=\"x\"} NaN\n"
                              "t_latency_seconds_count{app=\"x\"} 5\n"));
}

TEST(MetricsRegistryTest, SeriesReferencesAreStableAndUpdatesAreExactUnderContention) {
  Registry registry;
  CounterFamily& family = registry.AddCounter("t_total", "T.", {"app"});
  Histogram& h = registry.AddHistogram("t_seconds", "S.", {}, {0.001, 0.01}).WithLabels({});
  Counter* first = &family.WithLabels({"a"});
  constexpr int kThreads = 4, kPerThread = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& mine = family.WithLabels({t % 2 ? "a" : "b"});  // looked up once
      for (int i = 0; i < kPerThread; ++i) {
        mine.Increment();
        h.Observe(0.005);
      }
      family.WithLabels({"other" + std::to_string(t)}).Increment();  // new series meanwhile
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(first, &family.WithLabels({"a"}));
  EXPECT_EQ(family.WithLabels({"a"}).value(), 2u * kPerThread);
  EXPECT_EQ(family.WithLabels({"b"}).value(), 2u * kPerThread);
  const Histogram::Snapshot s = h.TakeSnapshot();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kPerThread);
  EXPECT_NEAR(s.sum, 0.005 * kThreads * kPerThread, 1e-6);
  EXPECT_EQ(s.cumulative[0], 0u);
}

TEST(MetricsRegistryTest, GaugesAddAndCollectHooksRunPerRender) {
  Registry registry;
  Gauge& g = registry.AddGauge("t_sessions", "S.").WithLabels({});
  int calls = 0;
  registry.AddCollectHook([&] { g.Set(++calls); });
  EXPECT_THAT(registry.Render(), HasSubstr("t_sessions 1\n"));
  EXPECT_THAT(registry.Render(), HasSubstr("t_sessions 2\n"));
  g.Add(0.25);
  EXPECT_DOUBLE_EQ(g.value(), 2.25);
}

TEST(MetricsRegistryTest, RegisteringTheSameFamilyTwiceReturnsIt) {
  Registry registry;
  CounterFamily& a = registry.AddCounter("t_total", "T.", {"app"});
  CounterFamily& b = registry.AddCounter("t_total", "T.", {"app"});
  EXPECT_EQ(&a, &b);
  EXPECT_DEATH(registry.AddGauge("t_total", "T.", {"app"}), "registered twice");
  EXPECT_DEATH(registry.AddCounter("bad name", "T."), "invalid metric name");
}

TEST(MetricsRegistryTest, FormatsSampleValues) {
  EXPECT_EQ(FormatSampleValue(3), "3");
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(1e300), "1e+300");
  EXPECT_EQ(FormatSampleValue(0.1 + 0.2), "0.30000000000000004");  // exact, not rounded
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatSampleValue(std::nan("")), "NaN");
}

TEST(DaemonMetricsTest, RegistersTheDocumentedFamilies) {
  Registry registry;
  DaemonMetrics m(registry);
  m.requests_total->WithLabels({"cam", "smallres28"}).Increment();
  m.request_errors_total->WithLabels({"cam", "smallres28", "DEADLINE_EXCEEDED"}).Increment();
  m.request_latency_seconds->WithLabels({"cam"}).Observe(0.0012);
  m.config_switches_total->WithLabels({"cam"}).Increment();
  m.evolution_latency_seconds->Observe(0.0009);
  m.sessions->Set(3);
  m.context_cpu_busy_ratio->Set(0.25);
  const std::string text = registry.Render();
  for (const char* line :
       {"# TYPE adaspring_requests_total counter",
        "adaspring_requests_total{app=\"cam\",model=\"smallres28\"} 1",
        "adaspring_request_errors_total{app=\"cam\",model=\"smallres28\",code="
        "\"DEADLINE_EXCEEDED\"} 1",
        "# TYPE adaspring_request_latency_seconds histogram",
        "adaspring_request_latency_seconds_bucket{app=\"cam\",le=\"0.0025\"} 1",
        "adaspring_config_switches_total{app=\"cam\"} 1",
        "adaspring_evolution_latency_seconds_bucket{le=\"0.001\"} 1",
        "adaspring_evolution_latency_seconds_count 1", "adaspring_sessions 3",
        "adaspring_context_memory_available_bytes NaN", "adaspring_context_cpu_busy_ratio 0.25",
        "adaspring_context_temperature_celsius NaN", "adaspring_context_battery_percent NaN",
        "adaspring_context_power_watts NaN",
        "# TYPE adaspring_reaction_latency_seconds histogram"}) {
    EXPECT_THAT(text, HasSubstr(std::string(line) + "\n")) << line;
  }
}

}  // namespace
}  // namespace adaspring::daemon::metrics
