#include "models/engine_facade.h"

namespace adaspring::daemon {

// The real engine's evolution/cost model/search are wired in real_engine.cc once built; until
// then the daemon serves with SimEngine.
std::unique_ptr<EngineFacade> NewDefaultEngine() { return NewSimEngine(); }

}  // namespace adaspring::daemon
