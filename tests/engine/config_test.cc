#include "adaspring/engine/config.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "adaspring/engine/model.h"

namespace adaspring::engine {
namespace {

ConfigSpace SpaceOf(const char* name) {
  auto arch = BuiltinArch(name);
  EXPECT_TRUE(arch.ok()) << arch.status();
  return ConfigSpace(*arch);
}

TEST(ArchTest, BuiltinsValidate) {
  for (const std::string& name : BuiltinArchNames()) {
    auto arch = BuiltinArch(name);
    ASSERT_TRUE(arch.ok());
    EXPECT_TRUE(ValidateArch(*arch).ok()) << name;
  }
  EXPECT_EQ(BuiltinArch("vgg").status().code(), absl::StatusCode::kNotFound);
}

TEST(ArchTest, Smallres28ShapesAreAsDocumented) {
  ConfigSpace space = SpaceOf("smallres28");
  const NetSpec& net = space.net();
  ASSERT_EQ(net.blocks.size(), 6u);
  EXPECT_EQ(net.blocks[0].in_channels, 16);
  EXPECT_EQ(net.blocks[0].out_channels, 32);
  EXPECT_TRUE(net.blocks[0].has_downsample);
  EXPECT_FALSE(net.blocks[1].has_downsample);
  EXPECT_EQ(net.blocks[0].inner_choices, (std::vector<int>{8, 16, 24, 32}));
  EXPECT_EQ(net.blocks[5].inner_choices, (std::vector<int>{32, 64, 96, 128}));
  EXPECT_EQ(net.fc_in, 128);
}

TEST(ArchTest, Mobilenetv2FirstStageIsInelastic) {
  ConfigSpace space = SpaceOf("mobilenetv2");
  EXPECT_EQ(space.net().blocks.size(), 17u);
  EXPECT_EQ(space.net().blocks[0].inner_choices.size(), 1u);
  EXPECT_EQ(space.net().blocks[1].inner_choices.size(), 4u);
  EXPECT_TRUE(space.net().has_head_conv);
}

TEST(ConfigSpaceTest, ReferenceSpaceHasAtLeast1e4Configurations) {
  EXPECT_GE(SpaceOf("smallres28").CanonicalCount(), 1e4);
}

TEST(ConfigSpaceTest, TextAndIdRoundTripOnRandomConfigs) {
  for (const char* name : {"smallres28", "resnet18", "mobilenetv2"}) {
    ConfigSpace space = SpaceOf(name);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 2000; ++i) {
      Config c = space.Sample(rng);
      ASSERT_TRUE(space.Validate(c).ok());
      auto parsed = space.Parse(space.ToText(c));
      ASSERT_TRUE(parsed.ok()) << parsed.status();
      EXPECT_EQ(*parsed, c);
      auto from_id = space.FromId(space.ToId(c));
      ASSERT_TRUE(from_id.ok());
      EXPECT_EQ(*from_id, c);
    }
  }
}

TEST(ConfigSpaceTest, EnumerationCountsMatchAndIdsAreUnique) {
  ArchSpec arch = *BuiltinArch("smallres28");
  arch.width_percent = {50, 100};
  arch.rank_divisors = {1, 2};
  ConfigSpace space(arch);
  std::set<uint64_t> ids;
  space.Enumerate([&](const Config& c) {
    EXPECT_EQ(space.Canonical(c), c);
    ids.insert(space.ToId(c));
    return true;
  });
  EXPECT_EQ(static_cast<double>(ids.size()), space.CanonicalCount());
}

TEST(ConfigSpaceTest, ParseRejectsBadTextWithReason) {
  ConfigSpace space = SpaceOf("smallres28");
  for (const char* bad : {"", "d=2.2 w=100.100.100.100.100.100 r=1.1.1.1.1.1 p=f32",
                          "d=2.2.2 w=100.100.100.100.100.33 r=1.1.1.1.1.1 p=f32",
                          "d=2.2.2 w=100.100.100.100.100.100 r=1.1.1.1.1.3 p=f32",
                          "d=2.2.2 w=100.100.100.100.100.100 r=1.1.1.1.1.1 p=f16",
                          "d=3.2.2 w=100.100.100.100.100.100 r=1.1.1.1.1.1 p=f32",
                          "x=1 d=2.2.2 w=100.100.100.100.100.100 r=1.1.1.1.1.1 p=f32"}) {
    auto c = space.Parse(bad);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(space.FromId(~0ull).ok());
}

TEST(ConfigSpaceTest, CanonicalFormResetsSkippedBlocks) {
  ConfigSpace space = SpaceOf("smallres28");
  auto c = space.Parse("d=1.2.2 w=25.25.100.100.100.100 r=1.4.1.1.1.1 p=f32");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(space.ToText(*c), "d=1.2.2 w=25.100.100.100.100.100 r=1.1.1.1.1.1 p=f32");
}

TEST(ConfigSpaceTest, NeighboursDifferInOneStep) {
  ConfigSpace space = SpaceOf("smallres28");
  Config full = space.Full();
  auto n = space.Neighbours(full);
  // 3 depth steps down + 6 width steps down + 6 rank steps + precision.
  EXPECT_EQ(n.size(), 16u);
  for (const Config& c : n) EXPECT_NE(c, full);
}

TEST(ModelTest, RandomModelHasEveryExpectedTensor) {
  auto model = Model::Random(*BuiltinArch("smallres28"), 1);
  EXPECT_TRUE(model->CheckTensors().ok()) << model->CheckTensors();
  EXPECT_NE(model->Data("s2.b1.conv2.weight"), nullptr);
  EXPECT_EQ(model->Data("nonexistent"), nullptr);
}

}  // namespace
}  // namespace adaspring::engine
