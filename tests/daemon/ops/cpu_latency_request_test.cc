// The PM QoS wake-up latency request, against an ordinary file standing in for
// /dev/cpu_dma_latency (the device takes and returns a binary s32 the same way).
#include "scheduler/cpu_latency_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "daemon/ops/temp_dir.h"

namespace adaspring::daemon {
namespace {

using ops_testing::TempDir;
using ::testing::HasSubstr;

// The s32 at the start of `path`, or INT32_MIN when the file is shorter.
int64_t StoredValue(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 4) return INT32_MIN;
  int32_t v;
  std::memcpy(&v, bytes.data(), 4);
  return v;
}

TEST(CpuLatencyRequestTest, WritesUpdatesAndReadsBackTheRequest) {
  TempDir dir;
  const std::string dev = dir.WriteFile("cpu_dma_latency", "");
  absl::StatusOr<std::unique_ptr<CpuLatencyRequest>> r = CpuLatencyRequest::Open(dev, 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(StoredValue(dev), 0);
  EXPECT_EQ((*r)->latency_us(), 0);
  ASSERT_TRUE((*r)->Update(75).ok());
  EXPECT_EQ(StoredValue(dev), 75);
  absl::StatusOr<int64_t> effective = (*r)->EffectiveUs();
  ASSERT_TRUE(effective.ok()) << effective.status();
  EXPECT_EQ(*effective, 75);
  // A refused value leaves the held one in place.
  const absl::Status bad = (*r)->Update(-3);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("-3 us is outside 0 .. 2000000000"));
  EXPECT_EQ((*r)->latency_us(), 75);
  EXPECT_EQ(StoredValue(dev), 75);
}

TEST(CpuLatencyRequestTest, ProblemsNameTheDevice) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<CpuLatencyRequest>> missing =
      CpuLatencyRequest::Open(dir.Sub("no-such-device"), 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir.Sub("no-such-device")));
  // A directory cannot be opened for writing.
  absl::StatusOr<std::unique_ptr<CpuLatencyRequest>> directory =
      CpuLatencyRequest::Open(dir.path(), 0);
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr(dir.path()));
  // Out of the kernel's range: refused before the device is touched.
  const std::string dev = dir.WriteFile("dev", "");
  absl::StatusOr<std::unique_ptr<CpuLatencyRequest>> huge =
      CpuLatencyRequest::Open(dev, 3000000000);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StoredValue(dev), INT32_MIN);
}

}  // namespace
}  // namespace adaspring::daemon
