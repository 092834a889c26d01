#include "config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <ostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "config/config_schema.h"

namespace adaspring::daemon {
namespace {

// A configuration file is a few KiB; anything far larger is a mistake (a log or an image given
// by accident), refused before it is parsed.
constexpr int64_t kMaxConfigFileBytes = 1 << 20;

// Text from the file or from toml++ as it goes into a message: control characters escaped, so
// that every problem stays on its own line and nothing reaches a terminal or the journal raw.
std::string Printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// A key as written in a message: bare when it is a plain TOML bare key, else quoted/escaped.
std::string KeyText(const std::string& key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
  return bare ? key : config_internal::TomlString(key);
}

using config_internal::Field;

// Collects messages with the position of the key in the file when known; reports them in file
// order (messages without a position, e.g. about values the file did not set, last).
class Problems {
 public:
  explicit Problems(std::string origin) : origin_(std::move(origin)) {}

  void Remember(const std::string& key, const toml::source_region& where) {
    if (where.begin.line > 0) positions_[key] = {where.begin.line, where.begin.column};
  }
  void Add(const std::string& key, const std::string& message) {
    reported_[key] = true;
    auto it = positions_.find(key);
    if (it == positions_.end()) {
      lines_.push_back({{UINT32_MAX, UINT32_MAX}, absl::StrCat(origin_, ": ", message)});
    } else {
      lines_.push_back({it->second, absl::StrCat(origin_, ":", it->second.first, ":",
                                                 it->second.second, ": ", message)});
    }
  }
  bool empty() const { return lines_.empty(); }
  bool Reported(const std::string& key) const { return reported_.count(key) > 0; }
  absl::Status ToStatus() const {
    std::vector<Line> sorted = lines_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Line& a, const Line& b) { return a.position < b.position; });
    std::vector<std::string> text;
    for (const Line& l : sorted) text.push_back(l.text);
    return absl::InvalidArgumentError(absl::StrJoin(text, "\n"));
  }

 private:
  using Position = std::pair<uint32_t, uint32_t>;  // line, column
  struct Line {
    Position position;
    std::string text;
  };
  std::string origin_;
  std::map<std::string, Position> positions_;
  std::vector<Line> lines_;
  std::map<std::string, bool> reported_;
};

const char* TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::string NodeText(const toml::node& node) {
  if (node.is_string()) {
    return config_internal::Abbreviated(config_internal::TomlString(node.as_string()->get()));
  }
  std::ostringstream os;
  node.visit([&os](const auto& n) { os << n; });
  std::string text = os.str();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Reads `node` into the member behind `field`; returns "" or the reason it cannot.
std::string ReadValue(const Field& field, const toml::node& node, DaemonConfig* config) {
  return std::visit(
      [&](auto ref) -> std::string {
        auto& target = ref(*config);
        using T = std::decay_t<decltype(target)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!node.is_string()) return absl::StrCat("expected a string, got ", TypeName(node));
          target = node.as_string()->get();
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!node.is_boolean()) {
            return absl::StrCat("expected true or false, got ", TypeName(node));
          }
          target = node.as_boolean()->get();
        } else if constexpr (std::is_same_v<T, double>) {
          if (node.is_floating_point()) {
            target = node.as_floating_point()->get();
          } else if (node.is_integer()) {
            target = static_cast<double>(node.as_integer()->get());
          } else {
            return absl::StrCat("expected a number, got ", TypeName(node));
          }
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          const toml::array* array = node.as_array();
          if (array == nullptr) {
            return absl::StrCat("expected an array of strings, got ", TypeName(node));
          }
          std::vector<std::string> values;
          for (const toml::node& element : *array) {
            if (!element.is_string()) {
              return absl::StrCat("expected an array of strings, but an element is ",
                                  TypeName(element));
            }
            values.push_back(element.as_string()->get());
          }
          target = std::move(values);
        } else if constexpr (std::is_same_v<T, uint32_t>) {
          if (field.file_mode && node.is_string()) {
            // "0660" / "660": octal digits, as chmod(1) takes them.
            const std::string& text = node.as_string()->get();
            if (text.empty() || text.size() > 4 ||
                text.find_first_not_of("01234567") != std::string::npos) {
              return "not a permission mode: use octal digits such as \"0660\"";
            }
            target = static_cast<uint32_t>(std::stoul(text, nullptr, 8));
            return "";
          }
          if (!node.is_integer()) {
            return absl::StrCat(field.file_mode ? "expected an octal mode such as \"0660\", got "
                                                : "expected an integer, got ",
                                TypeName(node));
          }
          const int64_t v = node.as_integer()->get();
          if (field.file_mode &&
              !(node.as_integer()->flags() & toml::value_flags::format_as_octal)) {
            // 660 written plainly is the decimal number 660 (octal 1224), never what was meant.
            return "a decimal integer is not a permission mode: write \"0660\" or 0o660";
          }
          if (v < 0 || v > static_cast<int64_t>(UINT32_MAX)) {
            // Name the key's documented range, not the storage type's.
            const config_internal::RangeRule* rule = config_internal::FindRange(field.DottedKey());
            return rule != nullptr ? config_internal::RangeText(*rule)
                                   : absl::StrCat("must be between 0 and ", UINT32_MAX);
          }
          target = static_cast<uint32_t>(v);
        } else {  // int64_t
          if (!node.is_integer()) return absl::StrCat("expected an integer, got ", TypeName(node));
          target = node.as_integer()->get();
        }
        return "";
      },
      field.ref);
}

void ReadTable(const std::string& table, const toml::table& entries, DaemonConfig* config,
               std::map<std::string, bool>* seen, Problems* problems) {
  for (const auto& [key, node] : entries) {
    const std::string name(key.str());
    const std::string dotted =
        table.empty() ? KeyText(name) : absl::StrCat(table, ".", KeyText(name));
    problems->Remember(dotted, key.source().begin.line > 0 ? key.source() : node.source());
    if (const Field* field = config_internal::FindField(table, name)) {
      const std::string why = ReadValue(*field, node, config);
      if (!why.empty()) {
        problems->Add(dotted, absl::StrCat(dotted, " = ", NodeText(node), ": ", why));
      }
      (*seen)[dotted] = true;
      continue;
    }
    const auto& tables = config_internal::TableNames();
    const bool is_table_name =
        table.empty() && std::find(tables.begin(), tables.end(), name) != tables.end();
    if (is_table_name) {
      if (const toml::table* sub = node.as_table()) {
        ReadTable(name, *sub, config, seen, problems);
      } else {
        problems->Add(dotted, absl::StrCat(dotted, " = ", NodeText(node), ": expected a table ([",
                                           name, "]), got ", TypeName(node)));
      }
      continue;
    }
    problems->Add(dotted, absl::StrCat(dotted, ": unknown key; valid keys ",
                                       table.empty() ? std::string("at the top level")
                                                     : absl::StrCat("in [", table, "]"),
                                       ": ", config_internal::ValidKeys(table)));
  }
}

void AddValueProblems(const DaemonConfig& config, Problems* problems) {
  for (const config_internal::Problem& p : config_internal::CheckValues(config)) {
    // A key whose value could not be read keeps its default: do not report it twice.
    if (!problems->Reported(p.key)) problems->Add(p.key, p.message);
  }
}

}  // namespace

absl::StatusOr<DaemonConfig> ParseConfig(const std::string& toml_text, const std::string& origin) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ":", e.source().begin.line, ":", e.source().begin.column,
                     ": TOML syntax error: ", Printable(std::string(e.description()))));
  }
  // The mode picks the defaults that keys absent from the file keep.
  bool user_mode = true;
  if (const toml::node* mode = doc.get("mode"); mode != nullptr && mode->is_string()) {
    user_mode = mode->as_string()->get() != "system";
  }
  DaemonConfig config = DefaultConfig(user_mode);
  Problems problems(origin);
  std::map<std::string, bool> seen;
  ReadTable("", doc, &config, &seen, &problems);

  // Sockets not named in the file live in the runtime directory the file chose.
  if (seen.count("runtime_dir")) {
    if (!seen.count("sockets.app_socket")) {
      config.sockets.app_socket = config.runtime_dir + "/adaspringd.sock";
    }
    if (!seen.count("sockets.admin_socket")) {
      config.sockets.admin_socket = config.runtime_dir + "/admin.sock";
    }
  }
  AddValueProblems(config, &problems);
  if (!problems.empty()) return problems.ToStatus();
  return config;
}

absl::StatusOr<DaemonConfig> LoadConfig(const std::string& path) {
  // O_NONBLOCK: a FIFO given as the file must not block start-up or a reload on the event loop
  // (it is refused below as not a regular file).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat("cannot read configuration file ", path));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat("cannot read configuration file ", path));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read configuration file ", path, ": it is a directory"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read configuration file ", path,
                     ": not a regular file (a FIFO, socket or device)"));
  }
  if (st.st_size > kMaxConfigFileBytes) {
    return absl::FailedPreconditionError(absl::StrCat("configuration file ", path, " is ",
                                                      st.st_size, " bytes; at most ",
                                                      kMaxConfigFileBytes, " are read"));
  }
  std::string text;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      return absl::ErrnoToStatus(error, absl::StrCat("error reading ", path));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (static_cast<int64_t>(text.size()) > kMaxConfigFileBytes) {
      return absl::FailedPreconditionError(absl::StrCat(
          "configuration file ", path, " is larger than ", kMaxConfigFileBytes, " bytes"));
    }
  }
  return ParseConfig(text, path);
}

void ApplyOverrides(const CommandLineOverrides& overrides, DaemonConfig* config) {
  if (!overrides.runtime_dir.empty()) {
    std::string dir = overrides.runtime_dir;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    config->runtime_dir = dir;
    config->sockets.app_socket = dir + "/adaspringd.sock";
    config->sockets.admin_socket = dir + "/admin.sock";
    config->state_dir = dir + "/state";
  }
  if (!overrides.models_dir.empty()) config->models.directory = overrides.models_dir;
  if (!overrides.context_root.empty()) config->context.root = overrides.context_root;
}

absl::Status ValidateConfig(const DaemonConfig& config) {
  Problems problems("configuration");
  AddValueProblems(config, &problems);
  return problems.empty() ? absl::OkStatus() : problems.ToStatus();
}

absl::StatusOr<DaemonConfig> ResolveConfig(const CommandLineOverrides& overrides, bool user_mode) {
  std::string path = overrides.config_path;
  if (path.empty()) {
    const std::string fallback = DefaultConfigPath(user_mode);
    if (::access(fallback.c_str(), F_OK) == 0) path = fallback;
  }
  DaemonConfig config = DefaultConfig(user_mode);
  if (!path.empty()) {
    absl::StatusOr<DaemonConfig> loaded = LoadConfig(path);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  // Relative override paths would change meaning with the working directory (systemd starts
  // us in /): make them absolute once, here.
  CommandLineOverrides absolute = overrides;
  for (std::string* p : {&absolute.runtime_dir, &absolute.models_dir, &absolute.context_root}) {
    if (!p->empty() && (*p)[0] != '/') {
      char cwd[4096];
      if (::getcwd(cwd, sizeof(cwd)) != nullptr) *p = absl::StrCat(cwd, "/", *p);
    }
  }
  ApplyOverrides(absolute, &config);
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  if (absl::Status s = CheckPaths(config); !s.ok()) return s;
  return config;
}

std::string DumpConfig(const DaemonConfig& config) {
  std::string out = "# adaspringd configuration (see adaspringd.toml(5) and docs/CONFIG.md)\n";
  std::string current_table;
  for (const Field& field : config_internal::Fields()) {
    if (current_table != field.table) {
      current_table = field.table;
      absl::StrAppend(&out, "\n[", current_table, "]\n");
    }
    absl::StrAppend(&out, field.key, " = ", config_internal::FieldValueText(field, config), "\n");
  }
  return out;
}

std::vector<std::string> ChangedKeys(const DaemonConfig& running, const DaemonConfig& next) {
  std::vector<std::string> keys;
  for (const Field& field : config_internal::Fields()) {
    if (config_internal::FieldValueText(field, running) !=
        config_internal::FieldValueText(field, next)) {
      keys.push_back(field.DottedKey());
    }
  }
  return keys;
}

std::vector<std::string> RestartRequiredKeys(const DaemonConfig& running,
                                             const DaemonConfig& next) {
  // Sockets and listeners are bound once at start; the directories hold them and the state.
  static const std::vector<std::string> kRestartTables = {"sockets", "tcp", "metrics"};
  std::vector<std::string> keys;
  for (const std::string& key : ChangedKeys(running, next)) {
    const std::string table = key.substr(0, key.find('.'));
    if (key == "mode" || key == "runtime_dir" || key == "state_dir" ||
        std::find(kRestartTables.begin(), kRestartTables.end(), table) != kRestartTables.end()) {
      keys.push_back(key);
    }
  }
  return keys;
}

int CheckConfigCommand(const std::string& path, std::ostream& out, std::ostream& err) {
  absl::StatusOr<DaemonConfig> config = LoadConfig(path);
  absl::Status status = config.ok() ? CheckPaths(*config) : config.status();
  if (!status.ok()) {
    err << status.message() << "\n"
        << "adaspringd: " << path << ": configuration is invalid (exit status " << kExitConfig
        << ", EX_CONFIG)\n";
    return kExitConfig;
  }
  out << "# " << path << ": OK\n" << DumpConfig(*config);
  return 0;
}

}  // namespace adaspring::daemon
