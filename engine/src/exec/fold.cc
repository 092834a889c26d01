#include "exec/fold.h"

#include <cmath>

#include "adaspring/engine/variant.h"
#include "exec/vector_clones.h"

namespace adaspring::engine::exec {

DenseConv FoldConv(const Model& model, const ConvSpec& conv, int bn_row, int out, int in) {
  DenseConv d;
  FoldConvInto(model, conv, bn_row, out, in, &d);
  return d;
}

ADASPRING_VECTOR_CLONES void FoldConvInto(const Model& model, const ConvSpec& conv, int bn_row,
                                          int out, int in, DenseConv* dp) {
  DenseConv& d = *dp;
  const int k2 = conv.kernel * conv.kernel;
  const int max_in = conv.depthwise ? 1 : conv.in_channels;
  const int ipg = conv.depthwise ? 1 : in;
  const float* w = model.Data(conv.name + ".weight");
  const float* gamma = model.Data(conv.bn + ".gamma");
  const float* beta = model.Data(conv.bn + ".beta");
  const float* mean =
      model.Data(conv.bn + ".mean") + static_cast<int64_t>(bn_row) * conv.out_channels;
  const float* var =
      model.Data(conv.bn + ".var") + static_cast<int64_t>(bn_row) * conv.out_channels;
  d.oc = out;
  d.ic_per_group = ipg;
  d.kernel = conv.kernel;
  d.weights.resize(static_cast<size_t>(out) * ipg * k2);
  d.bias.resize(out);
  for (int o = 0; o < out; ++o) {
    // Double for the fold so that the f32 result is the correctly rounded product.
    const double scale = gamma[o] / std::sqrt(static_cast<double>(var[o]) + kBnEpsilon);
    const float* src = w + static_cast<int64_t>(o) * max_in * k2;
    float* dst = d.weights.data() + static_cast<int64_t>(o) * ipg * k2;
    for (int i = 0; i < ipg * k2; ++i) dst[i] = static_cast<float>(src[i] * scale);
    d.bias[o] = static_cast<float>(beta[o] - mean[o] * scale);
  }
}

DenseConv FcWeights(const Model& model) {
  const NetSpec& net = model.net();
  DenseConv d;
  d.oc = net.num_classes;
  d.ic_per_group = net.fc_in;
  d.kernel = 1;
  const float* w = model.Data("fc.weight");
  const float* b = model.Data("fc.bias");
  d.weights.assign(w, w + static_cast<int64_t>(net.num_classes) * net.fc_in);
  d.bias.assign(b, b + net.num_classes);
  return d;
}

}  // namespace adaspring::engine::exec
