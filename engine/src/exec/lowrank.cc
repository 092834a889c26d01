#include "exec/lowrank.h"

#include <Eigen/Dense>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>

namespace adaspring::engine::exec {

std::shared_ptr<const SvdFactors> ComputeSvd(const DenseConv& folded, int max_rank) {
  const int rows = folded.oc;
  const int cols = folded.ic_per_group * folded.kernel * folded.kernel;
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowMajor w(rows, cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) w(r, c) = folded.weights[static_cast<size_t>(r) * cols + c];
  Eigen::BDCSVD<Eigen::MatrixXd> svd(w, Eigen::ComputeThinU | Eigen::ComputeThinV);
  auto f = std::make_shared<SvdFactors>();
  f->oc = rows;
  f->ic = folded.ic_per_group;
  f->kernel = folded.kernel;
  f->full_rank = static_cast<int>(svd.singularValues().size());
  f->bias = folded.bias;
  const Eigen::VectorXd& s = svd.singularValues();
  f->singular.assign(s.data(), s.data() + s.size());
  const Eigen::MatrixXd& u = svd.matrixU();
  const Eigen::MatrixXd& v = svd.matrixV();
  const int fr = max_rank > 0 ? std::min(max_rank, f->full_rank) : f->full_rank;
  f->kept = fr;
  f->p.resize(static_cast<size_t>(rows) * fr);
  f->q.resize(static_cast<size_t>(fr) * cols);
  for (int j = 0; j < fr; ++j) {
    for (int r = 0; r < rows; ++r)
      f->p[static_cast<size_t>(r) * fr + j] = static_cast<float>(u(r, j) * s(j));
    for (int c = 0; c < cols; ++c)
      f->q[static_cast<size_t>(j) * cols + c] = static_cast<float>(v(c, j));
  }
  return f;
}

DenseConv FirstFactor(const SvdFactors& f, int rank) {
  DenseConv d;
  FirstFactorInto(f, rank, &d);
  return d;
}

void FirstFactorInto(const SvdFactors& f, int rank, DenseConv* d) {
  const size_t cols = static_cast<size_t>(f.ic) * f.kernel * f.kernel;
  d->oc = rank;
  d->ic_per_group = f.ic;
  d->kernel = f.kernel;
  d->weights.assign(f.q.begin(), f.q.begin() + rank * cols);  // rows are a prefix
  d->bias.clear();
}

DenseConv SecondFactor(const SvdFactors& f, int rank) {
  DenseConv d;
  SecondFactorInto(f, rank, &d);
  return d;
}

void SecondFactorInto(const SvdFactors& f, int rank, DenseConv* d) {
  d->oc = f.oc;
  d->ic_per_group = rank;
  d->kernel = 1;
  d->weights.resize(static_cast<size_t>(f.oc) * rank);
  for (int o = 0; o < f.oc; ++o)
    for (int j = 0; j < rank; ++j)
      d->weights[static_cast<size_t>(o) * rank + j] = f.p[static_cast<size_t>(o) * f.kept + j];
  d->bias = f.bias;
}

DenseConv Truncated(const SvdFactors& f, int rank) {
  const size_t cols = static_cast<size_t>(f.ic) * f.kernel * f.kernel;
  DenseConv d;
  d.oc = f.oc;
  d.ic_per_group = f.ic;
  d.kernel = f.kernel;
  d.weights.assign(static_cast<size_t>(f.oc) * cols, 0.f);
  for (int o = 0; o < f.oc; ++o) {
    for (size_t c = 0; c < cols; ++c) {
      double acc = 0;
      for (int j = 0; j < rank; ++j)
        acc += static_cast<double>(f.p[o * f.kept + j]) * f.q[j * cols + c];
      d.weights[o * cols + c] = static_cast<float>(acc);
    }
  }
  d.bias = f.bias;
  return d;
}

}  // namespace adaspring::engine::exec
