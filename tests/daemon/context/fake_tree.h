// Fake sysfs/procfs trees for context tests: a board is a few readable lines of path ->
// content, written into a fresh temporary directory.
#ifndef ADASPRING_TESTS_DAEMON_CONTEXT_FAKE_TREE_H_
#define ADASPRING_TESTS_DAEMON_CONTEXT_FAKE_TREE_H_

#include <map>
#include <string>

namespace adaspring::context::testing {

using TreeTable = std::map<std::string, std::string>;

// A temporary directory holding files from a table; removed on destruction. A path ending in
// '/' creates an empty directory.
class FakeTree {
 public:
  explicit FakeTree(const TreeTable& table = {});
  ~FakeTree();
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  const std::string& root() const { return root_; }
  // Writes (or overwrites) files; parent directories are created.
  void Write(const TreeTable& table);
  void Remove(const std::string& path);

 private:
  std::string root_;
};

// Boards, as DESIGN.md's test matrix names them.
// Intel laptop: RAPL package (root-readable), two thermal zones, a battery at 57 % on
// mains, cgroup v2 with memory.max 2 GiB, /proc with PSI, 4 CPUs with cpufreq.
TreeTable IntelLaptop();
// ARM board: INA3221 (three rails, VDD_IN 5.0 V x 1.2 A) and an INA219 power meter, thermal,
// no RAPL, no battery, cgroup v2 with memory.max "max".
TreeTable ArmBoard();
// Server VM: only /proc (meminfo, stat, pressure) and cgroup v1 memory with the "unlimited"
// value; no /sys/class at all.
TreeTable ServerVm();

}  // namespace adaspring::context::testing

#endif  // ADASPRING_TESTS_DAEMON_CONTEXT_FAKE_TREE_H_
