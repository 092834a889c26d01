// Text and JSON forms of a probe (declared in probe.h).
#include <cstdio>
#include <ctime>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "context/parse.h"
#include "context/probe.h"

namespace adaspring::context {
namespace {

// A JSON string literal; bytes that are not UTF-8 are escaped first (ValidUtf8), so that the
// output stays valid JSON whatever a path or file contained.
std::string JsonString(const std::string& raw) {
  const std::string text = ValidUtf8(raw);
  std::string out = "\"";
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      out += absl::StrFormat("\\u%04x", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Iso8601(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm;
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// The snapshot's scalars by proto field name, as JSON literals and as display text.
struct Field {
  const char* name;
  std::string json;
  std::string text;
};

std::vector<Field> Fields(const ContextSnapshot& s) {
  auto bytes = [](int64_t b) { return Field{"", absl::StrCat(b), FormatBytes(b)}; };
  auto number = [](double v, const char* unit) {
    return Field{"", absl::StrFormat("%.6g", v), absl::StrFormat("%.2f%s", v, unit)};
  };
  auto boolean = [](bool v) { return Field{"", v ? "true" : "false", v ? "yes" : "no"}; };
  std::vector<std::pair<const char*, Field>> named = {
      {"memory_available_bytes", bytes(s.memory_available_bytes)},
      {"memory_limit_bytes", bytes(s.memory_limit_bytes)},
      {"memory_used_bytes", bytes(s.memory_used_bytes)},
      {"cpu_busy_fraction", number(s.cpu_busy_fraction, "")},
      {"cpu_freq_khz",
       Field{"", absl::StrCat(s.cpu_freq_khz), absl::StrCat(s.cpu_freq_khz, " kHz")}},
      {"cpu_max_freq_khz",
       Field{"", absl::StrCat(s.cpu_max_freq_khz), absl::StrCat(s.cpu_max_freq_khz, " kHz")}},
      {"cpu_count", Field{"", absl::StrCat(s.cpu_count), absl::StrCat(s.cpu_count)}},
      {"cpu_quota_cores", number(s.cpu_quota_cores, " cores")},
      {"psi_cpu_some_avg10", number(s.psi_cpu_some_avg10, " %")},
      {"psi_memory_some_avg10", number(s.psi_memory_some_avg10, " %")},
      {"psi_io_some_avg10", number(s.psi_io_some_avg10, " %")},
      {"temperature_c", number(s.temperature_c, " C")},
      {"temperature_trip_c", number(s.temperature_trip_c, " C")},
      {"power_w", number(s.power_w, " W")},
      {"battery_percent", number(s.battery_percent, " %")},
      {"on_ac", boolean(s.on_ac)},
      {"has_battery", boolean(s.has_battery)},
      {"overridden", boolean(s.overridden)},
  };
  std::vector<Field> fields;
  for (auto& [name, field] : named) {
    field.name = name;
    fields.push_back(std::move(field));
  }
  return fields;
}

}  // namespace

void WriteProbeTable(const ContextSnapshot& snapshot, const std::string& root, std::ostream& out) {
  out << "adaspringd context probe, root " << root << ", " << Iso8601(snapshot.time) << "\n\n";
  out << absl::StrFormat("%-14s %-10s %s\n", "SOURCE", "STATE", "REASON");
  for (const SourceStatus& source : snapshot.sources) {
    out << absl::StrFormat("%-14s %-10s %s\n", source.name, SourceStateName(source.state),
                           source.reason.empty() ? "-" : source.reason);
    for (const auto& [key, value] : source.values)
      out << absl::StrFormat("%-14s   %-26s %s\n", "", key, value);
  }
  out << "\nSNAPSHOT\n";
  for (const Field& field : Fields(snapshot))
    out << absl::StrFormat("  %-24s %s\n", field.name, field.text);
}

void WriteProbeJson(const ContextSnapshot& snapshot, const std::string& root, std::ostream& out) {
  out << "{\n  \"root\": " << JsonString(root)
      << ",\n  \"time\": " << JsonString(Iso8601(snapshot.time)) << ",\n  \"snapshot\": {";
  const std::vector<Field> fields = Fields(snapshot);
  for (size_t i = 0; i < fields.size(); ++i)
    out << (i ? "," : "") << "\n    " << JsonString(fields[i].name) << ": " << fields[i].json;
  out << "\n  },\n  \"sources\": [";
  for (size_t i = 0; i < snapshot.sources.size(); ++i) {
    const SourceStatus& source = snapshot.sources[i];
    out << (i ? "," : "") << "\n    {\"name\": " << JsonString(source.name)
        << ", \"state\": " << JsonString(SourceStateName(source.state))
        << ", \"reason\": " << JsonString(source.reason) << ", \"values\": {";
    for (size_t v = 0; v < source.values.size(); ++v)
      out << (v ? ", " : "") << JsonString(source.values[v].first) << ": "
          << JsonString(source.values[v].second);
    out << "}}";
  }
  out << "\n  ]\n}\n";
}

}  // namespace adaspring::context
