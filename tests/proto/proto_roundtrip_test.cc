#include <gtest/gtest.h>

#include "adaspring/v1/admin.pb.h"
#include "adaspring/v1/bundle.pb.h"
#include "adaspring/v1/inference.pb.h"

namespace adaspring {
namespace {

TEST(ProtoRoundTripTest, InferRequestSurvivesSerialisation) {
  v1::InferRequest req;
  req.set_session_id("s-000001");
  req.set_token(std::string(16, '\x7f'));
  req.set_request_id(42);
  req.set_top_k(3);
  auto* t = req.mutable_input();
  t->set_dtype(v1::DATA_TYPE_FP32);
  t->add_shape(1);
  t->add_shape(1);
  t->add_shape(28);
  t->add_shape(28);
  t->set_raw_contents(std::string(28 * 28 * 4, '\0'));

  std::string wire;
  ASSERT_TRUE(req.SerializeToString(&wire));
  v1::InferRequest back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.session_id(), "s-000001");
  EXPECT_EQ(back.token().size(), 16u);
  EXPECT_EQ(back.input().shape_size(), 4);
  EXPECT_EQ(back.input().raw_contents().size(), 28u * 28u * 4u);
  EXPECT_EQ(back.request_id(), 42u);
}

TEST(ProtoRoundTripTest, OverrideOptionalFieldsKeepPresence) {
  v1::SetContextOverrideRequest req;
  req.set_memory_limit_bytes(200ll << 20);
  std::string wire = req.SerializeAsString();
  v1::SetContextOverrideRequest back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_TRUE(back.has_memory_limit_bytes());
  EXPECT_FALSE(back.has_battery_percent());
  EXPECT_EQ(back.memory_limit_bytes(), 200ll << 20);
}

TEST(ProtoRoundTripTest, BundleManifestSurvivesSerialisation) {
  v1::bundle::BundleManifest m;
  m.set_format_version(1);
  m.set_name("smallres28");
  auto* arch = m.mutable_architecture();
  arch->set_block_kind(v1::bundle::BLOCK_KIND_BASIC);
  arch->add_width_percent(25);
  arch->add_width_percent(100);
  auto* t = m.add_tensors();
  t->set_name("fc.weight");
  t->add_shape(10);
  t->add_shape(128);
  t->set_offset(4096);
  t->set_crc32c(0xdeadbeef);
  (*m.mutable_activation_amax())["stem"] = 3.5f;
  v1::bundle::BundleManifest back;
  ASSERT_TRUE(back.ParseFromString(m.SerializeAsString()));
  EXPECT_EQ(back.name(), "smallres28");
  EXPECT_EQ(back.architecture().width_percent_size(), 2);
  EXPECT_EQ(back.tensors(0).crc32c(), 0xdeadbeefu);
  EXPECT_FLOAT_EQ(back.activation_amax().at("stem"), 3.5f);
}

}  // namespace
}  // namespace adaspring
