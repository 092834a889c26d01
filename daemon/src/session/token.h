// Session tokens: 128 random bits from getrandom(2), compared in constant time so that a
// caller cannot learn a prefix from response timing.
#ifndef ADASPRING_DAEMON_SESSION_TOKEN_H_
#define ADASPRING_DAEMON_SESSION_TOKEN_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace adaspring::daemon {

using Token = std::array<uint8_t, 16>;

absl::StatusOr<Token> NewToken();
// True when `presented` is exactly the token; time depends only on presented.size().
bool TokenEquals(const Token& token, const std::string& presented);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SESSION_TOKEN_H_
