// Training layers: oneDNN forward and backward primitives behind plain float buffers.
//
// Layout contract: activations are dense NHWC float32 ([n, h, w, c], channels innermost);
// conv weights are OIHW float32, possibly a strided slice of a larger tensor (a width prefix
// of the supernet's shared weights). Each layer object is built for ONE shape and creates its
// primitives once; the hot loop only executes. Weight layouts inside a conv are chosen by
// oneDNN (format_tag::any) and reordered from/to OIHW around each use.
//
// Gradients: Backward* functions ACCUMULATE parameter gradients into the caller's buffers
// (so the sandwich rule sums the gradients of several configurations) and OVERWRITE the
// data gradient (diff_src).
//
// Thread safety: a layer object is used by one thread at a time. oneDNN runs each primitive
// on the calling thread's OpenMP team (omp_set_num_threads). dnnl::error is turned into a
// crash with a message (CHECK semantics): shapes are fixed at construction, so an error here
// is a programming error, not a data error.
#ifndef ADASPRING_ENGINE_TRAIN_LAYERS_H_
#define ADASPRING_ENGINE_TRAIN_LAYERS_H_

#include <cstdint>
#include <functional>
#include <memory>

namespace adaspring::engine::train {

// OpenMP threads the calling thread's training primitives use (omp_set_num_threads).
// On a busy machine one thread avoids OpenMP barrier spinning against descheduled threads.
void SetTrainingThreads(int threads);

// A view of an OIHW weight slice: element (o, i, kh, kw) at
// data[o * o_stride + i * i_stride + kh * k + kw]. Dense [oc, ic, k, k] has
// o_stride = ic * k * k, i_stride = k * k.
struct WeightSlice {
  float* data = nullptr;
  int64_t o_stride = 0, i_stride = 0;
};

class Conv2d {
 public:
  // Square kernel `k`, symmetric padding `pad`, no bias.
  Conv2d(int n, int ic, int oc, int ih, int iw, int k, int stride, int pad);
  ~Conv2d();
  int oh() const;
  int ow() const;
  // Copies (reorders) the weights into the primitive's layout; call after every update.
  void SetWeights(const WeightSlice& w);
  void Forward(const float* src, float* dst);
  void BackwardData(const float* diff_dst, float* diff_src);
  // Accumulates d(loss)/d(weights) into `grad` (same slicing as the weights). `edit`, when
  // set, may change the dense [oc, ic, k, k] gradient first.
  void BackwardWeights(const float* src, const float* diff_dst, const WeightSlice& grad,
                       const std::function<void(float* dense)>& edit = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Batch normalisation over [n, h, w, c] with scale (gamma) and shift (beta), eps 1e-5,
// optionally fused with a following ReLU. Variance is the biased (population) variance.
class BatchNorm {
 public:
  BatchNorm(int n, int h, int w, int c, bool fuse_relu);
  ~BatchNorm();
  // Training mode: normalises with the batch statistics and writes them to mean/var [c].
  void ForwardTrain(const float* src, const float* gamma, const float* beta, float* dst,
                    float* mean, float* var);
  // Inference mode: normalises with the given statistics.
  void ForwardInference(const float* src, const float* gamma, const float* beta, const float* mean,
                        const float* var, float* dst);
  // After ForwardTrain on the same src: accumulates diff_gamma/diff_beta, writes diff_src.
  void Backward(const float* src, const float* diff_dst, const float* gamma, const float* mean,
                const float* var, float* diff_src, float* diff_gamma, float* diff_beta);
  // Training with given (frozen) statistics, as inference will normalise: the forward keeps
  // what its backward needs; the backward treats mean/var as constants (gradients reach
  // src, gamma and beta only). Used for blocks whose conv runs at a reduced rank.
  void ForwardFrozen(const float* src, const float* gamma, const float* beta, const float* mean,
                     const float* var, float* dst);
  void BackwardFrozen(const float* src, const float* diff_dst, const float* gamma,
                      const float* mean, const float* var, float* diff_src, float* diff_gamma,
                      float* diff_beta);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ReLU over `count` floats (in place allowed). Backward uses the forward's output.
class Relu {
 public:
  explicit Relu(int64_t count);
  ~Relu();
  void Forward(const float* src, float* dst);
  void Backward(const float* dst, const float* diff_dst, float* diff_src);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Global average pooling [n, h, w, c] -> [n, c].
class GlobalAvgPool {
 public:
  GlobalAvgPool(int n, int h, int w, int c);
  ~GlobalAvgPool();
  void Forward(const float* src, float* dst);
  void Backward(const float* diff_dst, float* diff_src);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fully connected: dst[n, out] = src[n, in] * weight[out, in]^T + bias[out].
class Linear {
 public:
  Linear(int n, int in, int out);
  ~Linear();
  void Forward(const float* src, const float* weight, const float* bias, float* dst);
  void BackwardData(const float* diff_dst, const float* weight, float* diff_src);
  // Accumulates into diff_weight [out, in] and diff_bias [out].
  void BackwardWeights(const float* src, const float* diff_dst, float* diff_weight,
                       float* diff_bias);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// dst[i] += src[i] (residual add; its backward is the identity on both inputs).
void AddInPlace(const float* src, float* dst, int64_t count);

// Mean softmax cross-entropy over n rows of `classes` logits. Writes d(loss)/d(logits)
// (already divided by n) to `diff` when non-null. Returns the loss.
double SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int n, int classes,
                           float* diff);
// Softmax of each row (the teacher's soft targets).
void Softmax(const float* logits, int n, int classes, float* probs);
// Mean KL(teacher || student) over n rows; `teacher_probs` are constants (no gradient).
// Writes d(loss)/d(student_logits) = (softmax(student) - teacher) / n when diff is non-null.
double KlDivergence(const float* student_logits, const float* teacher_probs, int n, int classes,
                    float* diff);
// Number of rows whose arg-max equals the label.
int CountCorrect(const float* logits, const int32_t* labels, int n, int classes);

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_TRAIN_LAYERS_H_
