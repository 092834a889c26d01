// Small parsers for sysfs/procfs text and helpers shared by the sources.
#ifndef ADASPRING_DAEMON_CONTEXT_PARSE_H_
#define ADASPRING_DAEMON_CONTEXT_PARSE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "context/file_system.h"
#include "context/snapshot.h"

namespace adaspring::context {

// The single value of a sysfs attribute, without surrounding whitespace. sysfs and procfs
// always end an attribute with '\n', so content without one is reported as a short read
// (DATA_LOSS) rather than parsed as a truncated number.
absl::StatusOr<std::string> ParseAttribute(const std::string& content, const std::string& path);

// Reads and parses a single-value attribute. Errors name the path and the bad text.
absl::StatusOr<std::string> ReadAttribute(FileSystem& fs, const std::string& path);
absl::StatusOr<int64_t> ReadInt64(FileSystem& fs, const std::string& path);
absl::StatusOr<double> ReadDouble(FileSystem& fs, const std::string& path);
absl::StatusOr<int64_t> ParseInt64(const std::string& text, const std::string& path);
absl::StatusOr<double> ParseDouble(const std::string& text, const std::string& path);

// "key value" or "key=value" lines (memory.events, /proc/meminfo "MemTotal: 123 kB") ->
// key -> first number. Lines that do not parse are skipped.
std::map<std::string, int64_t> ParseKeyedNumbers(const std::string& content);

// PSI text "some avg10=1.23 avg60=... total=N\nfull ..." -> the "some" avg10 value.
absl::StatusOr<double> ParsePsiSomeAvg10(const std::string& content, const std::string& path);

// The text with non-printable bytes escaped as \xNN, cut to 60 characters, for messages.
std::string Printable(const std::string& text);

// Human-readable byte count ("1.5 GiB").
std::string FormatBytes(int64_t bytes);

SourceStatus MakeStatus(const std::string& name, SourceState state, std::string reason = "");

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_PARSE_H_
