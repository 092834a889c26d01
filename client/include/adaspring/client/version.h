#ifndef ADASPRING_CLIENT_VERSION_H_
#define ADASPRING_CLIENT_VERSION_H_

namespace adaspring::client {

// Version of the client library, e.g. "0.1.0".
const char* Version();

}  // namespace adaspring::client

#endif  // ADASPRING_CLIENT_VERSION_H_
