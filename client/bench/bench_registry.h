// Registry of adaspring-bench subcommands. A subcommand is a function taking (argc, argv) with
// argv[0] = its name, returning the process exit code (2 for usage errors).
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

// Parses a command's options (in a function returning the exit code): --help returns 0, a
// usage error prints CLI11's message and returns 2 (CLI11's own codes are 100 and up).
#define ADASPRING_BENCH_PARSE(app, argc, argv) \
  try {                                        \
    (app).parse((argc), (argv));               \
  } catch (const CLI::ParseError& e) {         \
    return (app).exit(e) == 0 ? 0 : 2;         \
  }

}  // namespace adaspring::bench

#endif  // ADASPRING_CLIENT_BENCH_BENCH_REGISTRY_H_
