// Registry of adaspring-bench subcommands. A subcommand is a function taking (argc, argv) with
// argv[0] = its name, returning the process exit code.
#ifndef ADASPRING_CLIENT_BENCH_BENCH_REGISTRY_H_
#define ADASPRING_CLIENT_BENCH_BENCH_REGISTRY_H_

#include <map>
#include <string>

namespace adaspring::bench {

using BenchFn = int (*)(int argc, char** argv);
struct BenchEntry {
  const char* help;
  BenchFn fn;
};

inline std::map<std::string, BenchEntry>& Registry() {
  static std::map<std::string, BenchEntry> registry;
  return registry;
}

struct BenchRegistrar {
  BenchRegistrar(const char* name, const char* help, BenchFn fn) {
    Registry()[name] = BenchEntry{help, fn};
  }
};

#define ADASPRING_BENCH(name, help, fn) \
  static ::adaspring::bench::BenchRegistrar bench_registrar_##fn(name, help, fn)

}  // namespace adaspring::bench

#endif  // ADASPRING_CLIENT_BENCH_BENCH_REGISTRY_H_
