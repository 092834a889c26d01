// The bridge from the daemon's own statistics to the Prometheus families: failed requests
// are exported per gRPC code name, so a dashboard can tell bad input from overload.
#include "server/metrics_bridge.h"

#include <gtest/gtest.h>

#include "daemon/core/daemon_harness.h"
#include "metrics/registry.h"

namespace adaspring::daemon::testing {
namespace {

TEST(MetricsBridgeTest, ErrorsAreCountedPerStatusCode) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = h.Open("cam", 20000);
  v1::InferResponse r;
  ASSERT_TRUE(h.Infer(DaemonHarness::Request(s), &r).ok());
  v1::InferRequest bad = DaemonHarness::Request(s);
  bad.mutable_input()->set_dtype(v1::DATA_TYPE_INT8);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(h.Infer(bad, &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  metrics::Registry registry;
  metrics::DaemonMetrics m(registry);
  MetricsBridge bridge(&h.daemon(), &m);
  bridge.Update();
  bridge.Update();  // idempotent: only new events are added
  const std::string text = registry.Render();
  EXPECT_NE(text.find("adaspring_request_errors_total{app=\"cam\",model=\"fmnist\","
                      "code=\"INVALID_ARGUMENT\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("adaspring_requests_total{app=\"cam\",model=\"fmnist\"} 1"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace adaspring::daemon::testing
