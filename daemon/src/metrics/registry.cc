#include "metrics/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace adaspring::daemon::metrics {
namespace {

bool IsValidMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsValidLabelName(const std::string& name) {
  return IsValidMetricName(name) && name.find(':') == std::string::npos &&
         name.rfind("__", 0) != 0;  // "__" prefixed names are reserved by Prometheus
}

void Die(const std::string& what) {
  std::fprintf(stderr, "adaspringd: metrics registry: %s\n", what.c_str());
  std::abort();
}

void AppendEscapedLabelValue(const std::string& value, std::string* out) {
  for (char c : value) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Integers (counts, bytes) exactly and without exponent, up to 2^53.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  // Prefer the shortest text that reads back exactly (0.1 rather than 0.10000000000000001).
  for (int precision = 6; precision < 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof(shorter), "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buffer;
}

// ---- Histogram ----

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1)) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  const std::vector<double>& b = *bounds_;
  // Bucket i counts values <= b[i]; NaN goes to +Inf only.
  size_t index = b.size();
  if (!std::isnan(value)) {
    index = static_cast<size_t>(std::lower_bound(b.begin(), b.end(), value) - b.begin());
  }
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::TakeSnapshot() const {
  Snapshot snapshot;
  snapshot.cumulative.resize(bounds_->size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative[i] = running;
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

// ---- families ----

std::string FamilyBase::LabelText(const std::vector<std::string>& values,
                                  const std::string& extra) const {
  if (label_names_.empty() && extra.empty()) return "";
  std::string text = "{";
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (i > 0) text.push_back(',');
    absl::StrAppend(&text, label_names_[i], "=\"");
    AppendEscapedLabelValue(values[i], &text);
    text.push_back('"');
  }
  if (!extra.empty()) {
    if (!label_names_.empty()) text.push_back(',');
    text.append(extra);
  }
  text.push_back('}');
  return text;
}

void FamilyBase::RenderHeader(std::string* out) const {
  std::string help;
  for (char c : help_) {
    if (c == '\\') {
      help.append("\\\\");
    } else if (c == '\n') {
      help.append("\\n");
    } else {
      help.push_back(c);
    }
  }
  absl::StrAppend(out, "# HELP ", name_, " ", help, "\n# TYPE ", name_, " ", type(), "\n");
}

template <>
void Family<Counter>::Render(std::string* out) const {
  RenderHeader(out);
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, counter] : series_) {
    absl::StrAppend(out, name_, LabelText(labels, ""), " ", counter->value(), "\n");
  }
}

template <>
void Family<Gauge>::Render(std::string* out) const {
  RenderHeader(out);
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, gauge] : series_) {
    absl::StrAppend(out, name_, LabelText(labels, ""), " ", FormatSampleValue(gauge->value()),
                    "\n");
  }
}

template <>
void Family<Histogram>::Render(std::string* out) const {
  RenderHeader(out);
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, histogram] : series_) {
    const Histogram::Snapshot s = histogram->TakeSnapshot();
    const std::vector<double>& bounds = histogram->bounds();
    for (size_t i = 0; i <= bounds.size(); ++i) {
      const std::string le = i < bounds.size() ? FormatSampleValue(bounds[i]) : std::string("+Inf");
      absl::StrAppend(out, name_, "_bucket", LabelText(labels, absl::StrCat("le=\"", le, "\"")),
                      " ", s.cumulative[i], "\n");
    }
    const std::string label_text = LabelText(labels, "");
    absl::StrAppend(out, name_, "_sum", label_text, " ", FormatSampleValue(s.sum), "\n");
    absl::StrAppend(out, name_, "_count", label_text, " ", s.count, "\n");
  }
}

// ---- Registry ----

FamilyBase* Registry::Find(const std::string& name) const {
  for (const auto& family : families_) {
    if (family->name() == name) return family.get();
  }
  return nullptr;
}

namespace {
void CheckNames(const std::string& name, const std::vector<std::string>& label_names) {
  if (!IsValidMetricName(name)) Die(absl::StrCat("invalid metric name \"", name, "\""));
  for (const std::string& label : label_names) {
    if (!IsValidLabelName(label) || label == "le") {
      Die(absl::StrCat("invalid label name \"", label, "\" for ", name));
    }
  }
}

template <typename F>
F& GetOrAdd(std::vector<std::unique_ptr<FamilyBase>>& families, FamilyBase* existing,
            const std::string& name, const std::vector<std::string>& label_names,
            std::unique_ptr<F> created) {
  if (existing != nullptr) {
    F* same = dynamic_cast<F*>(existing);
    if (same == nullptr || same->label_names() != label_names) {
      Die(absl::StrCat("metric \"", name, "\" registered twice with different type or labels"));
    }
    return *same;
  }
  F& ref = *created;
  families.push_back(std::move(created));
  return ref;
}
}  // namespace

CounterFamily& Registry::AddCounter(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  CheckNames(name, label_names);
  absl::MutexLock lock(&mu_);
  return GetOrAdd(
      families_, Find(name), name, label_names,
      std::make_unique<CounterFamily>(
          name, help, label_names, [] { return std::make_unique<Counter>(); }, "counter"));
}

GaugeFamily& Registry::AddGauge(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names) {
  CheckNames(name, label_names);
  absl::MutexLock lock(&mu_);
  return GetOrAdd(families_, Find(name), name, label_names,
                  std::make_unique<GaugeFamily>(
                      name, help, label_names, [] { return std::make_unique<Gauge>(); }, "gauge"));
}

HistogramFamily& Registry::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bucket_bounds) {
  CheckNames(name, label_names);
  std::sort(bucket_bounds.begin(), bucket_bounds.end());
  bucket_bounds.erase(std::unique(bucket_bounds.begin(), bucket_bounds.end()), bucket_bounds.end());
  // +Inf is implicit; an explicit one would be a duplicate bucket.
  while (!bucket_bounds.empty() && std::isinf(bucket_bounds.back())) bucket_bounds.pop_back();
  auto bounds = std::make_shared<const std::vector<double>>(std::move(bucket_bounds));
  absl::MutexLock lock(&mu_);
  return GetOrAdd(families_, Find(name), name, label_names,
                  std::make_unique<HistogramFamily>(
                      name, help, label_names,
                      [bounds] { return std::make_unique<Histogram>(bounds); }, "histogram"));
}

void Registry::AddCollectHook(std::function<void()> hook) {
  absl::MutexLock lock(&mu_);
  hooks_.push_back(std::move(hook));
}

std::string Registry::Render() const {
  std::vector<std::function<void()>> hooks;
  std::vector<const FamilyBase*> families;
  {
    absl::MutexLock lock(&mu_);
    hooks = hooks_;
    for (const auto& family : families_) families.push_back(family.get());
  }
  // Hooks run without the registry lock: they update gauges, which may look up series.
  for (const auto& hook : hooks) hook();
  std::string out;
  out.reserve(4096);
  for (const FamilyBase* family : families) family->Render(&out);
  return out;
}

}  // namespace adaspring::daemon::metrics
