#include "context/parse.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace adaspring::context {

namespace {

void AppendEscaped(unsigned char byte, std::string* out) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "\\x%02x", byte);
  *out += buffer;
}

// Length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when none starts there.
size_t Utf8SequenceLength(const std::string& text, size_t i) {
  const unsigned char lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char second_lo = 0x80;
  unsigned char second_hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_lo = 0xa0;  // overlong
    if (lead == 0xed) second_hi = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_lo = 0x90;  // overlong
    if (lead == 0xf4) second_hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const unsigned char byte = static_cast<unsigned char>(text[i + k]);
    const unsigned char lo = k == 1 ? second_lo : 0x80;
    const unsigned char hi = k == 1 ? second_hi : 0xbf;
    if (byte < lo || byte > hi) return 0;
  }
  return length;
}

}  // namespace

absl::StatusOr<std::string> ParseAttribute(const std::string& content, const std::string& path) {
  if (content.size() >= FileSystem::kMaxReadBytes)
    return absl::DataLossError(absl::StrCat(path, ": cut at ", FileSystem::kMaxReadBytes / 1024,
                                            " KiB, the read limit (\"", Printable(content),
                                            "\"); not a sysfs or procfs attribute?"));
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

absl::Status CheckRange(int64_t value, int64_t lo, int64_t hi, const std::string& path,
                        const std::string& unit) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  if (value < 0 && lo >= 0)
    return absl::OutOfRangeError(absl::StrCat(path, ": negative value ", value, unit));
  return absl::OutOfRangeError(absl::StrCat(path, ": implausible value ", value, unit,
                                            " (expected ", lo, "..", hi, unit, ")"));
}

absl::StatusOr<int64_t> ReadInt64InRange(FileSystem& fs, const std::string& path, int64_t lo,
                                         int64_t hi, const std::string& unit) {
  absl::StatusOr<int64_t> value = ReadInt64(fs, path);
  if (!value.ok()) return value;
  if (absl::Status range = CheckRange(*value, lo, hi, path, unit); !range.ok()) return range;
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
      if (field.rfind("avg10=", 0) != 0) continue;
      double value = 0;
      if (absl::SimpleAtod(field.substr(6), &value) && value >= 0 && value <= 100) return value;
      return absl::OutOfRangeError(absl::StrCat(path, ": implausible \"some ", Printable(field),
                                                "\" (expected a percentage 0..100)"));
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
      AppendEscaped(u, &out);
    } else {
      out += c;
    }
  }
  return out;
}

std::string ValidUtf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char byte = static_cast<unsigned char>(text[i]);
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0 || byte < 0x20 || byte == 0x7f) {
      AppendEscaped(byte, &out);
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

void MakeValidUtf8(SourceStatus* status) {
  status->name = ValidUtf8(status->name);
  status->reason = ValidUtf8(status->reason);
  for (auto& [key, value] : status->values) {
    key = ValidUtf8(key);
    value = ValidUtf8(value);
  }
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
  status.reason = ValidUtf8(reason);
  return status;
}

}  // namespace adaspring::context
