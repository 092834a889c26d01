// Aligned plain-text tables and the number formats adaspringctl prints for people.
#ifndef ADASPRING_CLIENT_CTL_TABLE_H_
#define ADASPRING_CLIENT_CTL_TABLE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace adaspring::ctl {

// Columns are left-aligned unless a column is marked numeric (right-aligned). Two spaces
// separate columns; trailing spaces are never printed.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> numeric = {});
  void AddRow(std::vector<std::string> cells);  // missing cells print empty
  size_t rows() const { return rows_.size(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> numeric_;
  std::vector<std::vector<std::string>> rows_;
};

// "key  value" lines with the keys padded to the longest one.
void PrintKeyValues(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& kv,
                    int indent = 0);

std::string FormatBytes(int64_t bytes);      // "512 B", "1.5 KiB", "231.0 MiB", "7.7 GiB"
std::string FormatDuration(double seconds);  // "45s", "12m 03s", "3h 04m", "2d 05h"
std::string FormatFixed(double value, int decimals);
std::string FormatPercent(double fraction, int decimals = 0);  // 0.231 -> "23%"
std::string FormatCount(double value);                         // 7600000 -> "7.6M", 1200 -> "1200"
// UTF-8 aware display width (counts code points), so that "°C" aligns.
size_t DisplayWidth(const std::string& s);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_TABLE_H_
