// Supernet architecture: the shape of the largest network and its elastic dimensions.
//
// An ArchSpec is plain data. Blocks() expands it into the per-block structure that the
// evolution, the reference forward pass, the trainer and the cost model all share, so that
// every part of the engine agrees on channel counts and tensor names.
#ifndef ADASPRING_ENGINE_ARCH_H_
#define ADASPRING_ENGINE_ARCH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace adaspring::engine {

enum class BlockKind { kBasic, kInverted };
enum class Activation { kRelu, kRelu6 };

struct StageSpec {
  int out_channels = 0;
  int num_blocks = 0;  // maximum depth of the stage
  int stride = 1;      // stride of the first block
  int expand_ratio = 1;  // inverted blocks only; 1 = no expand conv
};

struct ArchSpec {
  std::string name;
  int in_channels = 1, in_height = 28, in_width = 28;
  int num_classes = 10;
  int stem_channels = 16, stem_kernel = 3, stem_stride = 1;
  bool stem_max_pool = false;  // 3x3/2 max pooling after the stem (ResNet)
  BlockKind block_kind = BlockKind::kBasic;
  Activation activation = Activation::kRelu;
  std::vector<StageSpec> stages;
  int head_channels = 0;  // 1x1 conv before global pooling; 0 = none
  std::vector<int> width_percent = {25, 50, 75, 100};  // ascending
  std::vector<int> rank_divisors = {1, 2, 4};          // ascending; 1 = unfactorised
};

// One convolution of the supernet at its maximum size. Weights are OIHW
// ([out, in / groups, k, k]) under the tensor name `name + ".weight"`; its batch norm is
// `bn + ".{gamma,beta,mean,var}"` (see BlockSpec::bn_widths for the stats' shape).
struct ConvSpec {
  std::string name;  // e.g. "s1.b0.conv1"
  std::string bn;    // e.g. "s1.b0.bn1"
  int in_channels = 0, out_channels = 0;
  int kernel = 1, stride = 1, pad = 0;
  bool depthwise = false;  // groups == channels
  // Whether the input / output channel count follows the block's elastic width (a prefix of
  // the maximum). The conv's other side is fixed.
  bool in_elastic = false, out_elastic = false;
  // Activation applied after BN; false for the last conv of a block (before the residual add)
  // and for MobileNetV2's linear projection.
  bool act = true;
  // Eligible for low-rank factorisation (k x k conv -> k x k conv to r + 1 x 1 conv).
  bool factorisable = false;
};

struct BlockSpec {
  int stage = 0, index = 0;  // position: stage s, block b (block b runs iff b < depth[s])
  int global_index = 0;      // index over all blocks of the network
  BlockKind kind = BlockKind::kBasic;
  int in_channels = 0, out_channels = 0, stride = 1;
  int max_inner = 0;  // inner channels at 100% width
  // Inner channel count per width choice (parallel to ArchSpec::width_percent; rounded to a
  // multiple of 8 where the maximum allows, at least 8 or the maximum). Blocks whose inner
  // width is not elastic (MobileNetV2 blocks with t = 1) have a single choice.
  std::vector<int> inner_choices;
  std::vector<ConvSpec> convs;  // in execution order (the downsample conv is separate)
  bool has_downsample = false;  // 1x1 conv + BN on the shortcut (basic blocks)
  ConvSpec downsample;
  bool residual = false;  // output = f(x) + shortcut(x)
  // BN statistics of every BN inside the block are stored per width choice: mean/var tensors
  // have shape [inner_choices.size(), channels]; gamma/beta are [channels].
  int bn_widths = 1;
  int rank_choices = 1;  // number of rank choices (1 when no conv is factorisable)
};

// Everything outside the blocks.
struct NetSpec {
  ConvSpec stem;  // BN stats shape [1, channels]
  std::vector<BlockSpec> blocks;
  bool has_head_conv = false;
  ConvSpec head;  // BN stats shape [1, channels]
  int fc_in = 0;  // "fc.weight" [num_classes, fc_in], "fc.bias" [num_classes]
  int num_classes = 0;
};

absl::Status ValidateArch(const ArchSpec& arch);
NetSpec BuildNetSpec(const ArchSpec& arch);

// Built-in architectures: "smallres28" (Fashion-MNIST reference supernet), "resnet18",
// "mobilenetv2" (ImageNet shapes, 3x224x224). NOT_FOUND for other names.
absl::StatusOr<ArchSpec> BuiltinArch(std::string_view name);
std::vector<std::string> BuiltinArchNames();

// Rank r of a factorised conv at rank choice `rank_idx` (0 = full, unfactorised).
int FactorisedRank(const ConvSpec& conv, int out_channels, int in_channels, int divisor);

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_ARCH_H_
