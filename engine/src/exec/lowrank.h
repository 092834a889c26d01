// Low-rank factorisation of a sliced, BN-folded conv from its SVD.
//
// W [oc, ic*k*k] = U S V^T. With P = U S and Q = V^T, the rank-r network is a k x k conv
// with weights Q[:r] ([r, ic, k, k], no bias) followed by a 1 x 1 conv with weights
// P[:, :r] ([oc, r, 1, 1]) and the folded bias. S goes entirely into P so that every
// intermediate channel is a unit-norm projection of the input: the channels then share one
// range, which the per-tensor int8 activation scale needs (with sqrt(S) on both sides the
// first channels would dominate the range and the rest would lose their precision). Singular values
// are sorted, so every rank is a prefix of one SVD: the evolver computes it once per (conv, width)
// and slices.
#ifndef ADASPRING_ENGINE_SRC_EXEC_LOWRANK_H_
#define ADASPRING_ENGINE_SRC_EXEC_LOWRANK_H_

#include <memory>
#include <vector>

#include "fold.h"  // relative: also included by tests/engine/exec

namespace adaspring::engine::exec {

struct SvdFactors {
  int oc = 0, ic = 0, kernel = 1, full_rank = 0;
  int kept = 0;                  // leading singular directions stored (<= full_rank)
  std::vector<float> p;          // [oc, kept]   U S
  std::vector<float> q;          // [kept, ic*k*k]  V^T
  std::vector<float> bias;       // [oc]
  std::vector<double> singular;  // all full_rank values, descending
};

// Thin SVD (Eigen BDCSVD, in double). `folded` must be a non-grouped conv. Only the first
// `max_rank` directions are stored when 0 < max_rank < full rank: the evolver never factorises
// above the rank of the smallest divisor > 1, and storing the rest doubled the memory.
std::shared_ptr<const SvdFactors> ComputeSvd(const DenseConv& folded, int max_rank = 0);

// The two factors at rank r (1 <= r <= kept).
DenseConv FirstFactor(const SvdFactors& f, int rank);
DenseConv SecondFactor(const SvdFactors& f, int rank);
// The same into `*d`, reusing its vectors' capacity.
void FirstFactorInto(const SvdFactors& f, int rank, DenseConv* d);
void SecondFactorInto(const SvdFactors& f, int rank, DenseConv* d);
// W_r = P[:, :r] Q[:r] as one dense conv with the bias (for the reference forward pass).
DenseConv Truncated(const SvdFactors& f, int rank);

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_LOWRANK_H_
