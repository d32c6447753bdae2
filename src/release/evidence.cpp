#include "release/evidence.hpp"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "common/errors.hpp"

namespace sg::release {

namespace {

using nlohmann::json;

// JSON has no infinity or NaN (nlohmann would write null, and the value would not come back),
// so those are written as strings; every finite double is written in its shortest form that
// reads back to the same bits.
json json_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

template <class T>
json optional(const std::optional<T>& v) {
  if (!v) return nullptr;
  if constexpr (std::is_same_v<T, double>) {
    return json_number(*v);
  } else {
    return *v;
  }
}

json requirement_json(const RequirementEvidence& r) {
  return {{"requirement", r.requirement},
          {"metric", r.metric},
          {"strategy", r.strategy},
          {"slice", r.slice},
          {"plan", r.plan},
          {"plan_hash", r.plan_hash},
          {"run_id", optional(r.run_id)},
          {"value", optional(r.value)},
          {"ci_low", optional(r.ci_low)},
          {"ci_high", optional(r.ci_high)},
          {"n", r.n},
          {"compared", optional(r.compared)},
          {"comparison", r.comparison},
          {"threshold", json_number(r.threshold)},
          {"estimate", r.estimate},
          {"outcome", r.outcome},
          {"note", r.note}};
}

// Reads a JSON object field by field, naming the field in every error and refusing keys it
// was not asked for, so that evidence written by anything but to_json is noticed.
class EvidenceReader {
 public:
  EvidenceReader(const json& object, std::string where)
      : object_(object), where_(std::move(where)) {
    if (!object_.is_object()) fail(where_, "expected an object, got " + kind(object_));
  }

  std::string text(const std::string& key) {
    const json& v = at(key);
    if (!v.is_string()) fail(path(key), "expected a string, got " + kind(v));
    return v.get<std::string>();
  }
  std::int64_t integer(const std::string& key) {
    const json& v = at(key);
    if (!v.is_number_integer()) fail(path(key), "expected an integer, got " + kind(v));
    return v.get<std::int64_t>();
  }
  std::optional<std::int64_t> optional_integer(const std::string& key) {
    if (at(key).is_null()) return std::nullopt;
    return integer(key);
  }
  double real(const std::string& key) {
    const json& v = at(key);
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
      const auto s = v.get<std::string>();
      if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
      if (s == "Infinity") return std::numeric_limits<double>::infinity();
      if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    }
    fail(path(key), "expected a number, got " + kind(v));
  }
  std::optional<double> optional_real(const std::string& key) {
    if (at(key).is_null()) return std::nullopt;
    return real(key);
  }
  const json& array(const std::string& key) {
    const json& v = at(key);
    if (!v.is_array()) fail(path(key), "expected an array, got " + kind(v));
    return v;
  }
  std::string path(const std::string& key) const { return where_ + "." + key; }

  // Every key of the object was read.
  void done() const {
    for (const auto& [key, value] : object_.items())
      if (!read_.contains(key)) fail(path(key), "unknown field");
  }

  [[noreturn]] static void fail(const std::string& field, const std::string& what) {
    throw InputError("decision evidence: " + field + ": " + what);
  }

 private:
  const json& at(const std::string& key) {
    const auto it = object_.find(key);
    if (it == object_.end()) fail(path(key), "missing");
    read_.insert(key);
    return *it;
  }
  static std::string kind(const json& v) { return v.type_name(); }

  const json& object_;
  std::string where_;
  std::set<std::string> read_;
};

RequirementEvidence requirement_from(const json& object, const std::string& where) {
  EvidenceReader in(object, where);
  RequirementEvidence r;
  r.requirement = in.text("requirement");
  r.metric = in.text("metric");
  r.strategy = in.text("strategy");
  r.slice = in.text("slice");
  r.plan = in.text("plan");
  r.plan_hash = in.text("plan_hash");
  r.run_id = in.optional_integer("run_id");
  r.value = in.optional_real("value");
  r.ci_low = in.optional_real("ci_low");
  r.ci_high = in.optional_real("ci_high");
  r.n = in.integer("n");
  r.compared = in.optional_real("compared");
  r.comparison = in.text("comparison");
  r.threshold = in.real("threshold");
  r.estimate = in.text("estimate");
  r.outcome = in.text("outcome");
  r.note = in.text("note");
  in.done();
  return r;
}

}  // namespace

std::string to_json(const Evidence& evidence) {
  json requirements = json::array();
  for (const auto& r : evidence.requirements) requirements.push_back(requirement_json(r));
  const json out = {{"checkpoint_sha256_found", evidence.checkpoint_sha256_found},
                    {"requirements", std::move(requirements)},
                    {"pending", evidence.pending},
                    {"revocation_id", optional(evidence.revocation_id)}};
  // nlohmann's object keeps its keys sorted: the text is canonical. Invalid UTF-8 in a field
  // is an error rather than text that no reader could parse back.
  try {
    return out.dump();
  } catch (const json::exception& e) {
    throw InputError(std::string("decision evidence: cannot be written as JSON: ") + e.what());
  }
}

Evidence evidence_from_json(std::string_view text) {
  json parsed;
  try {
    parsed = json::parse(text);
  } catch (const json::exception& e) {
    throw InputError(std::string("decision evidence: not JSON: ") + e.what());
  }
  EvidenceReader in(parsed, "evidence");
  Evidence evidence;
  evidence.checkpoint_sha256_found = in.text("checkpoint_sha256_found");
  const json& requirements = in.array("requirements");
  for (std::size_t i = 0; i < requirements.size(); ++i)
    evidence.requirements.push_back(
        requirement_from(requirements[i], in.path("requirements") + "[" + std::to_string(i) + "]"));
  const json& pending = in.array("pending");
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (!pending[i].is_string())
      EvidenceReader::fail(in.path("pending") + "[" + std::to_string(i) + "]",
                           std::string("expected a string, got ") + pending[i].type_name());
    evidence.pending.push_back(pending[i].get<std::string>());
  }
  evidence.revocation_id = in.optional_integer("revocation_id");
  in.done();
  return evidence;
}

}  // namespace sg::release
