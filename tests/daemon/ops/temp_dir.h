// A temporary directory for one test, removed (recursively) when the object goes away.
#ifndef ADASPRING_TESTS_DAEMON_OPS_TEMP_DIR_H_
#define ADASPRING_TESTS_DAEMON_OPS_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace adaspring::daemon::ops_testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "adaspring-ops.XXXXXX");
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }
  std::string WriteFile(const std::string& name, const std::string& text) const {
    const std::string p = Sub(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  std::string path_;
};

}  // namespace adaspring::daemon::ops_testing

#endif  // ADASPRING_TESTS_DAEMON_OPS_TEMP_DIR_H_
