#include "context/parse.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace adaspring::context {

absl::StatusOr<std::string> ParseAttribute(const std::string& content, const std::string& path) {
  if (content.empty() || content.back() != '\n')
    return absl::DataLossError(
        absl::StrCat(path, ": short read (\"", Printable(content), "\" has no trailing newline)"));
  return std::string(absl::StripAsciiWhitespace(content));
}

absl::StatusOr<std::string> ReadAttribute(FileSystem& fs, const std::string& path) {
  absl::StatusOr<std::string> content = fs.ReadFile(path);
  if (!content.ok()) return content.status();
  return ParseAttribute(*content, path);
}

absl::StatusOr<int64_t> ParseInt64(const std::string& text, const std::string& path) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": garbage (expected an integer, got \"", Printable(text), "\")"));
  return value;
}

absl::StatusOr<double> ParseDouble(const std::string& text, const std::string& path) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value))
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": garbage (expected a number, got \"", Printable(text), "\")"));
  return value;
}

absl::StatusOr<int64_t> ReadInt64(FileSystem& fs, const std::string& path) {
  absl::StatusOr<std::string> text = ReadAttribute(fs, path);
  if (!text.ok()) return text.status();
  return ParseInt64(*text, path);
}

absl::StatusOr<double> ReadDouble(FileSystem& fs, const std::string& path) {
  absl::StatusOr<std::string> text = ReadAttribute(fs, path);
  if (!text.ok()) return text.status();
  return ParseDouble(*text, path);
}

std::map<std::string, int64_t> ParseKeyedNumbers(const std::string& content) {
  std::map<std::string, int64_t> result;
  const std::vector<std::string> lines = absl::StrSplit(content, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    std::vector<std::string> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t:="), absl::SkipEmpty());
    int64_t value = 0;
    if (fields.size() >= 2 && absl::SimpleAtoi(fields[1], &value)) result[fields[0]] = value;
  }
  return result;
}

absl::StatusOr<double> ParsePsiSomeAvg10(const std::string& content, const std::string& path) {
  const std::vector<std::string> lines = absl::StrSplit(content, '\n', absl::SkipEmpty());
  for (const std::string& line : lines) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.empty() || fields[0] != "some") continue;
    for (const std::string& field : fields) {
      double value = 0;
      if (field.rfind("avg10=", 0) == 0 && absl::SimpleAtod(field.substr(6), &value) &&
          value >= 0 && value <= 100)
        return value;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": garbage (no \"some avg10=\" in \"", Printable(content), "\")"));
}

std::string Printable(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (out.size() >= 60) {
      out += "...";
      break;
    }
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while ((value >= 1024 || value <= -1024) && unit < 6) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return buffer;
}

SourceStatus MakeStatus(const std::string& name, SourceState state, std::string reason) {
  SourceStatus status;
  status.name = name;
  status.state = state;
  status.reason = std::move(reason);
  return status;
}

}  // namespace adaspring::context
