// Losses on logits (tiny: [batch, classes]); plain loops in double for stable log-sum-exp.
#include <algorithm>
#include <cmath>
#include <vector>

#include "adaspring/engine/train/layers.h"

namespace adaspring::engine::train {

void Softmax(const float* logits, int n, int classes, float* probs) {
  for (int r = 0; r < n; ++r) {
    const float* x = logits + static_cast<int64_t>(r) * classes;
    float* p = probs + static_cast<int64_t>(r) * classes;
    const float mx = *std::max_element(x, x + classes);
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(x[c]) - mx);
    for (int c = 0; c < classes; ++c)
      p[c] = static_cast<float>(std::exp(static_cast<double>(x[c]) - mx) / sum);
  }
}

namespace {
// log-softmax of one row into `out` (double).
void LogSoftmaxRow(const float* x, int classes, double* out) {
  const double mx = *std::max_element(x, x + classes);
  double sum = 0;
  for (int c = 0; c < classes; ++c) sum += std::exp(x[c] - mx);
  const double lse = mx + std::log(sum);
  for (int c = 0; c < classes; ++c) out[c] = x[c] - lse;
}
}  // namespace

double SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int n, int classes,
                           float* diff) {
  double loss = 0;
  std::vector<double> ls_buf(static_cast<size_t>(classes));
  double* ls = ls_buf.data();
  for (int r = 0; r < n; ++r) {
    const float* x = logits + static_cast<int64_t>(r) * classes;
    LogSoftmaxRow(x, classes, ls);
    loss -= ls[labels[r]];
    if (diff != nullptr) {
      float* d = diff + static_cast<int64_t>(r) * classes;
      for (int c = 0; c < classes; ++c)
        d[c] = static_cast<float>((std::exp(ls[c]) - (c == labels[r] ? 1.0 : 0.0)) / n);
    }
  }
  return loss / n;
}

double KlDivergence(const float* student_logits, const float* teacher_probs, int n, int classes,
                    float* diff) {
  double loss = 0;
  std::vector<double> ls_buf(static_cast<size_t>(classes));
  double* ls = ls_buf.data();
  for (int r = 0; r < n; ++r) {
    const float* x = student_logits + static_cast<int64_t>(r) * classes;
    const float* t = teacher_probs + static_cast<int64_t>(r) * classes;
    LogSoftmaxRow(x, classes, ls);
    for (int c = 0; c < classes; ++c)
      if (t[c] > 0) loss += t[c] * (std::log(static_cast<double>(t[c])) - ls[c]);
    if (diff != nullptr) {
      float* d = diff + static_cast<int64_t>(r) * classes;
      for (int c = 0; c < classes; ++c) d[c] = static_cast<float>((std::exp(ls[c]) - t[c]) / n);
    }
  }
  return loss / n;
}

int CountCorrect(const float* logits, const int32_t* labels, int n, int classes) {
  int correct = 0;
  for (int r = 0; r < n; ++r) {
    const float* x = logits + static_cast<int64_t>(r) * classes;
    if (std::max_element(x, x + classes) - x == labels[r]) ++correct;
  }
  return correct;
}

}  // namespace adaspring::engine::train
