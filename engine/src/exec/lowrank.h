// Low-rank factorisation of a sliced, BN-folded conv from its SVD.
//
// W [oc, ic*k*k] = U S V^T. With P = U sqrt(S) and Q = sqrt(S) V^T, the rank-r network is a
// k x k conv with weights Q[:r] ([r, ic, k, k], no bias) followed by a 1 x 1 conv with
// weights P[:, :r] ([oc, r, 1, 1]) and the folded bias. Singular values are sorted, so every
// rank is a prefix of one SVD: the evolver computes it once per (conv, width) and slices.
#ifndef ADASPRING_ENGINE_SRC_EXEC_LOWRANK_H_
#define ADASPRING_ENGINE_SRC_EXEC_LOWRANK_H_

#include <memory>
#include <vector>

#include "fold.h"  // relative: also included by tests/engine/exec

namespace adaspring::engine::exec {

struct SvdFactors {
  int oc = 0, ic = 0, kernel = 1, full_rank = 0;
  std::vector<float> p;         // [oc, full_rank]   U sqrt(S)
  std::vector<float> q;         // [full_rank, ic*k*k]  sqrt(S) V^T
  std::vector<float> bias;      // [oc]
  std::vector<double> singular;  // descending
};

// Thin SVD (Eigen BDCSVD, in double). `folded` must be a non-grouped conv.
std::shared_ptr<const SvdFactors> ComputeSvd(const DenseConv& folded);

// The two factors at rank r (1 <= r <= full_rank).
DenseConv FirstFactor(const SvdFactors& f, int rank);
DenseConv SecondFactor(const SvdFactors& f, int rank);
// W_r = P[:, :r] Q[:r] as one dense conv with the bias (for the reference forward pass).
DenseConv Truncated(const SvdFactors& f, int rank);

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_LOWRANK_H_
