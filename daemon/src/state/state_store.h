// Small files in the state directory (/var/lib/adaspring, or the user's state dir), written
// atomically: a reader (or the daemon after a crash or power loss) sees either the old or the
// new content, never a mix. Used for device profiles and the loaded-model list.
//
// Write(): temp file in the same directory -> write all -> fsync -> rename over the target ->
// fsync the directory. On any failure (ENOSPC, EFBIG, EIO, ...) the temp file is removed, the
// old file is left intact, the Status names the file, the step and strerror, and a warning
// "state file not saved" (fields file, error) is logged (after the rename, a failed directory
// fsync returns an error and logs "state file saved, but a power loss now may undo it").
//
// Names are plain file names: [A-Za-z0-9._-]+, not starting with '.', at most 128 chars
// (temp files start with '.', so they can never collide with a state file).
// Thread safety: distinct names may be written concurrently; concurrent writes of the SAME
// name from several threads are safe (each uses its own temp file) and the last rename wins.
#ifndef ADASPRING_DAEMON_STATE_STATE_STORE_H_
#define ADASPRING_DAEMON_STATE_STATE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace adaspring::daemon {

class StateStore {
 public:
  explicit StateStore(std::string dir) : dir_(std::move(dir)) {}

  // Creates the directory (and missing parents, mode 0750) and removes temp files that a
  // crash left behind. Call once at start, before Read/Write.
  absl::Status Init();

  // Atomically replaces `name` with `contents` (file mode 0640).
  absl::Status Write(const std::string& name, const std::string& contents);
  // NotFound when `name` does not exist (first start); other errors name the file.
  absl::StatusOr<std::string> Read(const std::string& name) const;
  // OK when the file is already gone.
  absl::Status Remove(const std::string& name);
  // State file names present (sorted; temp files excluded).
  absl::StatusOr<std::vector<std::string>> List() const;

  const std::string& dir() const { return dir_; }
  std::string PathOf(const std::string& name) const { return dir_ + "/" + name; }

  static bool IsValidName(const std::string& name);

 private:
  std::string dir_;
};

// The loaded-model list, file "models.list": one model per line, "name<TAB>path", with a
// "# adaspringd loaded models v1" header line. Names and paths may not be empty or contain
// tabs, newlines or NULs (InvalidArgument for the whole list, the values C-escaped in the
// message; ModelRegistry refuses such names and paths when loading, so that a loaded model
// can always be listed).
inline constexpr char kModelListFile[] = "models.list";

struct LoadedModelRecord {
  std::string name;
  std::string path;
  bool operator==(const LoadedModelRecord&) const = default;
};

absl::StatusOr<std::string> EncodeModelList(const std::vector<LoadedModelRecord>& models);
// InvalidArgument naming the line for malformed content.
absl::StatusOr<std::vector<LoadedModelRecord>> DecodeModelList(const std::string& text);

// Device profiles are opaque to the store: file "profile-<device>.json" (device name checked
// with IsValidName).
std::string ProfileFileName(const std::string& device);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_STATE_STATE_STORE_H_
