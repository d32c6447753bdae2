// The access gate: who may generate from a stage, by its decision in force, the audience's
// right to unreleased stages, the checkpoint's bytes and the decision chain.
#include <gtest/gtest.h>

#include <fstream>

#include "common/errors.hpp"
#include "db/store_test_util.hpp"
#include "release/access.hpp"
#include "release/gate_fixture.hpp"

namespace sg::testing {
namespace {

using release::grant_access;

// The AccessDenied message of grant_access, or a failure when access was granted.
std::string denial(GateFixture& g, const std::string& audience) {
  try {
    grant_access(g.policy(), g.store(), "stage1", audience);
  } catch (const AccessDenied& e) {
    return e.what();
  }
  ADD_FAILURE() << "stage1 was granted to " << audience;
  return "";
}

void expect_names(const std::string& message, const std::vector<std::string>& fragments) {
  for (const auto& f : fragments) EXPECT_NE(message.find(f), std::string::npos) << message;
}

TEST(AccessGate, WithoutADecisionOnlyAnAudienceAllowedUnreleasedStagesGetsIn) {
  GateFixture g;
  expect_names(denial(g, "public"), {"'stage1'", "'public'", "no decision", "stagegate decide"});
  const auto grant = grant_access(g.policy(), g.store(), "stage1", "researchers");
  EXPECT_EQ(grant.stage->name, "stage1");
  EXPECT_EQ(grant.audience->name, "researchers");
  EXPECT_FALSE(grant.decision.has_value());
}

TEST(AccessGate, PendingIsRefusedForPublicAndAllowedForResearchers) {
  GateFixture g;
  const auto row = g.decide("pending", "not_before 2019-02-14 not reached");
  expect_names(denial(g, "public"),
               {"'stage1'", "'public'", "pending", "2019-02-14", "#" + std::to_string(row.id)});
  const auto grant = grant_access(g.policy(), g.store(), "stage1", "researchers");
  ASSERT_TRUE(grant.decision.has_value());
  EXPECT_EQ(grant.decision->id, row.id);
}

TEST(AccessGate, ApprovedIsGrantedToEveryListedAudience) {
  GateFixture g;
  const auto row = g.decide("approved", "");
  for (const auto* audience : {"public", "researchers"}) {
    const auto grant = grant_access(g.policy(), g.store(), "stage1", audience);
    ASSERT_TRUE(grant.decision.has_value());
    EXPECT_EQ(grant.decision->id, row.id);
    EXPECT_EQ(grant.decision->decision, "approved");
  }
}

TEST(AccessGate, RejectedIsRefusedToEveryoneWithItsReason) {
  GateFixture g;
  g.decide("approved", "");
  g.decide("rejected", "toxicity.expected_max 0.65 > 0.3");
  for (const auto* audience : {"public", "researchers"})
    expect_names(denial(g, audience), {"'stage1'", audience, "rejected", "0.65 > 0.3"});
}

TEST(AccessGate, ARevocationUnderAnyPolicyWins) {
  GateFixture g;
  g.decide("approved", "");
  g.decide("revoked", "found to leak the corpus", std::string(64, 'b'));
  for (const auto* audience : {"public", "researchers"})
    expect_names(denial(g, audience), {"revoked", "found to leak the corpus"});
}

TEST(AccessGate, AnApprovalUnderAnotherPolicyDoesNotCount) {
  GateFixture g;
  g.decide("approved", "", std::string(64, 'b'));
  expect_names(denial(g, "public"), {"no decision", g.policy().sha256});
}

TEST(AccessGate, AnAudienceTheStageDoesNotListIsRefused) {
  GateFixture g;
  g.decide("approved", "");
  expect_names(denial(g, "partners"), {"'partners'", "researchers, public"});
}

TEST(AccessGate, AModifiedCheckpointIsRefusedEvenWhenApproved) {
  GateFixture g;
  g.decide("approved", "");
  const auto weights = g.dir() / "stage1" / "model.safetensors";
  auto bytes = file_bytes(weights);
  bytes[bytes.size() - 1] ^= 0x01;  // the last byte of a tensor, not the header
  write_file(weights, bytes);
  for (const auto* audience : {"public", "researchers"})
    expect_names(denial(g, audience), {"hashes to", g.sha256(), "modified"});
}

TEST(AccessGate, AnUnreadableCheckpointIsRefused) {
  GateFixture g;
  g.decide("approved", "");
  fs::remove(g.dir() / "stage1" / "config.json");
  expect_names(denial(g, "public"), {"cannot be read", "config.json"});
}

TEST(AccessGate, AnAlteredDecisionChainIsRefused) {
  GateFixture g;
  const auto row = g.decide("rejected", "perplexity too high");
  {
    RawDb raw(g.store().file());
    // As an attacker would: the append-only triggers stop mistakes, not people.
    raw.exec("DROP TRIGGER decisions_no_update");
    raw.exec("UPDATE decisions SET decision = 'approved' WHERE id = " + std::to_string(row.id));
  }
  expect_names(denial(g, "public"), {"does not verify", "audit.db"});
}

TEST(AccessGate, UnknownStagesAndAudiencesAreInputErrors) {
  GateFixture g;
  EXPECT_THROW(grant_access(g.policy(), g.store(), "stage9", "public"), InputError);
  EXPECT_THROW(grant_access(g.policy(), g.store(), "stage1", "everyone"), InputError);
}

TEST(AccessGate, TheFiltersAreExactlyThePolicysForThePair) {
  GateFixture g;
  g.decide("approved", "");
  auto& p = g.policy();
  for (const auto* name : {"leak", "tox", "loop", "unused"}) {
    release::FilterSpec f;
    f.name = name;
    p.filters.push_back(f);
  }
  p.stages[0].filters = {"leak"};
  p.audiences[1].filters = {"tox"};  // public
  p.access.push_back({"public-loop", "stage1", "public", {"loop"}, 0});
  const auto names = [&](const std::string& audience) {
    std::vector<std::string> out;
    for (const auto* f : grant_access(p, g.store(), "stage1", audience).filters)
      out.push_back(f->name);
    return out;
  };
  EXPECT_EQ(names("public"), (std::vector<std::string>{"leak", "tox", "loop"}));
  EXPECT_EQ(names("researchers"), (std::vector<std::string>{"leak"}));
}

}  // namespace
}  // namespace sg::testing
