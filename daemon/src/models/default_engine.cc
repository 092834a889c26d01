#include "models/engine_facade.h"

namespace adaspring::daemon {

// The daemon serves with the real engine; SimEngine is for tests that need exact costs.
std::unique_ptr<EngineFacade> NewDefaultEngine() { return NewRealEngine(); }

}  // namespace adaspring::daemon
