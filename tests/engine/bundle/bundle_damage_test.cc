// Every kind of damaged or hostile bundle is rejected with its own message, which starts with
// the file's name; nothing crashes or reads out of bounds (run under ASan in CI).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "adaspring/engine/bundle.h"
#include "engine/bundle/bundle_test_util.h"

namespace adaspring::engine {
namespace {

using testing::EditManifest;
using testing::EntryIndex;
using testing::FullModel;
using testing::ManifestOf;
using testing::SetFloat;
using testing::TinyArch;
namespace pb = testing::pb;

pb::TensorEntry* Entry(pb::BundleManifest& m, const std::string& name) {
  const int i = EntryIndex(m, name);
  EXPECT_GE(i, 0) << name;
  return m.mutable_tensors(i);
}

class BundleDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bytes = SerializeBundle(*FullModel(TinyArch(), 4));
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    good_ = *bytes;
    ASSERT_TRUE(ParseBundle(good_, "x.asb").ok());
  }

  // Expects rejection with INVALID_ARGUMENT and a message "x.asb: ..." containing `what`.
  void ExpectRejected(const std::string& bytes, const std::string& what) {
    auto r = ParseBundle(bytes, "x.asb");
    ASSERT_FALSE(r.ok()) << "accepted; expected: " << what;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    const std::string msg(r.status().message());
    EXPECT_EQ(msg.rfind("x.asb: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "message: " << msg << "\nwanted: " << what;
  }

  std::string Edit(const std::function<void(pb::BundleManifest&)>& edit) {
    return EditManifest(good_, edit);
  }
  std::string good_;
};

TEST_F(BundleDamageTest, EmptyFile) { ExpectRejected("", "file is empty (0 bytes)"); }

TEST_F(BundleDamageTest, TruncatedAtEveryOffset) {
  const pb::BundleManifest m = ManifestOf(good_);
  const size_t manifest_end = 20 + m.ByteSizeLong();
  // Every offset through the header, the manifest and the first tensors, then a stride.
  for (size_t n = 1; n < good_.size(); n += n < manifest_end + 512 ? 1 : 37) {
    const std::string what = n < 20             ? "shorter than the 20-byte header"
                             : n < manifest_end ? "truncated: manifest length"
                                                : "extends past the end of the file";
    ExpectRejected(good_.substr(0, n), what);
    if (HasFailure()) {
      ADD_FAILURE() << "at truncation to " << n << " bytes";
      return;
    }
  }
}

TEST_F(BundleDamageTest, BadMagic) {
  std::string b = good_;
  b[3] = 'X';
  ExpectRejected(b, "bad magic (not a model bundle): starts with 41 53 42 58");
}

TEST_F(BundleDamageTest, BadVersion) {
  std::string b = good_;
  b[8] = 2;
  ExpectRejected(b, "unsupported format version 2 (this build reads version 1)");
}

TEST_F(BundleDamageTest, HugeManifestLength) {
  std::string b = good_;
  const uint32_t len = 0xFFFFFFF0u;
  std::memcpy(b.data() + 12, &len, 4);
  ExpectRejected(b, "manifest length 4294967280 exceeds the limit");
}

TEST_F(BundleDamageTest, ManifestChecksum) {
  std::string b = good_;
  b[40] ^= 0x20;
  ExpectRejected(b, "manifest checksum mismatch (stored 0x");
}

TEST_F(BundleDamageTest, ManifestGarbage) {
  // Correct length and CRC, but the bytes are not a protobuf message.
  std::string b = good_;
  uint32_t len;
  std::memcpy(&len, b.data() + 12, 4);
  std::fill(b.begin() + 20, b.begin() + 20 + len, '\xff');
  const uint32_t crc = Crc32c(b.data() + 20, len);
  std::memcpy(b.data() + 16, &crc, 4);
  ExpectRejected(b, "is not a valid BundleManifest protobuf");
}

TEST_F(BundleDamageTest, ManifestVersionDisagrees) {
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.set_format_version(7); }),
                 "manifest format_version 7 disagrees with the header's version 1");
}

TEST_F(BundleDamageTest, TensorChecksum) {
  const pb::BundleManifest m = ManifestOf(good_);
  const pb::TensorEntry& t = m.tensors(EntryIndex(m, "s0.b1.conv1.weight"));
  std::string b = good_;
  b[t.offset() + 5] ^= 1;
  ExpectRejected(b, "tensor 's0.b1.conv1.weight' checksum mismatch (stored 0x");
}

TEST_F(BundleDamageTest, OffsetPastTheEnd) {
  const uint64_t size = good_.size();
  ExpectRejected(
      Edit([&](pb::BundleManifest& m) { Entry(m, "fc.bias")->set_offset((size + 64) / 64 * 64); }),
      "tensor 'fc.bias' at [");
  ExpectRejected(
      Edit([&](pb::BundleManifest& m) { Entry(m, "fc.bias")->set_offset(UINT64_MAX / 64 * 64); }),
      "extends past the end of the file");
}

TEST_F(BundleDamageTest, MisalignedOffset) {
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   auto* t = Entry(m, "fc.bias");
                   t->set_offset(t->offset() + 4);
                 }),
                 "tensor 'fc.bias' offset");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   auto* t = Entry(m, "fc.bias");
                   t->set_offset(t->offset() + 4);
                 }),
                 "is not 64-byte aligned");
}

TEST_F(BundleDamageTest, OffsetInsideTheManifest) {
  ExpectRejected(Edit([](pb::BundleManifest& m) { Entry(m, "fc.bias")->set_offset(0); }),
                 "tensor 'fc.bias' offset 0 lies inside the header and manifest");
}

TEST_F(BundleDamageTest, OverlappingTensors) {
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   const uint64_t at = Entry(m, "fc.weight")->offset();
                   Entry(m, "fc.bias")->set_offset(at);
                 }),
                 "overlap");
}

TEST_F(BundleDamageTest, AbsurdShape) {
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   auto* t = Entry(m, "fc.weight");
                   t->clear_shape();
                   for (int i = 0; i < 3; ++i) t->add_shape(int64_t{1} << 31);
                 }),
                 "tensor 'fc.weight' has an absurd shape [2147483648,2147483648,2147483648]");
  ExpectRejected(Edit([](pb::BundleManifest& m) { Entry(m, "fc.weight")->set_shape(0, 0); }),
                 "tensor 'fc.weight' has dimension 0 = 0, expected 1..");
  ExpectRejected(Edit([](pb::BundleManifest& m) { Entry(m, "fc.weight")->set_shape(1, -5); }),
                 "has dimension 1 = -5");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   auto* t = Entry(m, "fc.bias");
                   for (int i = 0; i < 8; ++i) t->add_shape(1);
                 }),
                 "tensor 'fc.bias' has rank 9, expected 1..8");
  ExpectRejected(Edit([](pb::BundleManifest& m) { Entry(m, "fc.bias")->clear_shape(); }),
                 "tensor 'fc.bias' has rank 0");
}

TEST_F(BundleDamageTest, SizeDoesNotMatchShape) {
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   auto* t = Entry(m, "fc.bias");
                   t->set_size_bytes(t->size_bytes() + 4);
                 }),
                 "tensor 'fc.bias' has size_bytes 16, but its shape [3] needs 3 x 4 = 12");
}

TEST_F(BundleDamageTest, WrongDtype) {
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   Entry(m, "fc.bias")->set_dtype(pb::TENSOR_DTYPE_UNSPECIFIED);
                 }),
                 "tensor 'fc.bias' has dtype 0, expected TENSOR_DTYPE_F32");
}

TEST_F(BundleDamageTest, DuplicateAndNamelessEntries) {
  ExpectRejected(Edit([](pb::BundleManifest& m) { *m.add_tensors() = *Entry(m, "fc.bias"); }),
                 "tensor 'fc.bias' is listed twice");
  ExpectRejected(Edit([](pb::BundleManifest& m) { Entry(m, "fc.bias")->clear_name(); }),
                 "has no name");
}

TEST_F(BundleDamageTest, MissingTensor) {
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   m.mutable_tensors()->DeleteSubrange(EntryIndex(m, "s0.b0.bn1.var"), 1);
                 }),
                 "tensor 's0.b0.bn1.var' is missing");
}

TEST_F(BundleDamageTest, UnknownTensorIsRejected) {
  // Documented choice: tensors the architecture does not use are an error, not ignored.
  ExpectRejected(Edit([](pb::BundleManifest& m) { Entry(m, "fc.bias")->set_name("fc.extra"); }),
                 "unexpected tensor 'fc.extra': architecture 'tiny' has no such tensor");
}

TEST_F(BundleDamageTest, ShapeDisagreesWithArchitecture) {
  // Same element count, transposed: only the architecture check can notice.
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   auto* t = Entry(m, "fc.weight");
                   std::swap(*t->mutable_shape()->Mutable(0), *t->mutable_shape()->Mutable(1));
                 }),
                 "tensor 'fc.weight' has shape [16,3], expected [3,16]");
}

TEST_F(BundleDamageTest, NonFiniteWeight) {
  ExpectRejected(SetFloat(good_, "s0.b0.conv2.weight", 17, NAN),
                 "tensor 's0.b0.conv2.weight' has a non-finite value at element 17");
  ExpectRejected(SetFloat(good_, "fc.bias", 2, INFINITY), "tensor 'fc.bias' has a non-finite");
}

TEST_F(BundleDamageTest, NegativeVariance) {
  ExpectRejected(SetFloat(good_, "s1.b0.bn2.var", 3, -0.5f),
                 "tensor 's1.b0.bn2.var' has a negative variance at element 3");
}

TEST_F(BundleDamageTest, LabelsDoNotMatchClasses) {
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_labels()->RemoveLast(); }),
                 "manifest has 2 labels, architecture 'tiny' has 3 classes");
}

TEST_F(BundleDamageTest, InputSpec) {
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.clear_input(); }),
                 "manifest has no input spec");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_input()->add_mean(0); }),
                 "input has 2 means and 1 stds, expected 1 (one per input channel)");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_input()->set_std(0, 0); }),
                 "input std[0] is 0, must be finite and > 0");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_input()->set_shape(1, 9); }),
                 "input shape [1,9,8] does not match the architecture's [1,8,8]");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_input()->set_layout("NHWC"); }),
                 "input layout 'NHWC' is not NCHW");
}

TEST_F(BundleDamageTest, Architecture) {
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.clear_architecture(); }),
                 "manifest has no architecture");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_stem_kernel(4); }),
                 "architecture 'tiny': stem_kernel 4 must be odd, 1..11");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_in_channels(0xFFFFFFFFu); }),
      "architecture 'tiny': input shape [2147483647,8,8] (CHW) outside the limits: channels "
      "1..64, height and width 1..4096");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   m.mutable_architecture()->set_block_kind(pb::BLOCK_KIND_UNSPECIFIED);
                 }),
                 "block_kind 0 is unspecified or unknown");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   m.mutable_architecture()->mutable_stages(1)->set_out_channels(32);
                 }),
                 "tensor 's1.b0.conv1.weight' has shape [16,8,3,3], expected [32,8,3,3]");
}

// Out-of-range architecture fields name the field, its value and the accepted range.
TEST_F(BundleDamageTest, ArchitectureMessagesGiveTheValueAndTheRange) {
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_num_classes(0); }),
                 "architecture 'tiny': num_classes 0 outside 1..100000");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_num_classes(200000); }),
      "architecture 'tiny': num_classes 200000 outside 1..100000");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_stem_stride(0); }),
                 "architecture 'tiny': stem_stride 0 outside 1..4");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_stem_channels(5000); }),
      "architecture 'tiny': stem_channels 5000 outside 1..4096");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_in_height(0); }),
                 "architecture 'tiny': input shape [1,0,8] (CHW) outside the limits");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { m.mutable_architecture()->set_head_channels(9000); }),
      "architecture 'tiny': head_channels 9000 outside 0..8192");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   m.mutable_architecture()->mutable_stages(1)->set_out_channels(0);
                 }),
                 "architecture 'tiny': stage 1 out_channels 0 outside 1..4096");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   m.mutable_architecture()->mutable_stages(0)->set_num_blocks(17);
                 }),
                 "architecture 'tiny': stage 0 num_blocks 17 must be 1..16");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   m.mutable_architecture()->mutable_stages(1)->set_stride(3);
                 }),
                 "architecture 'tiny': stage 1 stride 3 must be 1 or 2");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   for (int i = 0; i < 17; ++i) m.mutable_architecture()->add_stages();
                 }),
                 "architecture 'tiny': 19 stages, 2 widths, 2 ranks (at most 16 stages, 8 widths "
                 "and 8 ranks)");
}

// An activation_amax of 0 quantises that point with a degenerate step: int8 configurations
// would return the same output for every input. Refused like NaN, naming the point.
TEST_F(BundleDamageTest, ZeroOrNegativeActivationAmaxIsRejected) {
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { (*m.mutable_activation_amax())["stem.out"] = 0; }),
      "activation_amax['stem.out'] is 0, must be finite and > 0");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { (*m.mutable_activation_amax())["stem.out"] = -1; }),
      "activation_amax['stem.out'] is -1, must be finite and > 0");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { (*m.mutable_activation_amax())["stem.out"] = INFINITY; }),
      "activation_amax['stem.out'] is inf, must be finite and > 0");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   for (auto& [point, amax] : *m.mutable_activation_amax()) amax = 0;
                   (*m.mutable_activation_amax())["input"] = 0;
                 }),
                 "is 0, must be finite and > 0");
  // A small positive value is a valid (if unusual) scale.
  EXPECT_TRUE(ParseBundle(Edit([](pb::BundleManifest& m) {
                            (*m.mutable_activation_amax())["stem.out"] = 1e-3f;
                          }),
                          "x.asb")
                  .ok());
}

TEST_F(BundleDamageTest, CalibrationPredictorAndMeasuredTable) {
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { (*m.mutable_activation_amax())["stem.out"] = NAN; }),
      "activation_amax['stem.out'] is nan, must be finite and > 0");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { m.mutable_predictor()->set_feature_names(0, "b42.width"); }),
      "accuracy predictor: feature 'b42.width' is not a feature of architecture");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_predictor()->add_coefficients(1); }),
                 "accuracy predictor: 3 feature names but 4 coefficients");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_predictor()->set_kind("krr"); }),
                 "accuracy predictor: kind 'krr' has 3 linear coefficients");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { m.mutable_predictor()->add_support_configs("d=1 w=1"); }),
      "accuracy predictor: kind 'ridge' has kernel fields");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_predictor()->add_mlp_weights(0.5f); }),
                 "accuracy predictor: kind 'ridge' has mlp fields");
  ExpectRejected(Edit([](pb::BundleManifest& m) {
                   pb::AccuracyPredictor* p = m.mutable_predictor();
                   p->set_kind("mlp");
                   p->clear_feature_names();
                   p->clear_coefficients();
                   p->add_mlp_input_names("int8");
                   p->set_mlp_hidden(2);
                   p->set_mlp_members(1);
                   p->set_mlp_output_scale(0.01);
                   for (int i = 0; i < 12; ++i) p->add_mlp_weights(0.1f);  // 13 needed
                 }),
                 "accuracy predictor: mlp: 12 weights, expected 13");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_predictor()->set_target("probit"); }),
                 "accuracy predictor: target 'probit' is not 'accuracy' or 'log_error'");
  ExpectRejected(
      Edit([](pb::BundleManifest& m) { m.mutable_measured(1)->set_config("d=9.9 w=1 r=1 p=f32"); }),
      "measured[1]: configuration 'd=9.9 w=1 r=1 p=f32'");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_measured(0)->set_accuracy(1.5); }),
                 "measured[0] accuracy 1.5 is not a fraction in [0, 1]");
  ExpectRejected(Edit([](pb::BundleManifest& m) { m.mutable_measured(0)->set_split("train"); }),
                 "measured[0] split 'train' is not 'val' or 'test'");
}

TEST_F(BundleDamageTest, RandomByteFlipsNeverCrash) {
  // Flips that land in padding or in the long provenance string may be accepted; everything
  // else must be a clean INVALID_ARGUMENT naming the file.
  std::mt19937_64 rng(11);
  int rejected = 0;
  for (int k = 0; k < 3000; ++k) {
    std::string b = good_;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] ^= static_cast<char>(1 + rng() % 255);
    auto r = ParseBundle(b, "x.asb");
    if (!r.ok()) {
      ++rejected;
      EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(std::string(r.status().message()).rfind("x.asb: ", 0), 0u);
    }
  }
  EXPECT_GT(rejected, 2500);
}

TEST_F(BundleDamageTest, WriterRefusesAnInconsistentModel) {
  auto model = FullModel(TinyArch(), 4);
  model->measured.push_back({"nonsense", 0.5, "val", false});
  auto bytes = SerializeBundle(*model);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.status().message().find("bundle of 'tiny': measured[2]"), std::string::npos)
      << bytes.status();
}

}  // namespace
}  // namespace adaspring::engine
