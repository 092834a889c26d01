#include "table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace adaspring::ctl {

size_t DisplayWidth(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // count lead bytes only
  return n;
}

Table::Table(std::vector<std::string> headers, std::vector<bool> numeric)
    : headers_(std::move(headers)), numeric_(std::move(numeric)) {
  numeric_.resize(headers_.size(), false);
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    width[c] = DisplayWidth(headers_[c]);
    for (const auto& row : rows_) width[c] = std::max(width[c], DisplayWidth(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const size_t pad = width[c] - DisplayWidth(row[c]);
      if (c > 0) line += "  ";
      if (numeric_[c]) line.append(pad, ' ');
      line += row[c];
      if (!numeric_[c]) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

void PrintKeyValues(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& kv,
                    int indent) {
  size_t w = 0;
  for (const auto& [k, v] : kv) w = std::max(w, DisplayWidth(k));
  for (const auto& [k, v] : kv) {
    out << std::string(static_cast<size_t>(indent), ' ') << k
        << std::string(w - DisplayWidth(k) + 2, ' ') << v << "\n";
  }
}

std::string FormatFixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

std::string FormatBytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (std::llabs(bytes) < 1024) return std::to_string(bytes) + " B";
  if (std::fabs(b) < 1024.0 * 1024) return FormatFixed(b / 1024, 1) + " KiB";
  if (std::fabs(b) < 1024.0 * 1024 * 1024) return FormatFixed(b / (1024 * 1024), 1) + " MiB";
  return FormatFixed(b / (1024.0 * 1024 * 1024), 1) + " GiB";
}

std::string FormatDuration(double seconds) {
  char buf[64];
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%lldm %02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof(buf), "%lldh %02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldd %02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

std::string FormatPercent(double fraction, int decimals) {
  return FormatFixed(fraction * 100.0, decimals) + "%";
}

std::string FormatCount(double value) {
  const double a = std::fabs(value);
  if (a < 10000) return FormatFixed(value, 0);
  if (a < 1e6) return FormatFixed(value / 1e3, 1) + "k";
  if (a < 1e9) return FormatFixed(value / 1e6, 1) + "M";
  return FormatFixed(value / 1e9, 1) + "G";
}

}  // namespace adaspring::ctl
