// A width-sliced variant equals a separately built narrow network holding the prefix weights.
#include <gtest/gtest.h>

#include "adaspring/engine/variant.h"
#include "engine/exec/test_util.h"

namespace adaspring::engine {
namespace {

// A small inverted-residual supernet: its inner width is in * expand_ratio, so the network
// at 50% width is exactly the architecture with half the expand ratio.
ArchSpec Inverted(int expand_ratio, std::vector<int> widths) {
  ArchSpec a;
  a.name = "inv";
  a.in_channels = 1;
  a.in_height = a.in_width = 12;
  a.num_classes = 10;
  a.stem_channels = 16;
  a.block_kind = BlockKind::kInverted;
  a.activation = Activation::kRelu6;
  a.stages = {{16, 2, 1, expand_ratio}, {24, 1, 2, expand_ratio}};
  a.head_channels = 32;
  a.width_percent = std::move(widths);
  return a;
}

// Copies the leading prefix of every tensor of `wide` into the shapes of `narrow_arch`; BN
// statistics of blocks come from row `row` of the wide model.
std::shared_ptr<Model> NarrowCopy(const Model& wide, const ArchSpec& narrow_arch, int row) {
  TensorStore store;
  for (const auto& [name, shape] : Model::ExpectedTensors(BuildNetSpec(narrow_arch))) {
    const TensorStore::Entry* src = wide.tensors().Find(name);
    const auto& ws = src->shape;
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    // Row-major prefix copy over up to 4 dims.
    std::vector<int64_t> s = shape, w = ws;
    while (s.size() < 4) {
      s.push_back(1);
      w.push_back(1);
    }
    const bool stats = name.size() > 5 && (name.substr(name.size() - 5) == ".mean" ||
                                           name.substr(name.size() - 4) == ".var");
    const int64_t row0 = stats && ws[0] > 1 ? row : 0;
    int64_t k = 0;
    for (int64_t a = 0; a < s[0]; ++a)
      for (int64_t b = 0; b < s[1]; ++b)
        for (int64_t c = 0; c < s[2]; ++c)
          for (int64_t d = 0; d < s[3]; ++d)
            v[k++] = src->data[(((a + row0) * w[1] + b) * w[2] + c) * w[3] + d];
    store.Add(name, shape, std::move(v));
  }
  ModelMeta meta = wide.meta();
  return std::make_shared<Model>(narrow_arch, meta, std::move(store));
}

TEST(WidthSliceTest, SlicedVariantEqualsNarrowNetwork) {
  const ArchSpec wide_arch = Inverted(6, {25, 50, 75, 100});
  auto wide = Model::Random(wide_arch, 3);
  // Non-trivial BN statistics so that using the wrong row would show.
  for (const auto& [name, e] : wide->tensors().entries()) {
    float* p = const_cast<float*>(e.data);
    if (name.find(".mean") != std::string::npos)
      for (int64_t i = 0; i < e.numel; ++i) p[i] = 0.01f * static_cast<float>(i % 17);
    if (name.find(".var") != std::string::npos)
      for (int64_t i = 0; i < e.numel; ++i) p[i] = 1.f + 0.02f * static_cast<float>(i % 13);
  }
  const ArchSpec narrow_arch = Inverted(3, {100});
  auto narrow = NarrowCopy(*wide, narrow_arch, /*row=*/1);
  ASSERT_TRUE(narrow->CheckTensors().ok()) << narrow->CheckTensors();

  Config half = wide->space().Full();
  for (const BlockSpec& b : wide->net().blocks) {
    ASSERT_EQ(b.inner_choices[1], narrow->net().blocks[b.global_index].inner_choices[0]);
    half.width_idx[b.global_index] = 1;
  }
  auto we = Evolver::Create(wide);
  auto ne = Evolver::Create(narrow);
  ASSERT_TRUE(we.ok() && ne.ok());
  auto wv = (*we)->Evolve(half);
  auto nv = (*ne)->Evolve(narrow->space().Full());
  ASSERT_TRUE(wv.ok() && nv.ok());
  EXPECT_EQ((*wv)->stats(), (*nv)->stats());
  const auto in = testing_util::RandomInput(wide_arch, 4, 9);
  std::vector<float> a(40), b(40), ref(40);
  auto ws = NewWorkspace(1);
  ASSERT_TRUE((*wv)->Run(in.data(), 4, a.data(), ws.get()).ok());
  ASSERT_TRUE((*nv)->Run(in.data(), 4, b.data(), ws.get()).ok());
  EXPECT_LE(testing_util::RelError(a, b), 1e-6);
  ASSERT_TRUE(ReferenceForward(*wide, half, in.data(), 4, ref.data()).ok());
  EXPECT_LE(testing_util::RelError(a, ref), 1e-4);
}

}  // namespace
}  // namespace adaspring::engine
