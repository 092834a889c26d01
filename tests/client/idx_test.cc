#include "adaspring/client/idx.h"

#include <gtest/gtest.h>

#include "test_files.h"

namespace adaspring::client {
namespace {

using adaspring::testing::IdxImagesBytes;
using adaspring::testing::IdxLabelsBytes;
using adaspring::testing::TempDir;

TEST(IdxTest, ReadsPlainAndGzipImagesAndLabels) {
  TempDir dir;
  std::vector<uint8_t> px(3 * 2 * 2);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  const std::string bytes = IdxImagesBytes(3, 2, 2, px);
  testing::WriteFile(dir.path() + "/a-images-idx3-ubyte", bytes);
  testing::WriteGzFile(dir.path() + "/a-images-idx3-ubyte.gz", bytes);
  testing::WriteGzFile(dir.path() + "/a-labels-idx1-ubyte.gz", IdxLabelsBytes({4, 5, 6}));
  for (const char* name : {"/a-images-idx3-ubyte", "/a-images-idx3-ubyte.gz"}) {
    auto images = ReadIdxImages(dir.path() + name);
    ASSERT_TRUE(images.ok()) << images.status();
    EXPECT_EQ(images->count, 3);
    EXPECT_EQ(images->rows, 2);
    EXPECT_EQ(images->cols, 2);
    EXPECT_EQ(images->pixels, px);
    EXPECT_EQ(images->image(2)[0], px[8]);
    EXPECT_TRUE(LooksLikeIdx(dir.path() + name));
  }
  auto labels = ReadIdxLabels(dir.path() + "/a-labels-idx1-ubyte.gz");
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(*labels, (std::vector<uint8_t>{4, 5, 6}));
}

TEST(IdxTest, RejectsDamagedFilesNamingThem) {
  auto missing = ReadIdxImages("/nonexistent/x.gz");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/x.gz"), std::string::npos);

  const std::string good = IdxImagesBytes(2, 2, 2, std::vector<uint8_t>(8, 1));
  auto truncated = ParseIdxImages(good.substr(0, good.size() - 1), "t.idx");
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("t.idx: truncated"), std::string::npos);

  auto labels_as_images = ParseIdxImages(IdxLabelsBytes({1, 2, 3, 4, 5, 6, 7, 8, 9}), "l");
  EXPECT_EQ(labels_as_images.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseIdxImages("", "e").ok());
  EXPECT_FALSE(ParseIdxImages(IdxImagesBytes(0, 0, 5, {}), "z").ok());
  // A header promising 2^32 pixels must not allocate them.
  EXPECT_FALSE(ParseIdxImages(IdxImagesBytes(65535, 65535, 65535, {}), "huge").ok());
  EXPECT_FALSE(ParseIdxLabels(IdxLabelsBytes({1, 2}).substr(0, 9), "short").ok());
}

}  // namespace
}  // namespace adaspring::client
