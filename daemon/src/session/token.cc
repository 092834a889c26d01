#include "session/token.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace adaspring::daemon {

absl::StatusOr<Token> NewToken() {
  Token t;
  size_t got = 0;
  while (got < t.size()) {
    const ssize_t n = getrandom(t.data() + got, t.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("getrandom: ", std::strerror(errno)));
    }
    got += static_cast<size_t>(n);
  }
  return t;
}

bool TokenEquals(const Token& token, const std::string& presented) {
  if (presented.size() != token.size()) return false;
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    diff = diff | (token[i] ^ static_cast<uint8_t>(presented[i]));
  }
  return diff == 0;
}

}  // namespace adaspring::daemon
