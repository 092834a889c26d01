#include "cli_checks.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace adaspring::ctl {
namespace {

std::string Got(const std::string& name, const std::string& what, const std::string& text) {
  return absl::StrCat(name, " must be ", what, " (got '", text, "')");
}

// Edit distance with adjacent transpositions counted once ("stauts" -> "status" is 1).
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// "adaspringctl models load" for the deepest command given on the command line.
const CLI::App* Deepest(const CLI::App& app, std::string* path) {
  const CLI::App* at = &app;
  *path = app.get_name();
  for (;;) {
    const std::vector<CLI::App*> subs = at->get_subcommands();
    if (subs.empty()) return at;
    at = subs.front();
    absl::StrAppend(path, " ", at->get_name());
  }
}

std::vector<std::string> SubcommandNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return names;
}

// Long and short option names of `app` and of the commands above it (global options may
// follow the command).
std::vector<std::string> OptionNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* o : app->get_options()) {
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
    }
  }
  return names;
}

}  // namespace

std::optional<int64_t> ParseInteger(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<double> ParseFiniteNumber(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  // strtod also reads hexadecimal floats; nobody means "0x10" as a number of seconds.
  if (text.find_first_of("xX") != std::string::npos) return std::nullopt;
  return v;
}

CLI::Validator IntegerIn(const std::string& name, int64_t lo, int64_t hi, const std::string& what) {
  return CLI::Validator(
      [name, lo, hi, what](std::string& text) -> std::string {
        const auto v = ParseInteger(text);
        if (!v || *v < lo || *v > hi) return Got(name, what, text);
        return "";
      },
      "");
}

CLI::Validator NumberIn(const std::string& name, double lo, double hi, bool lo_open,
                        const std::string& what) {
  return CLI::Validator(
      [name, lo, hi, lo_open, what](std::string& text) -> std::string {
        const auto v = ParseFiniteNumber(text);
        if (!v || (lo_open ? !(*v > lo) : !(*v >= lo)) || !(*v <= hi)) {
          return Got(name, what, text);
        }
        return "";
      },
      "");
}

CLI::Validator OneOf(const std::string& name, const std::vector<std::string>& valid) {
  return CLI::Validator(
      [name, valid](std::string& text) -> std::string {
        if (std::find(valid.begin(), valid.end(), text) != valid.end()) return "";
        std::string msg = absl::StrCat(name, " must be one of ", absl::StrJoin(valid, ", "),
                                       " (got '", text, "'");
        const std::string near = Closest(text, valid);
        if (!near.empty()) absl::StrAppend(&msg, "; did you mean '", near, "'?");
        return msg + ")";
      },
      "");
}

std::string Closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 0;
  for (const auto& c : candidates) {
    const size_t d = Distance(word, c);
    if (best.empty() || d < best_d) {
      best = c;
      best_d = d;
    }
  }
  // A typo, not another word: at most 2 edits, and fewer than half the word.
  if (best.empty() || best_d == 0 || best_d > 2 || 2 * best_d >= word.size()) return "";
  return best;
}

std::string ParseErrorMessage(const CLI::App& app, const CLI::ParseError& e) {
  std::string path;
  const CLI::App* at = Deepest(app, &path);
  const std::string help = absl::StrCat(" (see '", path, " --help')");
  const std::string what = e.what();
  // By code: some errors carry the app's name in get_name().
  const int code = e.get_exit_code();
  if (code == static_cast<int>(CLI::ExitCodes::ExtrasError)) {
    const std::vector<std::string> extras = app.remaining(true);
    auto option = std::find_if(extras.begin(), extras.end(),
                               [](const std::string& s) { return s.size() > 1 && s[0] == '-'; });
    if (option != extras.end()) {
      const std::string given = option->substr(0, option->find('='));
      const std::string near = Closest(given, OptionNames(at));
      return absl::StrCat("unknown option '", given, "' for '", path, "'",
                          near.empty() ? help : absl::StrCat(" (did you mean '", near, "'?)"));
    }
    if (!extras.empty()) {
      const std::vector<std::string> subs = SubcommandNames(*at);
      if (subs.empty()) {
        return absl::StrCat("unexpected argument '", extras.front(), "' for '", path, "'", help);
      }
      const std::string near = Closest(extras.front(), subs);
      return absl::StrCat("unknown command '", extras.front(), "' for '", path, "' (",
                          near.empty() ? "" : absl::StrCat("did you mean '", near, "'? "),
                          "valid: ", absl::StrJoin(subs, ", "), ")");
    }
  }
  if (code == static_cast<int>(CLI::ExitCodes::RequiredError) &&
      (what.rfind("A subcommand", 0) == 0 || what.rfind("Requires at least", 0) == 0)) {
    return absl::StrCat("'", path, "' needs a command: ", absl::StrJoin(SubcommandNames(*at), ", "),
                        help);
  }
  if (code == static_cast<int>(CLI::ExitCodes::ValidationError)) {
    // CLI11 puts "NAME: " before the validator's "NAME must be ...".
    const size_t colon = what.find(": ");
    if (colon != std::string::npos &&
        what.compare(colon + 2, colon + 1, what.substr(0, colon) + " ") == 0) {
      return what.substr(colon + 2);
    }
  }
  return what + help;
}

}  // namespace adaspring::ctl
