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

// Above this a power reading is a broken meter or counter, not a device: the largest server
// packages draw well under 1 kW.
constexpr double kMaxPlausibleWatts = 10e3;

// The single value of a sysfs attribute, without surrounding whitespace. sysfs and procfs
// always end an attribute with '\n', so content without one is reported as a short read
// (DATA_LOSS) rather than parsed as a truncated number; content that reached
// FileSystem::kMaxReadBytes is reported as cut at that limit.
absl::StatusOr<std::string> ParseAttribute(const std::string& content, const std::string& path);

// Reads and parses a single-value attribute. Errors name the path and the bad text.
absl::StatusOr<std::string> ReadAttribute(FileSystem& fs, const std::string& path);
absl::StatusOr<int64_t> ReadInt64(FileSystem& fs, const std::string& path);
absl::StatusOr<double> ReadDouble(FileSystem& fs, const std::string& path);
absl::StatusOr<int64_t> ParseInt64(const std::string& text, const std::string& path);
absl::StatusOr<double> ParseDouble(const std::string& text, const std::string& path);

// OUT_OF_RANGE naming the path and the value unless lo <= value <= hi: "<path>: negative value
// -5" when lo is 0 or more and the value is negative, else "<path>: implausible value V<unit>
// (expected lo..hi<unit>)". `unit` is appended as given (" kHz").
absl::Status CheckRange(int64_t value, int64_t lo, int64_t hi, const std::string& path,
                        const std::string& unit = "");
// ReadInt64 followed by CheckRange.
absl::StatusOr<int64_t> ReadInt64InRange(FileSystem& fs, const std::string& path, int64_t lo,
                                         int64_t hi, const std::string& unit = "");

// "key value" or "key=value" lines (memory.events, /proc/meminfo "MemTotal: 123 kB") ->
// key -> first number. Lines that do not parse are skipped.
std::map<std::string, int64_t> ParseKeyedNumbers(const std::string& content);

// PSI text "some avg10=1.23 avg60=... total=N\nfull ..." -> the "some" avg10 value.
absl::StatusOr<double> ParsePsiSomeAvg10(const std::string& content, const std::string& path);

// The text with non-printable bytes escaped as \xNN, cut to 60 characters, for messages.
// Its output is ASCII (every byte >= 0x7f is escaped).
std::string Printable(const std::string& text);

// The text as valid UTF-8 for a proto3 string or JSON, whole: well-formed UTF-8 sequences are
// kept, every other byte (a stray 0xff in a directory or cgroup name, an overlong or surrogate
// sequence) and every ASCII control character is escaped as \xNN. Valid text without control
// characters comes back unchanged, so applying it twice changes nothing.
std::string ValidUtf8(const std::string& text);

// Passes the name, reason and values of a status through ValidUtf8. The monitor applies it to
// every status it publishes (SourceStatus.reason is a proto3 string: one invalid byte would
// make every status and context reply fail to serialise).
void MakeValidUtf8(SourceStatus* status);

// Human-readable byte count ("1.5 GiB").
std::string FormatBytes(int64_t bytes);

// The reason goes through ValidUtf8.
SourceStatus MakeStatus(const std::string& name, SourceState state, std::string reason = "");

}  // namespace adaspring::context

#endif  // ADASPRING_DAEMON_CONTEXT_PARSE_H_
