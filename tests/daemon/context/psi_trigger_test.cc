#include "context/psi_trigger.h"

#include <memory>

#include "context/faulty_file_system.h"
#include "context/real_file_system.h"
#include "daemon/context/fake_tree.h"
#include "gtest/gtest.h"

namespace adaspring::context {
namespace {

TEST(PsiTriggerTest, UnprivilegedSpecRoundsTheWindowUp) {
  EXPECT_EQ(UnprivilegedTriggerSpec("some 150000 1000000"), "some 300000 2000000");
  EXPECT_EQ(UnprivilegedTriggerSpec("full 100000 3000000"), "full 133333 4000000");
  EXPECT_EQ(UnprivilegedTriggerSpec("some 150000 2000000"), std::nullopt);  // already fine
  EXPECT_EQ(UnprivilegedTriggerSpec("sometimes 1 2"), std::nullopt);
  EXPECT_EQ(UnprivilegedTriggerSpec("some x 1000000"), std::nullopt);
}

TEST(PsiTriggerTest, FakeTreeFilesAreNotTriggers) {
  testing::FakeTree tree(testing::ServerVm());
  RealFileSystem fs(tree.root());
  absl::StatusOr<ArmedPsiTrigger> armed =
      ArmPsiTrigger(fs, "/proc/pressure/memory", "some 150000 1000000");
  ASSERT_FALSE(armed.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(armed.status())) << armed.status();
  // Nothing was written into the fake file.
  absl::StatusOr<std::string> content = fs.ReadFile("/proc/pressure/memory");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(content->rfind("some avg10=", 0), 0u);
}

TEST(PsiTriggerTest, RefusedTriggerReportsTheKernelError) {
  testing::FakeTree tree(testing::ServerVm());
  FaultyFileSystem fs(std::make_shared<RealFileSystem>(tree.root()));
  fs.Inject("/proc/pressure/*", Fault::kPermissionDenied);
  absl::StatusOr<ArmedPsiTrigger> denied =
      ArmPsiTrigger(fs, "/proc/pressure/memory", "some 150000 1000000");
  EXPECT_TRUE(absl::IsPermissionDenied(denied.status()));
  fs.ClearFaults();
  fs.Inject("/proc/pressure/*", Fault::kInvalidArgument);
  absl::StatusOr<ArmedPsiTrigger> invalid =
      ArmPsiTrigger(fs, "/proc/pressure/memory", "some 150000 1000000");
  EXPECT_TRUE(absl::IsInvalidArgument(invalid.status())) << invalid.status();
}

}  // namespace
}  // namespace adaspring::context
