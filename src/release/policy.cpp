#include "release/policy.hpp"

// Implemented on its branch; the interface is fixed first so that the parts can be built
// in parallel.
