#include "models/model_registry.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adaspring/engine/predictor.h"

namespace adaspring::daemon {
namespace {

// A path or a name for an error message: C-escaped (a newline cannot break a log line or a
// table) and clipped to `max_bytes` of the original.
std::string ForDisplay(absl::string_view value, size_t max_bytes = 200) {
  std::string shown = absl::CEscape(value.substr(0, max_bytes));
  if (value.size() > max_bytes) absl::StrAppend(&shown, "...(", value.size(), " bytes)");
  return shown;
}

// Paths end up in the loaded-model list (one "name<TAB>path" per line), in logs and in
// `adaspringctl models`; open() would stop at a NUL and load a different file.
absl::Status ValidatePath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("path is empty");
  if (const size_t nul = path.find('\0'); nul != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model path '", ForDisplay(path), "': path contains a NUL character (byte ", nul, ")"));
  }
  for (size_t i = 0; i < path.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "model path '%s': path contains a control character (0x%02x at byte %d); such a path "
          "cannot be listed or remembered across restarts: rename the file",
          ForDisplay(path), c, i));
    }
  }
  return absl::OkStatus();
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Model names follow the app-name rule: 1..64 characters of [A-Za-z0-9._-]. They appear in
// tables, logs, metric labels and the loaded-model list. A bundle's name comes from its
// manifest, so the message names the file.
absl::Status ValidateName(const engine::Model& model) {
  const std::string& name = model.meta().name;
  const std::string& file = model.source_path;
  if (name.empty()) {
    return absl::InvalidArgumentError(
        file.empty() ? std::string("model has no name")
                     : absl::StrCat(file,
                                    ": manifest has no name (a model name must be 1..64 "
                                    "characters of [A-Za-z0-9._-])"));
  }
  if (name.size() > 64 || !std::all_of(name.begin(), name.end(), IsNameChar)) {
    return absl::InvalidArgumentError(absl::StrCat(
        file.empty() ? "" : absl::StrCat(file, ": manifest "), "model name '", ForDisplay(name),
        "' (", name.size(), " bytes) must be 1..64 characters of [A-Za-z0-9._-]"));
  }
  return absl::OkStatus();
}

}  // namespace

ModelRegistry::ModelRegistry(EngineFacade* engine, BackendOptions options)
    : engine_(engine), options_(std::move(options)) {}

absl::StatusOr<std::shared_ptr<LoadedModel>> ModelRegistry::Load(const std::string& path) {
  if (absl::Status s = ValidatePath(path); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const engine::Model>> model = engine_->ReadBundle(path);
  if (!model.ok()) return model.status();
  return Add(*model);
}

absl::StatusOr<std::shared_ptr<LoadedModel>> ModelRegistry::Add(
    std::shared_ptr<const engine::Model> model) {
  if (absl::Status s = ValidateName(*model); !s.ok()) return s;
  const std::string name = model->meta().name;
  if (Find(name)) {
    return absl::AlreadyExistsError(absl::StrCat("a model named '", name, "' is loaded"));
  }
  absl::StatusOr<std::unique_ptr<ModelBackend>> backend = engine_->Prepare(model, options_);
  if (!backend.ok()) return backend.status();
  auto m = std::make_shared<LoadedModel>();
  const engine::ArchSpec& arch = model->arch();
  m->name = name;
  m->version = model->meta().version;
  m->path = model->source_path;
  m->task = model->meta().task;
  m->backend = std::move(*backend);
  m->model = model;
  m->input_shape = {arch.in_channels, arch.in_height, arch.in_width};
  m->channels = arch.in_channels;
  m->image_elems = static_cast<int64_t>(arch.in_channels) * arch.in_height * arch.in_width;
  m->num_classes = arch.num_classes;
  m->labels = model->meta().labels;
  for (int c = 0; c < arch.in_channels; ++c) {
    const auto& mean = model->meta().mean;
    const auto& std = model->meta().std;
    m->mean.push_back(c < static_cast<int>(mean.size()) ? mean[c] : 0.f);
    const float s = c < static_cast<int>(std.size()) && std[c] > 0 ? std[c] : 1.f;
    m->inv_std.push_back(1.f / s);
  }
  for (int64_t d : m->input_shape) m->input_spec.add_shape(d);
  m->input_spec.add_accepted_dtypes(v1::DATA_TYPE_FP32);
  m->input_spec.add_accepted_dtypes(v1::DATA_TYPE_UINT8);
  for (float v : m->mean) m->input_spec.add_mean(v);
  for (float v : m->inv_std) m->input_spec.add_std(1.f / v);
  for (const auto& l : m->labels) m->input_spec.add_labels(l);
  // The estimator the cost model uses (the bundle's predictor, or the prior when it has none
  // that validates), stated for users (ListModels).
  const std::unique_ptr<engine::AccuracyEstimator> estimator =
      engine::MakeAccuracyEstimator(*model);
  m->predictor_kind = std::string(estimator->kind());
  if (!estimator->is_prior()) {
    m->predictor_tau = model->predictor->kendall_tau;
    m->predictor_mae_pt = model->predictor->mae_pt;
    m->predictor_fitted = model->predictor->fitted_configs;
  }
  absl::MutexLock lock(&mu_);
  if (models_.count(name)) {
    return absl::AlreadyExistsError(absl::StrCat("a model named '", name, "' is loaded"));
  }
  models_[name] = m;
  return m;
}

std::vector<absl::Status> ModelRegistry::LoadDirectory(const std::string& dir) {
  std::vector<absl::Status> errors;
  std::error_code ec;
  std::vector<std::string> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".asb") paths.push_back(entry.path().string());
  }
  if (ec) {
    errors.push_back(absl::NotFoundError(absl::StrCat(dir, ": ", ec.message())));
    return errors;
  }
  std::sort(paths.begin(), paths.end());
  std::set<std::string> loaded;  // a rescan (reload) does not read these again
  for (const auto& m : All()) loaded.insert(m->path);
  for (const std::string& p : paths) {
    if (loaded.count(p)) continue;
    absl::StatusOr<std::shared_ptr<LoadedModel>> m = Load(p);
    if (!m.ok()) errors.push_back(m.status());
  }
  return errors;
}

std::shared_ptr<LoadedModel> ModelRegistry::Find(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second;
}

std::shared_ptr<LoadedModel> ModelRegistry::Remove(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return nullptr;
  std::shared_ptr<LoadedModel> m = it->second;
  models_.erase(it);
  return m;
}

std::vector<std::shared_ptr<LoadedModel>> ModelRegistry::All() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<LoadedModel>> all;
  for (const auto& [name, m] : models_) all.push_back(m);
  return all;
}

size_t ModelRegistry::size() const {
  absl::MutexLock lock(&mu_);
  return models_.size();
}

}  // namespace adaspring::daemon
