// libFuzzer target for the daemon's TOML configuration (daemon/src/config/config_loader.h).
// Any text must give either INVALID_ARGUMENT starting with the origin, or a config
// that passes ValidateConfig and survives DumpConfig -> ParseConfig unchanged (the round trip
// the header promises for every valid config). CheckPaths is not run: it stats the paths a
// fuzzed config names, which depends on the machine and not on the parser.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "config/config_loader.h"

namespace {

using adaspring::daemon::DaemonConfig;

// Says which promise broke (the reproducer alone does not) and stops the run.
[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// A parse error starts with the origin ("fuzz.toml: ..." or "fuzz.toml:3:1: ..."). Only the
// first line is checked: the header promises one problem per line, but a TOML syntax error
// embeds the offending character raw (it may be a newline) and unknown keys are echoed
// unescaped (a quoted key may hold "\n"), so later lines need not start with the origin
// (reported with the fuzzing results of issue 11; tighten this once they are escaped).
bool StartsWithOrigin(const absl::Status& status, const std::string& origin) {
  return absl::StartsWith(status.message(), origin + ":");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace adaspring::daemon;  // NOLINT
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<DaemonConfig> config = ParseConfig(text, "fuzz.toml");
  if (!config.ok()) {
    if (config.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("error is not INVALID_ARGUMENT", config.status().ToString());
    }
    if (!StartsWithOrigin(config.status(), "fuzz.toml")) {
      Fail("the error does not start with the origin", config.status().ToString());
    }
    return 0;
  }
  // ParseConfig validated it already.
  if (absl::Status s = ValidateConfig(*config); !s.ok()) Fail("accepted but invalid", s.ToString());
  const std::string dumped = DumpConfig(*config);
  absl::StatusOr<DaemonConfig> again = ParseConfig(dumped, "dump.toml");
  if (!again.ok()) Fail("the dump does not parse", again.status().ToString() + "\n" + dumped);
  if (!(*again == *config)) Fail("the dump reads back different", dumped);
  if (!ChangedKeys(*config, *again).empty()) Fail("ChangedKeys of equal configs", dumped);
  // The SIGHUP diff against the defaults: every restart-only key is also a changed key.
  const DaemonConfig defaults = DefaultConfig(config->mode == "user");
  const auto changed = ChangedKeys(defaults, *config);
  for (const std::string& key : RestartRequiredKeys(defaults, *config)) {
    bool found = false;
    for (const std::string& c : changed) found = found || c == key;
    if (!found) Fail("a restart-required key is not a changed key", key);
  }
  return 0;
}
