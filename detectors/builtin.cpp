// The detectors stagegate ships, by name. A new detector adds one line here.
#include "capability/capability_detector.hpp"
#include "memorization/memorization_detector.hpp"
#include "perplexity/perplexity_detector.hpp"
#include "repetition/repetition_detector.hpp"
#include "seam/registry.hpp"
#include "toxicity/toxicity_detector.hpp"

namespace sg::detectors {

const Registry& builtin_registry() {
  static const Registry registry = [] {
    Registry r;
    r.add(capability_detector());
    r.add(memorization_detector());
    r.add(perplexity_detector());
    r.add(repetition_detector());
    r.add(toxicity_detector());
    return r;
  }();
  return registry;
}

}  // namespace sg::detectors
