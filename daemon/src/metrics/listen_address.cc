#include "metrics/listen_address.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace adaspring::daemon {

bool ListenAddress::IsLoopback() const {
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return host == "::1";
}

absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\": ", why));
  };
  ListenAddress address;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("expected [IPv6]:port");
    }
    address.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    in6_addr v6;
    if (inet_pton(AF_INET6, address.host.c_str(), &v6) != 1) return bad("bad IPv6 address");
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad("expected host:port");
    address.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (address.host == "localhost") address.host = "127.0.0.1";
    in_addr v4;
    if (inet_pton(AF_INET, address.host.c_str(), &v4) != 1) {
      return bad("host must be an IPv4 address, [IPv6] or localhost");
    }
  }
  uint32_t port = 0;
  if (port_text.empty() || !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  address.port = static_cast<uint16_t>(port);
  return address;
}

}  // namespace adaspring::daemon
