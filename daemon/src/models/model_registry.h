// The loaded models, by name. Loading reads and validates a bundle, creates its backend
// (evolver, cost model, frontier) and prepares the serving metadata; a damaged bundle gives
// an error naming the file and the problem and changes nothing.
//
// Thread safety: all methods are thread-safe (one mutex; not on the request path).
#ifndef ADASPRING_DAEMON_MODELS_MODEL_REGISTRY_H_
#define ADASPRING_DAEMON_MODELS_MODEL_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "models/engine_facade.h"
#include "models/loaded_model.h"

namespace adaspring::daemon {

class ModelRegistry {
 public:
  ModelRegistry(EngineFacade* engine, BackendOptions options);

  // INVALID_ARGUMENT (empty path, a path with a NUL or another control character, damaged
  // bundle, invalid model name), NOT_FOUND (no such file), ALREADY_EXISTS (a model of that
  // name is loaded).
  absl::StatusOr<std::shared_ptr<LoadedModel>> Load(const std::string& path);
  // Serves an in-memory model (tests, built-in random models). Model names (from the bundle's
  // manifest) must be 1..64 characters of [A-Za-z0-9._-], like app names: INVALID_ARGUMENT
  // naming the file and the name otherwise.
  absl::StatusOr<std::shared_ptr<LoadedModel>> Add(std::shared_ptr<const engine::Model> model);
  // Loads every *.asb in `dir` (sorted). Returns one error per bundle that failed; the others
  // are loaded.
  std::vector<absl::Status> LoadDirectory(const std::string& dir);

  std::shared_ptr<LoadedModel> Find(const std::string& name) const;
  std::shared_ptr<LoadedModel> Remove(const std::string& name);
  std::vector<std::shared_ptr<LoadedModel>> All() const;
  size_t size() const;

 private:
  EngineFacade* const engine_;
  const BackendOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<LoadedModel>> models_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_MODELS_MODEL_REGISTRY_H_
