// Decision evidence as JSON: every double comes back with the same bits, the text is
// canonical (what the chain hashes), and anything to_json would not write is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/errors.hpp"
#include "release/evidence.hpp"

namespace sg::release {
namespace {

RequirementEvidence requirement(double value) {
  RequirementEvidence r;
  r.requirement = "toxicity";
  r.metric = "toxicity.expected_max";
  r.strategy = "toxicity.rtp";
  r.slice = "prompt=toxic";
  r.plan = "plans/demo.ini";
  r.plan_hash = std::string(64, 'p');
  r.run_id = 7;
  r.value = value;
  r.ci_low = value - 0.1;
  r.ci_high = std::nextafter(value, 2.0);
  r.n = 100;
  r.compared = r.ci_high;
  r.comparison = "<=";
  r.threshold = 0.3;
  r.estimate = "conservative";
  r.outcome = "failed";
  r.note = "0.653 [0.553, 0.653] > 0.3 \"quoted\" \xc3\xa9";
  return r;
}

Evidence sample_evidence() {
  Evidence e;
  e.checkpoint_sha256_found = std::string(64, 'c');
  e.requirements = {requirement(0.1 + 0.2), requirement(6.02214076e23),
                    requirement(std::numeric_limits<double>::denorm_min())};
  e.requirements[1].run_id.reset();
  e.requirements[1].value.reset();
  e.requirements[1].ci_low.reset();
  e.requirements[1].ci_high.reset();
  e.requirements[1].compared.reset();
  e.requirements[1].outcome = "missing";
  e.pending = {"not before 2019-11-05", "stage3 is not approved"};
  e.revocation_id = 3;
  return e;
}

TEST(Evidence, RoundTripsExactlyIncludingAwkwardDoubles) {
  const Evidence e = sample_evidence();
  const std::string text = to_json(e);
  const Evidence back = evidence_from_json(text);
  EXPECT_EQ(back, e);
  EXPECT_EQ(to_json(back), text);
  // Bits, not just ==: 0.1 + 0.2 is not 0.3, and it must not come back as 0.3.
  EXPECT_EQ(*back.requirements[0].value, 0.1 + 0.2);
  EXPECT_NE(*back.requirements[0].value, 0.3);
  EXPECT_EQ(*back.requirements[2].value, std::numeric_limits<double>::denorm_min());
}

TEST(Evidence, NonFiniteValuesSurvive) {
  Evidence e;
  e.requirements = {requirement(std::numeric_limits<double>::infinity())};
  e.requirements[0].ci_low = -std::numeric_limits<double>::infinity();
  e.requirements[0].compared = std::numeric_limits<double>::quiet_NaN();
  const Evidence back = evidence_from_json(to_json(e));
  EXPECT_EQ(*back.requirements[0].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(*back.requirements[0].ci_low, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(*back.requirements[0].compared));
}

TEST(Evidence, TextIsCanonicalSortedAndCompact) {
  const std::string text = to_json(sample_evidence());
  EXPECT_LT(text.find("\"checkpoint_sha256_found\""), text.find("\"pending\""));
  EXPECT_LT(text.find("\"pending\""), text.find("\"requirements\""));
  EXPECT_LT(text.find("\"requirements\""), text.find("\"revocation_id\""));
  EXPECT_EQ(
      to_json(Evidence{}),
      R"({"checkpoint_sha256_found":"","pending":[],"requirements":[],"revocation_id":null})");
}

void expect_refused(const std::string& json, const std::string& fragment) {
  try {
    evidence_from_json(json);
    ADD_FAILURE() << "accepted: " << json;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "expected '" << fragment << "' in: " << e.what();
  }
}

TEST(Evidence, AnythingToJsonWouldNotWriteIsRefusedNamingTheField) {
  const std::string good = to_json(sample_evidence());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    if (at == std::string::npos) throw std::logic_error("fixture lacks " + from);
    return s.replace(at, from.size(), to);
  };
  expect_refused("", "not JSON");
  expect_refused("[1, 2]", "evidence: expected an object");
  expect_refused("{}", "evidence.checkpoint_sha256_found: missing");
  expect_refused(with("\"revocation_id\":3", "\"revocation_id\":3,\"extra\":1"),
                 "evidence.extra: unknown field");
  expect_refused(with("\"revocation_id\":3", "\"revocation_id\":3.5"),
                 "evidence.revocation_id: expected an integer");
  expect_refused(with("\"n\":100", "\"n\":\"100\""),
                 "evidence.requirements[0].n: expected an integer");
  expect_refused(with("\"threshold\":0.3", "\"threshold\":\"0.3\""),
                 "evidence.requirements[0].threshold: expected a number");
  expect_refused(with("\"pending\":[\"not", "\"pending\":[1,\"not"), "evidence.pending[0]");
  expect_refused(with("\"note\":", "\"notes\":"), "evidence.requirements[0].note: missing");
  expect_refused(with("\"requirements\":[", "\"requirements\":[7,"),
                 "evidence.requirements[0]: expected an object");
}

}  // namespace
}  // namespace sg::release
