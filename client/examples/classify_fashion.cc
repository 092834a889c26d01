// classify_fashion: classifies Fashion-MNIST test images through adaspringd with the C++
// client library and prints accuracy and latency. Configuration changes the daemon makes while
// it runs (e.g. after 'adaspringctl override set --memory-available-mb 80') are printed live.
//
//   classify_fashion [--socket PATH] [--model NAME] [--count N] [--batch B] [--budget-ms MS]
//                    [--config TEXT] [--data DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "adaspring/client/client.h"
#include "adaspring/client/idx.h"

namespace {

struct Args {
  std::string socket, model = "smallres28", config, data = "/usr/share/datasets/fashion-mnist";
  int count = 1000, batch = 1;
  double budget_ms = 20;
};

// --help: the usage on stdout, exit 0; a usage error: on stderr, exit 2.
int Usage(bool help = false) {
  std::fprintf(help ? stdout : stderr,
               "usage: classify_fashion [--socket PATH] [--model NAME] [--count N] [--batch B]\n"
               "                        [--budget-ms MS] [--config TEXT] [--data DIR]\n"
               "Classifies the first N Fashion-MNIST test images (default 1000) through\n"
               "adaspringd, B images per request (default 1), and prints accuracy and latency.\n"
               "--data DIR holds t10k-{images-idx3,labels-idx1}-ubyte.gz (default\n"
               "/usr/share/datasets/fashion-mnist).\n");
  return help ? 0 : 2;
}

bool Parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h" || i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (k == "--socket") {
      a->socket = v;
    } else if (k == "--model") {
      a->model = v;
    } else if (k == "--count") {
      a->count = std::atoi(v.c_str());
    } else if (k == "--batch") {
      a->batch = std::atoi(v.c_str());
    } else if (k == "--budget-ms") {
      a->budget_ms = std::atof(v.c_str());
    } else if (k == "--config") {
      a->config = v;
    } else if (k == "--data") {
      a->data = v;
    } else {
      return false;
    }
  }
  return a->count > 0 && a->batch > 0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace ac = adaspring::client;
  Args args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") return Usage(true);
  }
  if (!Parse(argc, argv, &args)) return Usage();

  auto images = ac::ReadIdxImages(args.data + "/t10k-images-idx3-ubyte.gz");
  auto labels = ac::ReadIdxLabels(args.data + "/t10k-labels-idx1-ubyte.gz");
  if (!images.ok() || !labels.ok()) {
    std::fprintf(stderr, "classify_fashion: %s\n",
                 std::string((images.ok() ? labels.status() : images.status()).message()).c_str());
    return 2;
  }
  const int count = static_cast<int>(std::min<int64_t>(args.count, images->count));

  ac::ClientOptions copts;
  copts.socket_path = args.socket;  // empty: the default socket
  auto client = ac::Client::Connect(copts);
  if (!client.ok()) {
    std::fprintf(stderr, "classify_fashion: %s\n", std::string(client.status().message()).c_str());
    return 3;
  }
  ac::SessionOptions sopts;
  sopts.app_name = "classify_fashion";
  sopts.model = args.model;
  sopts.slo.latency_budget_us = static_cast<uint32_t>(args.budget_ms * 1000);
  sopts.pinned_configuration = args.config;
  auto session = (*client)->OpenSession(sopts);
  if (!session.ok()) {
    std::fprintf(stderr, "classify_fashion: %s\n", std::string(session.status().message()).c_str());
    return 1;
  }
  const ac::InputSpec& spec = (*session)->input_spec();
  if (spec.ElementsPerImage() != images->rows * images->cols) {
    std::fprintf(stderr, "classify_fashion: model %s does not take 28x28 gray images\n",
                 args.model.c_str());
    return 1;
  }
  std::printf("session %s on %s, configuration %s\n", (*session)->id().c_str(), args.model.c_str(),
              (*session)->configuration().text.c_str());
  // Print the daemon's configuration changes as they happen.
  auto watch = (*session)->Watch([](const ac::ConfigEvent& e) {
    if (e.reason == "initial") return;
    std::printf("  configuration -> %s (%s)\n", e.current.text.c_str(), e.reason.c_str());
  });

  std::vector<double> latency_ms;
  std::map<std::string, int> served_by;
  int correct = 0, failed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < count; i += args.batch) {
    const int n = std::min(args.batch, count - i);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = (*session)->InferPixels(images->image(i), n);
    const auto t1 = std::chrono::steady_clock::now();
    if (!r.ok()) {
      if (failed++ == 0) {
        std::fprintf(stderr, "classify_fashion: %s\n", std::string(r.status().message()).c_str());
      }
      continue;
    }
    latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    served_by[r->configuration] += n;
    for (int b = 0; b < n; ++b) correct += r->ArgMax(b) == (*labels)[i + b];
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  watch.reset();
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double q) {
    return latency_ms.empty() ? 0.0 : latency_ms[static_cast<size_t>(q * (latency_ms.size() - 1))];
  };
  std::printf("images %d, correct %d, accuracy %.2f%%, failed requests %d\n", count, correct,
              100.0 * correct / count, failed);
  std::printf("latency per request (%d image%s): p50 %.3f ms, p99 %.3f ms; %.0f images/s\n",
              args.batch, args.batch == 1 ? "" : "s", pct(0.5), pct(0.99), count / seconds);
  for (const auto& [config, n] : served_by) std::printf("  %6d images by %s\n", n, config.c_str());
  return failed == 0 ? 0 : 1;
}
