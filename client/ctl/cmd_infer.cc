// adaspringctl infer: classify images through the daemon with the client library.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "adaspring/client/client.h"
#include "commands.h"
#include "image_input.h"
#include "json_proto.h"
#include "rpc.h"
#include "table.h"

namespace adaspring::ctl {
namespace {

// Images per request: large enough to amortise the call, and within the daemon's batch limit
// (limits.max_batch, 32 by default; a daemon configured below 8 rejects the call).
constexpr int64_t kMaxBatch = 8;

struct Scored {
  int index;
  float score;
};

std::vector<Scored> TopK(const float* logits, int64_t classes, int k) {
  const float mx = *std::max_element(logits, logits + classes);
  std::vector<Scored> all(static_cast<size_t>(classes));
  double sum = 0;
  for (int64_t c = 0; c < classes; ++c) {
    all[c] = {static_cast<int>(c), std::exp(logits[c] - mx)};
    sum += all[c].score;
  }
  for (auto& s : all) s.score = static_cast<float>(s.score / sum);
  const size_t n = std::min<size_t>(all.size(), static_cast<size_t>(std::max(k, 1)));
  std::partial_sort(all.begin(), all.begin() + n, all.end(),
                    [](const Scored& a, const Scored& b) { return a.score > b.score; });
  all.resize(n);
  return all;
}

std::string LabelName(const std::vector<std::string>& labels, int i) {
  return i >= 0 && i < static_cast<int>(labels.size()) ? labels[i] : std::to_string(i);
}

}  // namespace

int CmdInfer(const GlobalOptions& g, const InferOptions& o) {
  client::ClientOptions copts;
  copts.socket_path = AppSocket(g);
  copts.connect_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(std::min(g.timeout_s, 3.0) * 1000));
  copts.backoff.give_up_after = std::chrono::milliseconds(0);  // a CLI should fail fast
  auto cl = client::Client::Connect(copts);
  if (!cl.ok()) return Fail(cl.status());

  // Before a session is opened: a device, a FIFO or a huge file is refused without reading it.
  if (auto input = CheckInputFile(o.input, "--input"); !input.ok()) {
    return UsageError(std::string(input.message()));
  }
  if (!o.labels.empty()) {
    if (auto labels = CheckInputFile(o.labels, "--labels"); !labels.ok()) {
      return UsageError(std::string(labels.message()));
    }
  }

  client::SessionOptions sopts;
  sopts.app_name = o.app;
  sopts.model = o.model;
  sopts.slo.latency_budget_us = static_cast<uint32_t>(std::llround(o.budget_ms * 1000));
  sopts.pinned_configuration = o.pin;
  auto session = (*cl)->OpenSession(sopts);
  if (!session.ok()) return Fail(session.status());
  const client::InputSpec& spec = (*session)->input_spec();
  if (spec.shape.size() != 3) {
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        "model ", o.model, " does not take CHW images (input rank ", spec.shape.size(), ")")));
  }
  auto images = LoadImages(o.input, o.index, o.count, static_cast<int>(spec.shape[0]), o.labels);
  if (!images.ok()) return UsageError(std::string(images.status().message()));
  if (images->rows != spec.shape[1] || images->cols != spec.shape[2]) {
    return UsageError(absl::StrCat(o.input, ": images are ", images->rows, "x", images->cols,
                                   ", model ", o.model, " takes ", spec.shape[1], "x",
                                   spec.shape[2]));
  }

  const int64_t per_image = spec.ElementsPerImage();
  Json rows = Json::array();
  Table table({"IMAGE", "PREDICTED", "SCORE", "EXPECTED", "TOP-K"},
              {true, false, true, false, false});
  int64_t correct = 0;
  std::string config_text;
  uint64_t config_id = 0;
  uint64_t queue_us = 0, compute_us = 0;
  double round_trip_ms = 0;
  int requests = 0;
  for (int64_t start = 0; start < images->count; start += kMaxBatch) {
    const int64_t n = std::min(kMaxBatch, images->count - start);
    const auto t0 = std::chrono::steady_clock::now();
    auto r =
        (*session)->InferPixels(images->pixels.data() + start * per_image, static_cast<int>(n), 0);
    round_trip_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) return Fail(r.status());
    ++requests;
    config_text = r->configuration;
    config_id = r->configuration_id;
    queue_us += r->queue_us;
    compute_us += r->compute_us;
    for (int64_t b = 0; b < n; ++b) {
      const auto top = TopK(r->logits.data() + b * r->classes, r->classes, o.top_k);
      const int64_t i = start + b;
      const bool has_label = !images->labels.empty();
      const int expected = has_label ? images->labels[i] : -1;
      const bool ok = has_label && expected == top[0].index;
      correct += ok;
      Json topj = Json::array();
      std::string tops;
      for (const auto& s : top) {
        topj.push_back(
            {{"index", s.index}, {"label", LabelName(spec.labels, s.index)}, {"score", s.score}});
        absl::StrAppend(&tops, tops.empty() ? "" : ", ", LabelName(spec.labels, s.index), " ",
                        FormatFixed(s.score, 3));
      }
      rows.push_back({{"index", images->first_index + i},
                      {"label_index", top[0].index},
                      {"label", LabelName(spec.labels, top[0].index)},
                      {"score", top[0].score},
                      {"expected_index", has_label ? Json(expected) : Json(nullptr)},
                      {"expected", has_label ? Json(LabelName(spec.labels, expected)) : Json()},
                      {"correct", has_label ? Json(ok) : Json(nullptr)},
                      {"top_k", topj}});
      table.AddRow(
          {std::to_string(images->first_index + i), LabelName(spec.labels, top[0].index),
           FormatFixed(top[0].score, 3),
           has_label ? absl::StrCat(LabelName(spec.labels, expected), ok ? "" : "  (wrong)") : "-",
           tops});
    }
  }
  (void)(*session)->Close();
  const bool labelled = !images->labels.empty();
  if (g.json) {
    Json j = {
        {"model", o.model},
        {"configuration", config_text},
        {"configuration_id", config_id},
        {"images", rows},
        {"total", images->count},
        {"correct", labelled ? Json(correct) : Json(nullptr)},
        {"accuracy", labelled ? Json(static_cast<double>(correct) / images->count) : Json(nullptr)},
        {"requests", requests},
        {"queue_us_mean", static_cast<double>(queue_us) / requests},
        {"compute_us_mean", static_cast<double>(compute_us) / requests},
        {"round_trip_ms_mean", round_trip_ms / requests}};
    PrintJsonLine(std::cout, j);
    return kExitOk;
  }
  table.Print(std::cout);
  std::cout << "\nconfiguration  " << config_text << " (id " << config_id << ")\n";
  if (labelled) {
    std::cout << "accuracy       " << correct << "/" << images->count << " ("
              << FormatPercent(static_cast<double>(correct) / images->count, 1) << ")\n";
  }
  std::cout << "per request    queue " << queue_us / requests << " us, compute "
            << compute_us / requests << " us, round trip "
            << FormatFixed(round_trip_ms / requests, 2) << " ms (" << requests
            << (requests == 1 ? " request" : " requests") << " of up to " << kMaxBatch
            << " images)\n";
  return kExitOk;
}

}  // namespace adaspring::ctl
