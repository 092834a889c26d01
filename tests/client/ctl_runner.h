// Runs the adaspringctl binary of this build as a child process and captures its output.
#ifndef ADASPRING_TESTS_CLIENT_CTL_RUNNER_H_
#define ADASPRING_TESTS_CLIENT_CTL_RUNNER_H_

#include <string>
#include <vector>

namespace adaspring::testing {

struct CtlResult {
  int exit_code = -1;
  std::string out, err;
};

std::string CtlPath();  // ADASPRING_BINARY_DIR/client/adaspringctl
bool CtlBuilt();
// Runs `program args...` (no shell), with `stdin` closed; returns its exit code and output.
CtlResult RunProgram(const std::string& program, const std::vector<std::string>& args);
CtlResult RunCtl(const std::vector<std::string>& args);
// Output lines without the trailing newline.
std::vector<std::string> Lines(const std::string& text);

}  // namespace adaspring::testing

#endif  // ADASPRING_TESTS_CLIENT_CTL_RUNNER_H_
