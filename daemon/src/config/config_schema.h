// Internal to config/: the table of every configuration key (one place that parsing, dumping,
// validation and the unknown-key messages share) and the value checks.
#ifndef ADASPRING_DAEMON_CONFIG_CONFIG_SCHEMA_H_
#define ADASPRING_DAEMON_CONFIG_CONFIG_SCHEMA_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/daemon_config.h"

namespace adaspring::daemon::config_internal {

template <typename T>
using Ref = T& (*)(DaemonConfig&);

struct Field {
  const char* table;  // "" for top-level keys
  const char* key;
  std::variant<Ref<std::string>, Ref<bool>, Ref<uint32_t>, Ref<int64_t>, Ref<double>,
               Ref<std::vector<std::string>>>
      ref;
  bool file_mode = false;  // uint32 written as an octal string, "0660"

  std::string DottedKey() const;
};

// Every key, in documentation order (top-level keys first, then the tables in TableNames()).
const std::vector<Field>& Fields();
// The tables, in documentation order: sockets, tcp, models, context, ...
const std::vector<std::string>& TableNames();
// Comma-separated keys valid in `table` ("" = top level, including the table names).
std::string ValidKeys(const std::string& table);
const Field* FindField(const std::string& table, const std::string& key);

const Field* FindFieldByDottedKey(const std::string& dotted_key);
// The value of a numeric (integer, float, boolean) field; NaN for the others.
double NumericValue(const Field& field, const DaemonConfig& config);

// The documented range of a numeric key, checked by CheckValues and named when a value does
// not even fit the key's type.
struct RangeRule {
  const char* key;  // dotted
  double lo, hi;
};
const std::vector<RangeRule>& Ranges();
const RangeRule* FindRange(const std::string& dotted_key);
std::string RangeText(const RangeRule& rule);  // "must be between 10 and 60000"

// A value as shown in a message: at most ~60 bytes of it, then "... (N bytes)".
std::string Abbreviated(const std::string& shown);

// One validation failure: the dotted key and the message "<key> = <value>: <reason>".
struct Problem {
  std::string key;
  std::string message;
};
std::vector<Problem> CheckValues(const DaemonConfig& config);

// The context sources `context.disabled_sources` may name.
const std::vector<std::string>& ContextSourceNames();

// TOML text for values (round-trips exactly through toml++).
std::string TomlString(const std::string& text);
std::string TomlDouble(double value);
std::string FileModeText(uint32_t mode);  // "0660"
// The TOML text of `field`'s value in `config`.
std::string FieldValueText(const Field& field, const DaemonConfig& config);

}  // namespace adaspring::daemon::config_internal

#endif  // ADASPRING_DAEMON_CONFIG_CONFIG_SCHEMA_H_
