#include "exec/dnnl_util.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "adaspring/engine/variant.h"

namespace adaspring::engine::exec {

namespace {

void LimitCpuIsa() {
  if (std::getenv("ONEDNN_MAX_CPU_ISA") != nullptr || std::getenv("DNNL_MAX_CPU_ISA") != nullptr)
    return;  // the operator's choice
  try {
    dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx512_core_bf16);
  } catch (const dnnl::error&) {
    // Too late: a primitive was created before (oneDNN then keeps its own choice).
  }
}

}  // namespace

dnnl::engine& CpuEngine() {
  static dnnl::engine* engine = [] {
    LimitCpuIsa();
    return new dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return *engine;
}

int ResolveThreads(int threads) { return threads > 0 ? threads : omp_get_num_procs(); }

dnnl::memory::desc ActivationMd(int batch, int c, int h, int w, dnnl::memory::data_type dt,
                                ActLayout layout) {
  using tag = dnnl::memory::format_tag;
  return dnnl::memory::desc({batch, c, h, w}, dt,
                            layout == ActLayout::kBlocked16 ? tag::nChw16c : tag::nhwc);
}

absl::Status FromDnnl(const dnnl::error& e, const std::string& what) {
  return absl::InternalError(absl::StrCat("oneDNN error in ", what, ": ", e.what(), " (status ",
                                          static_cast<int>(e.status), ")"));
}

}  // namespace adaspring::engine::exec

namespace adaspring::engine {

void DropKernelCache() {
  const int capacity = dnnl::get_primitive_cache_capacity();
  dnnl::set_primitive_cache_capacity(0);  // evicts every entry
  dnnl::set_primitive_cache_capacity(capacity);
}

}  // namespace adaspring::engine
