// `stagegate generate --policy --db --stage --audience`, end to end on a copy of the GPT-2
// fixture as the policy's one stage: who is refused (exit 5, the reason named, the refusal
// logged), who gets in, and that the filters that run are exactly the policy's for the
// (stage, audience) pair, each event logged with its request.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cli/fixture_models.hpp"
#include "cli/run_command.hpp"
#include "common/sha256.hpp"
#include "db/store_test_util.hpp"
#include "memorization/index_builder.hpp"
#include "memorization/tokenizer_hash.hpp"
#include "release/gate_fixture.hpp"

namespace sg::testing {
namespace {

namespace mem = detectors::memorization;
using nlohmann::json;

const std::vector<std::string> kGreedy{"--ids",        "1,2,3", "--temperature", "0",
                                       "--max-tokens", "24",    "--ignore-eos",  "--json"};

// The fixture's one stage under a policy file: the stage has a leakage filter for everyone,
// and `public` also gets a loop stop and a toxicity filter that refuses everything (an
// [access] section).
class PolicyCli : public ::testing::Test {
 protected:
  PolicyCli() {
    const std::string text =
        "[family]\nname = test\n"
        "[stage.stage1]\ncheckpoint = stage1\nsha256 = " +
        g.sha256() +
        "\naudiences = researchers, public\nfilters = no-leak\n"
        "[audience.researchers]\nunreleased = true\n"
        "[audience.public]\nunreleased = false\n"
        "[access.public-loops]\nstage = stage1\naudience = public\n"
        "filters = loops, strict\n"
        "[filter.no-leak]\ntype = leakage\nindex = {stage}.sgidx\nn = 4\n"
        "[filter.loops]\ntype = repetition\nstop_on_loop = true\n"
        "loop_min_length = 5\n"
        // Threshold 0: every completion is refused, so the test sees
        // that this filter ran.
        "[filter.strict]\ntype = toxicity\naction = refuse\n"
        "threshold = 0\n";
    write_file(policy_file(), text);
    g.policy().sha256 = sha256_hex(text);  // the decisions are recorded under the file's hash
    index_greedy_continuation();
  }

  fs::path policy_file() const { return g.dir() / "policy.ini"; }

  CommandResult generate(const std::string& audience, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"generate", "--policy",    policy_file().string(),
                                  "--db",     db().string(), "--stage",
                                  "stage1",   "--audience",  audience};
    args.insert(args.end(), kGreedy.begin(), kGreedy.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return run_stagegate(args);
  }

  fs::path db() const { return g.dir() / "audit.db"; }

  // The model's own greedy continuation as the stage's corpus, so that the leakage filter
  // must act.
  void index_greedy_continuation() {
    std::vector<std::string> args{"generate", "--model", kGpt2};
    args.insert(args.end(), kGreedy.begin(), kGreedy.end());
    const auto r = run_stagegate(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    free_tokens = json::parse(r.out)["tokens"].get<std::vector<std::int32_t>>();
    mem::TokenizedCorpus c;
    c.vocab_size = 1000;  // the fixture's
    c.tokenizer_hash = mem::tokenizer_hash(kGpt2);
    c.names = {"continuation"};
    c.documents = {{1, 2, 3}};
    c.documents[0].insert(c.documents[0].end(), free_tokens.begin(), free_tokens.end());
    mem::build_index(c, g.dir() / "stage1.sgidx", {.threads = 1, .progress = false});
  }

  void expect_refused(const std::string& audience, const std::vector<std::string>& fragments) {
    const auto before = RawDb(db()).integer("SELECT count(*) FROM server_requests");
    const auto r = generate(audience);
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    for (const auto& f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << r.err;
    RawDb raw(db());
    EXPECT_EQ(raw.integer("SELECT count(*) FROM server_requests"), before + 1);
    EXPECT_EQ(raw.text("SELECT outcome || ' ' || client || ' ' || endpoint || ' ' || status_code "
                       "FROM server_requests ORDER BY id DESC LIMIT 1"),
              "refused " + audience + " cli:generate 403");
  }

  GateFixture g;
  std::vector<std::int32_t> free_tokens;
};

TEST_F(PolicyCli, AStageNotApprovedIsRefusedForPublicAndTheRefusalLogged) {
  expect_refused("public", {"'stage1'", "'public'", "no decision"});
  g.decide("pending", "the audit of plans/demo.ini has not run");
  expect_refused("public", {"pending", "plans/demo.ini has not run"});
  g.decide("approved", "");
  g.decide("revoked", "leaks the corpus");
  expect_refused("public", {"revoked", "leaks the corpus"});
}

TEST_F(PolicyCli, PendingIsServedToResearchersUnderTheirFiltersOnly) {
  const auto row = g.decide("pending", "not_before 2019-02-14 not reached");
  const auto r = generate("researchers");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["stage"], "stage1");
  EXPECT_EQ(j["checkpoint_sha256"], g.sha256());
  EXPECT_EQ(j["decision_id"], row.id);
  EXPECT_EQ(j["filters"], json::array({"no-leak"}));
  // The leakage filter ran: the indexed continuation is not reproduced, each block an event.
  ASSERT_FALSE(j["events"].empty());
  EXPECT_NE(j["tokens"].get<std::vector<std::int32_t>>(), free_tokens);
  for (const auto& e : j["events"]) EXPECT_EQ(e["filter"], "memorization.leakage");
  // ... and each event is logged with the request.
  RawDb raw(db());
  const auto id = std::to_string(j["request_id"].get<std::int64_t>());
  EXPECT_EQ(raw.text("SELECT outcome || ' ' || client || ' ' || stage FROM server_requests "
                     "WHERE id = " +
                     id),
            "filtered researchers stage1");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM filter_events WHERE run_id IS NULL AND "
                        "filter = 'memorization.leakage' AND request_id = " +
                        id),
            static_cast<long long>(j["events"].size()));
  const auto settings =
      json::parse(raw.text("SELECT settings_json FROM server_requests WHERE id = " + id));
  EXPECT_EQ(settings["decision_id"], row.id);
  EXPECT_EQ(settings["filters"], json::parse(R"([{"name": "no-leak", "type": "leakage"}])"));
  EXPECT_FALSE(settings["decoding"].contains("stop_on_loop"));
}

TEST_F(PolicyCli, RejectedIsRefusedToEveryone) {
  g.decide("rejected", "toxicity.expected_max 0.65 > 0.3");
  expect_refused("researchers", {"rejected", "0.65 > 0.3"});
  expect_refused("public", {"rejected", "0.65 > 0.3"});
}

TEST_F(PolicyCli, AModifiedCheckpointIsRefusedThoughApproved) {
  g.decide("approved", "");
  const auto weights = g.dir() / "stage1" / "model.safetensors";
  auto bytes = file_bytes(weights);
  bytes[bytes.size() - 1] ^= 0x01;
  write_file(weights, bytes);
  expect_refused("public", {"hashes to", "modified"});
}

TEST_F(PolicyCli, PublicGetsTheStagesAndItsOwnFiltersAndOverridesAreNoted) {
  g.decide("approved", "");
  const auto r = generate("public", {"--stop-on-loop", "--loop-min-length", "9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("note: policy filter 'loops' sets loop_min_length = 5 (asked: 9)"),
            std::string::npos)
      << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["filters"], json::array({"no-leak", "loops", "strict"}));
  EXPECT_EQ(j["finish_reason"], "content_filter");
  std::set<std::string> ran;
  for (const auto& e : j["events"]) ran.insert(e["filter"].get<std::string>());
  EXPECT_EQ(ran, (std::set<std::string>{"memorization.leakage", "toxicity.output"}));
  RawDb raw(db());
  const auto id = std::to_string(j["request_id"].get<std::int64_t>());
  const auto settings =
      json::parse(raw.text("SELECT settings_json FROM server_requests WHERE id = " + id));
  EXPECT_EQ(settings["decoding"]["stop_on_loop"], true);
  EXPECT_EQ(settings["decoding"]["loop_min_length"], 5);
  ASSERT_EQ(settings["overrides"].size(), 1u);
  EXPECT_EQ(settings["overrides"][0]["key"], "loop_min_length");
  EXPECT_EQ(settings["decoding"]["toxicity_threshold"], 0);
  // Every event of the generation, and only those, is logged with the request.
  EXPECT_EQ(raw.integer("SELECT count(*) FROM filter_events WHERE request_id = " + id),
            static_cast<long long>(j["events"].size()));
  EXPECT_EQ(raw.integer("SELECT count(*) FROM filter_events WHERE filter = 'toxicity.output' "
                        "AND action = 'refuse' AND request_id = " +
                        id),
            1);
}

TEST_F(PolicyCli, AnAlteredChainRefusesEveryone) {
  const auto row = g.decide("rejected", "perplexity too high");
  RawDb(db()).exec("DROP TRIGGER decisions_no_update");  // as an attacker would
  RawDb(db()).exec("UPDATE decisions SET decision = 'approved' WHERE id = " +
                   std::to_string(row.id));
  expect_refused("public", {"does not verify"});
}

TEST_F(PolicyCli, GateOptionsAreUsageErrors) {
  auto r =
      run_stagegate({"generate", "--policy", policy_file().string(), "--db", db().string(),
                     "--stage", "stage1", "--audience", "public", "--model", kGpt2, "--ids", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model: not with --policy"), std::string::npos) << r.err;
  r = run_stagegate({"generate", "--policy", policy_file().string(), "--stage", "stage1",
                     "--audience", "public", "--ids", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--policy needs --db"), std::string::npos) << r.err;
  r = run_stagegate({"generate", "--policy", policy_file().string(), "--db",
                     (g.dir() / "missing.db").string(), "--stage", "stage1", "--audience", "public",
                     "--ids", "1"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("missing.db: no such store"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(g.dir() / "missing.db"));
  r = run_stagegate({"generate", "--model", kGpt2, "--stage", "stage1", "--ids", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--stage needs --policy"), std::string::npos) << r.err;
  r = run_stagegate({"generate", "--ids", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sg::testing
