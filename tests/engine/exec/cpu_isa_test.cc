// The executor keeps oneDNN below AMX unless the operator set ONEDNN_MAX_CPU_ISA (why:
// CpuEngine in engine/src/exec/dnnl_util.h).
#include <gtest/gtest.h>

#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>

#include "adaspring/engine/arch.h"
#include "adaspring/engine/variant.h"

namespace adaspring::engine {
namespace {

TEST(CpuIsaTest, TheEngineNeverRunsAmxKernelsUnlessTheOperatorAsks) {
  if (std::getenv("ONEDNN_MAX_CPU_ISA") != nullptr || std::getenv("DNNL_MAX_CPU_ISA") != nullptr)
    GTEST_SKIP() << "the environment sets oneDNN's ISA";
  auto model = Model::Random(*BuiltinArch("smallres28"), 3);
  auto e = Evolver::Create(model);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE((*e)->Evolve(model->space().Full(Precision::kInt8)).ok());
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  EXPECT_NE(isa, dnnl::cpu_isa::avx512_core_amx);
  EXPECT_LE(static_cast<int>(isa), static_cast<int>(dnnl::cpu_isa::avx512_core_bf16));
}

}  // namespace
}  // namespace adaspring::engine
