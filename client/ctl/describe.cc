#include "describe.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "table.h"

namespace adaspring::ctl {

std::string DescribeContext(const v1::ContextSnapshot& c) {
  std::string s = absl::StrCat("memory ", FormatBytes(c.memory_available_bytes()), " free of ",
                               FormatBytes(c.memory_limit_bytes()), ", cpu ",
                               FormatPercent(c.cpu_busy_fraction()), " busy");
  if (c.temperature_c() > 0) absl::StrAppend(&s, ", ", FormatFixed(c.temperature_c(), 1), "°C");
  if (c.power_w() > 0) absl::StrAppend(&s, ", ", FormatFixed(c.power_w(), 1), " W");
  if (c.has_battery()) {
    absl::StrAppend(&s, ", battery ", FormatFixed(c.battery_percent(), 0), "%",
                    c.on_ac() ? " (on AC)" : " (discharging)");
  } else {
    absl::StrAppend(&s, ", mains power");
  }
  if (c.overridden()) absl::StrAppend(&s, " [override]");
  return s;
}

std::string DescribeConfiguration(const v1::Configuration& c) {
  if (c.text().empty()) return "-";
  return absl::StrCat(c.text(), " (predicted: acc ", FormatPercent(c.predicted_accuracy(), 1), ", ",
                      FormatFixed(c.predicted_latency_us() / 1000.0, 2), " ms, ",
                      FormatBytes(c.memory_bytes()), ")");
}

std::string DescribeSlo(const v1::Slo& slo) {
  std::string s = absl::StrCat(FormatFixed(slo.latency_budget_us() / 1000.0, 1), " ms");
  if (slo.min_accuracy() > 0) absl::StrAppend(&s, ", acc>=", FormatPercent(slo.min_accuracy(), 1));
  return s;
}

std::string FormatTimestamp(const google::protobuf::Timestamp& t, bool with_date) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  const std::time_t secs = static_cast<std::time_t>(t.seconds());
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof(ms), ".%03d", t.nanos() / 1000000);
  return std::string(buf) + ms;
}

}  // namespace adaspring::ctl
