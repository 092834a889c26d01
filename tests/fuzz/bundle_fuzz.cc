// libFuzzer target for the bundle reader. Any input must give either a clean error or a model;
// an accepted model must also survive the writer and read back to the same bytes (the reader
// and writer agree on what a valid bundle is).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adaspring/engine/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace adaspring::engine;  // NOLINT
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto model = ParseBundle(bytes, "fuzz.asb");
  if (!model.ok()) {
    const std::string msg(model.status().message());
    if (msg.rfind("fuzz.asb: ", 0) != 0) std::abort();  // every error names the file
    return 0;
  }
  auto again = SerializeBundle(**model);
  if (!again.ok()) std::abort();
  auto reread = ParseBundle(*again, "fuzz2.asb");
  if (!reread.ok()) std::abort();
  auto third = SerializeBundle(**reread);
  if (!third.ok() || *third != *again) std::abort();
  return 0;
}
