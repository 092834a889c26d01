#include "adaspring/client/version.h"

namespace adaspring::client {

const char* Version() { return ADASPRING_CLIENT_VERSION; }

}  // namespace adaspring::client
