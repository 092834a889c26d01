// adaspring-bench: benchmarks with one JSON object per line (--json). Each subcommand lives in
// its own bench_<name>.cc and registers itself with ADASPRING_BENCH.
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_registry.h"

int main(int argc, char** argv) {
  auto& reg = adaspring::bench::Registry();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::printf("usage: adaspring-bench COMMAND [OPTIONS] [--json]\n\ncommands:\n");
    for (const auto& [name, entry] : reg) std::printf("  %-10s %s\n", name.c_str(), entry.help);
    std::printf("\nRun 'adaspring-bench COMMAND --help' for a command's options.\n");
    return argc < 2 ? 2 : 0;
  }
  auto it = reg.find(argv[1]);
  if (it == reg.end()) {
    std::fprintf(stderr, "adaspring-bench: unknown command '%s' (try --help)\n", argv[1]);
    return 2;
  }
  return it->second.fn(argc - 1, argv + 1);
}
