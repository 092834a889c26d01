// The IDX reader accepts well-formed files (plain and gzip) and rejects damaged ones with a
// message naming the file and the problem.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "adaspring/engine/train/dataset.h"

namespace adaspring::engine::train {
namespace {

std::string Header(uint8_t type, std::vector<uint32_t> dims) {
  std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>(d >> shift));
  return s;
}

std::string Images(int n, int h, int w) {
  std::string s =
      Header(0x08, {static_cast<uint32_t>(n), static_cast<uint32_t>(h), static_cast<uint32_t>(w)});
  for (int i = 0; i < n * h * w; ++i) s.push_back(static_cast<char>(i % 251));
  return s;
}

std::string Labels(int n, int classes) {
  std::string s = Header(0x08, {static_cast<uint32_t>(n)});
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(i % classes));
  return s;
}

class IdxFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("idx_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes, bool gzip) {
    const std::string path = (dir_ / name).string();
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << bytes;
    }
    return path;
  }
  std::string ReadRaw(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

  std::filesystem::path dir_;
};

TEST(IdxParseTest, ParsesAWellFormedArray) {
  auto a = ParseIdx(Images(3, 2, 4), "x");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dims, (std::vector<int>{3, 2, 4}));
  ASSERT_EQ(a->data.size(), 24u);
  EXPECT_EQ(a->data[5], 5);
}

TEST(IdxParseTest, RejectsDamagedHeadersAndSizes) {
  const std::string good = Images(2, 3, 3);
  std::string bad_magic = good;
  bad_magic[0] = 1;
  std::string bad_type = good;
  bad_type[2] = 0x0D;  // float: unsupported
  std::string bad_rank = good;
  bad_rank[3] = 0;
  std::string zero_dim = Header(0x08, {0, 3, 3});
  struct Case {
    std::string bytes, expect;
  } cases[] = {{bad_magic, "magic"},
               {bad_type, "element type"},
               {bad_rank, "rank"},
               {zero_dim, "dimension"},
               {good.substr(0, 10), "header"},
               {good.substr(0, good.size() - 1), "truncated"},
               {good + "x", "trailing"},
               {"", "too short"}};
  for (const Case& c : cases) {
    auto a = ParseIdx(c.bytes, "damaged.idx");
    ASSERT_FALSE(a.ok()) << c.expect;
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find("damaged.idx"), std::string::npos);
    EXPECT_NE(a.status().message().find(c.expect), std::string::npos) << a.status();
  }
}

TEST_F(IdxFileTest, ReadsPlainAndGzipFiles) {
  const std::string plain = Write("a.idx", Images(4, 2, 2), false);
  const std::string gz = Write("a.idx.gz", Images(4, 2, 2), true);
  auto a = ReadIdx(plain);
  auto b = ReadIdx(gz);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->data, b->data);
  EXPECT_EQ(ReadIdx((dir_ / "missing").string()).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IdxFileTest, RejectsDamagedGzip) {
  const std::string gz = Write("b.idx.gz", Images(50, 8, 8), true);
  const std::string bytes = ReadRaw(gz);
  // Truncated stream.
  const std::string cut = Write("cut.gz", bytes.substr(0, bytes.size() / 2), false);
  auto a = ReadIdx(cut);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("gzip"), std::string::npos) << a.status();
  // Flipped bytes in the deflate data (the CRC or the stream itself must catch it).
  std::string flipped = bytes;
  for (size_t i = 20; i < flipped.size() - 8; i += 7) flipped[i] ^= 0x5a;
  auto b = ReadIdx(Write("flip.gz", flipped, false));
  EXPECT_FALSE(b.ok());
}

TEST_F(IdxFileTest, DatasetChecksCountsAndShapes) {
  const std::string img = Write("train-images-idx3-ubyte.gz", Images(10, 4, 4), true);
  const std::string lab = Write("train-labels-idx1-ubyte", Labels(10, 3), false);
  auto d = LoadSplit(dir_.string(), "train");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->count, 10);
  EXPECT_EQ(d->num_classes, 3);
  EXPECT_EQ(d->height, 4);
  const std::string short_labels = Write("l9", Labels(9, 3), false);
  auto bad = LoadIdxDataset(img, short_labels);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("count mismatch"), std::string::npos) << bad.status();
  auto bad_rank = LoadIdxDataset(lab, lab);
  EXPECT_FALSE(bad_rank.ok());
}

TEST(DatasetTest, SplitAndAugmentAreDeterministic) {
  Dataset all;
  all.count = 20;
  all.height = all.width = 4;
  all.num_classes = 2;
  for (int i = 0; i < 20 * 16; ++i) all.pixels.push_back(static_cast<uint8_t>(i));
  for (int i = 0; i < 20; ++i) all.labels.push_back(i % 2);
  Dataset t1, v1, t2, v2;
  SplitTrainVal(all, 5, 42, &t1, &v1);
  SplitTrainVal(all, 5, 42, &t2, &v2);
  EXPECT_EQ(t1.count, 15);
  EXPECT_EQ(v1.count, 5);
  EXPECT_EQ(v1.pixels, v2.pixels);
  const Normalization norm = ComputeNormalization(t1);
  Augment aug;
  aug.enabled = true;
  std::vector<int> idx = {0, 1, 2};
  std::vector<float> a(3 * 16), b(3 * 16);
  std::vector<int32_t> la(3), lb(3);
  std::mt19937_64 r1(7), r2(7);
  MakeBatch(t1, idx.data(), 3, norm, aug, &r1, a.data(), la.data());
  MakeBatch(t1, idx.data(), 3, norm, aug, &r2, b.data(), lb.data());
  EXPECT_EQ(a, b);
  // Without augmentation, pixel p maps to (p / 255 - mean) / std.
  MakeBatch(t1, idx.data(), 1, norm, Augment{}, nullptr, a.data(), la.data());
  EXPECT_NEAR(a[3], (t1.pixels[3] / 255.f - norm.mean[0]) / norm.std[0], 1e-5);
}

}  // namespace
}  // namespace adaspring::engine::train
