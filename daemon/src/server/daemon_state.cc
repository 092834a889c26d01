// What survives a restart: the models an administrator loaded at run time. The models
// directory and the configured preloads come back by themselves; the list of the others is
// kept in the state directory (StateStore: atomic replace, so a crash or a full disk leaves
// the previous list intact).
#include "absl/strings/str_cat.h"
#include "server/daemon.h"

namespace adaspring::daemon {

void Daemon::Warn(const std::string& message) {
  {
    absl::MutexLock lock(&warnings_mu_);
    warnings_.push_back(message);
  }
  v1::DaemonEvent e;
  e.set_kind(v1::DaemonEvent::KIND_WARNING);
  e.set_message(message);
  events_.Publish(std::move(e));
}

void Daemon::RestoreModels() {
  if (!state_) return;
  absl::StatusOr<std::string> text = state_->Read(kModelListFile);
  if (!text.ok()) {
    if (!absl::IsNotFound(text.status()))
      Warn(absl::StrCat("loaded-model list not restored: ", text.status().message()));
    return;
  }
  absl::StatusOr<std::vector<LoadedModelRecord>> records = DecodeModelList(*text);
  if (!records.ok()) {
    Warn(absl::StrCat("loaded-model list ", state_->PathOf(kModelListFile),
                      " not restored: ", records.status().message()));
    return;
  }
  for (const LoadedModelRecord& r : *records) {
    if (std::shared_ptr<LoadedModel> m = registry_.Find(r.name)) {
      // Already served (models directory or preload): remember it only if it is the same file.
      if (m->path == r.path) {
        absl::MutexLock lock(&admin_models_mu_);
        admin_models_[r.name] = r.path;
      }
      continue;
    }
    absl::StatusOr<std::shared_ptr<LoadedModel>> m = registry_.Load(r.path);
    if (!m.ok()) {
      Warn(absl::StrCat("model '", r.name,
                        "' (loaded before the restart) not restored: ", m.status().message()));
      continue;
    }
    absl::MutexLock lock(&admin_models_mu_);
    admin_models_[(*m)->name] = r.path;
  }
}

void Daemon::PersistModels() {
  if (!state_) return;
  std::vector<LoadedModelRecord> records;
  {
    absl::MutexLock lock(&admin_models_mu_);
    for (const auto& [name, path] : admin_models_) records.push_back({name, path});
  }
  absl::StatusOr<std::string> text = EncodeModelList(records);
  absl::Status s = text.ok() ? state_->Write(kModelListFile, *text) : text.status();
  if (!s.ok()) {
    Warn(absl::StrCat("loaded-model list not saved (the previous one is kept; a restart will ",
                      "not bring back the latest change): ", s.message()));
  }
}

}  // namespace adaspring::daemon
