#include <gtest/gtest.h>

#include <random>
#include <string>

#include "adaspring/engine/bundle.h"
// The portable path is private to the engine; the test compares it with the dispatched one.
#include "../engine/src/bundle/crc32c_internal.h"

namespace adaspring::engine {
namespace {

TEST(Crc32cTest, StandardCheckValues) {
  // RFC 3720 (iSCSI) B.4 and the CRC catalogue's check value.
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(bundle_internal::Crc32cSoftware("123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(Crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(nullptr, 0), 0u);
}

TEST(Crc32cTest, HardwareAndPortableAgreeAndChain) {
  std::mt19937_64 rng(1);
  std::string buf(4099, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4099u}) {
    for (size_t start : {0u, 1u, 3u}) {
      if (start + len > buf.size()) continue;
      const char* p = buf.data() + start;
      const uint32_t whole = Crc32c(p, len);
      EXPECT_EQ(whole, bundle_internal::Crc32cSoftware(p, len)) << len << " @" << start;
      // Chaining: CRC of a concatenation from the CRC of its first part.
      const size_t half = len / 2;
      EXPECT_EQ(Crc32c(p + half, len - half, Crc32c(p, half)), whole);
    }
  }
}

}  // namespace
}  // namespace adaspring::engine
