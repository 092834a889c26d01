#include "adaspring/client/backoff.h"

#include <gtest/gtest.h>

namespace adaspring::client {
namespace {

using std::chrono::milliseconds;

TEST(BackoffPolicyTest, GrowsExponentiallyUpToTheCap) {
  BackoffPolicy p;
  p.initial = milliseconds(50);
  p.max = milliseconds(1000);
  p.multiplier = 2;
  p.jitter = 0;
  EXPECT_EQ(p.Delay(0, 0.5), milliseconds(50));
  EXPECT_EQ(p.Delay(1, 0.5), milliseconds(100));
  EXPECT_EQ(p.Delay(4, 0.5), milliseconds(800));
  EXPECT_EQ(p.Delay(5, 0.5), milliseconds(1000));
  EXPECT_EQ(p.Delay(1000000, 0.5), milliseconds(1000));  // no overflow
}

TEST(BackoffPolicyTest, JitterStaysWithinItsBand) {
  BackoffPolicy p;
  p.initial = milliseconds(100);
  p.max = milliseconds(100);
  p.jitter = 0.2;
  EXPECT_EQ(p.Delay(3, 0.0), milliseconds(80));
  EXPECT_EQ(p.Delay(3, 0.5), milliseconds(100));
  EXPECT_EQ(p.Delay(3, 1.0), milliseconds(120));
  for (int i = 0; i < 1000; ++i) {
    const auto d = p.Delay(i % 10, BackoffJitterDraw());
    EXPECT_GE(d, milliseconds(80));
    EXPECT_LE(d, milliseconds(120));
  }
}

TEST(BackoffPolicyTest, DegenerateValuesAreClamped) {
  BackoffPolicy p;
  p.initial = milliseconds(0);
  p.max = milliseconds(0);
  p.multiplier = 0.5;  // treated as 1: never shrinks
  p.jitter = 5;        // treated as 1
  EXPECT_GE(p.Delay(0, 0.0), milliseconds(1));
  p.initial = milliseconds(10);
  p.max = milliseconds(5);  // below initial: initial wins
  p.jitter = 0;
  EXPECT_EQ(p.Delay(3, 0.5), milliseconds(10));
  EXPECT_EQ(p.Delay(-2, 0.5), milliseconds(10));
}

}  // namespace
}  // namespace adaspring::client
