// Store's typed calls: what goes in comes back, each write is all or nothing, and the unique
// key on (run, strategy, prompt, sample index) is reported, never silently skipped.
#include <gtest/gtest.h>

#include "db/errors.hpp"
#include "store_test_util.hpp"

namespace sg::db {
namespace {

using testing::RawDb;
using testing::TempDir;
namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() : store(dir / "store.db") {
    ckpt = testing::add_checkpoint(store);
    run = testing::create_run(store, testing::new_run(ckpt, 4));
    store.add_prompts(run, {{"p1", "prompts", "Once upon a time"}, {"p2", "prompts", "The"}});
  }
  long long count(const std::string& sql) {
    RawDb raw(dir / "store.db");
    return raw.integer(sql);
  }

  TempDir dir;
  Store store;
  std::int64_t ckpt = 0;
  std::int64_t run = 0;
};

TEST_F(StoreTest, CheckpointUpsertKeepsTheIdAndUpdatesWhatWasSeen) {
  CheckpointRecord c = *store.checkpoint(ckpt);
  c.path = "/elsewhere";
  c.stage = "large";
  EXPECT_EQ(store.upsert_checkpoint(c), ckpt);
  const auto back = store.checkpoint_by_sha256(c.sha256);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->path, "/elsewhere");
  EXPECT_EQ(back->stage, "large");
  EXPECT_EQ(back->first_seen_at, c.first_seen_at);
  EXPECT_NE(testing::add_checkpoint(store, 'b'), ckpt);
  EXPECT_FALSE(store.checkpoint_by_sha256(std::string(64, 'z')));
}

TEST_F(StoreTest, ANewRunIsRunningAndHeldByThisProcess) {
  const auto r = store.run(run);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, RunStatus::kRunning);
  EXPECT_EQ(r->checkpoint_sha256, std::string(64, 'a'));
  EXPECT_EQ(r->stage, "small");
  EXPECT_EQ(r->samples_planned, 4);
  EXPECT_EQ(r->samples_done, 0);
  ASSERT_TRUE(r->lease);
  EXPECT_EQ(r->lease->pid, static_cast<std::int64_t>(getpid()));
  EXPECT_FALSE(r->ended_at);
  EXPECT_EQ(r->started_at.size(), std::string("2024-05-01T12:00:00.000Z").size());
  EXPECT_EQ(r->started_at.back(), 'Z');
}

TEST_F(StoreTest, SampleRoundTripsExactly) {
  auto s = testing::sample(run, "t0.7", "p1", 3);
  s.seed = 18446744073709551615ull;
  s.logprobs = {-0.1, -2.5000000000000004, -1e-300};
  s.filter_events = {
      {0, "", "memorization.verbatim_block", "blocked_token", {}, {}, {}, 2, R"({"span":12})"}};
  const auto id = store.add_sample(s);
  const auto back = store.samples(run);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, id);
  EXPECT_EQ(back[0].key, s.key);
  EXPECT_EQ(back[0].seed, s.seed);
  EXPECT_EQ(back[0].token_ids, s.token_ids);
  EXPECT_EQ(back[0].logprobs, s.logprobs);  // bit-exact through the JSON text
  EXPECT_EQ(back[0].text, s.text);
  EXPECT_EQ(back[0].finish_reason, "length");
  EXPECT_EQ(back[0].settings.temperature, 0.7);
  EXPECT_EQ(back[0].settings.top_k, 40);
  ASSERT_EQ(back[0].metrics.size(), 2u);
  EXPECT_EQ(back[0].metrics[0].metric, "repetition.seq_rep_4");
  EXPECT_EQ(back[0].metrics[0].value, 0.25);
  const auto events = store.filter_events(run);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].sample_id, id);
  EXPECT_EQ(events[0].run_id, run);
  EXPECT_EQ(events[0].token_position, 2);
  EXPECT_EQ(store.run(run)->samples_done, 1);
}

TEST_F(StoreTest, ExistingSampleKeysAreWhatWasStored) {
  store.add_sample(testing::sample(run, "greedy", "p1", 0));
  store.add_sample(testing::sample(run, "greedy", "p2", 0));
  store.add_sample(testing::sample(run, "t0.7", "p1", 1));
  const std::set<SampleKey> expected = {
      {"greedy", "p1", 0}, {"greedy", "p2", 0}, {"t0.7", "p1", 1}};
  EXPECT_EQ(store.existing_sample_keys(run), expected);
}

TEST_F(StoreTest, ADuplicateSampleIsReportedAndNothingIsWritten) {
  store.add_sample(testing::sample(run, "greedy", "p1", 0));
  auto again = testing::sample(run, "greedy", "p1", 0);
  again.text = "something else";
  try {
    store.add_sample(again);
    FAIL() << "duplicate accepted";
  } catch (const DuplicateSampleError& e) {
    EXPECT_NE(std::string(e.what()).find("'greedy'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'p1'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count("SELECT count(*) FROM samples"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM sample_metrics"), 2);
  EXPECT_EQ(store.samples(run)[0].text, "Hello world!");
}

TEST_F(StoreTest, ASampleAndItsMetricsAreOneTransaction) {
  // The second metric row breaks the metrics' primary key after the sample row and the first
  // metric were inserted: all of it must be rolled back.
  auto s = testing::sample(run, "greedy", "p1", 0);
  s.metrics = {{"toxicity.score", 0.5}, {"toxicity.score", 0.6}};
  EXPECT_THROW(store.add_sample(s), ConstraintError);
  // A filter event that breaks its CHECK fails after sample and metrics were inserted.
  auto t = testing::sample(run, "greedy", "p1", 0);
  t.filter_events = {{0, "", "f", "blocked_token", {}, {}, {}, 0, "not json"}};
  EXPECT_THROW(store.add_sample(t), ConstraintError);
  EXPECT_EQ(count("SELECT count(*) FROM samples"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM sample_metrics"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM filter_events"), 0);
  // And the same sample, corrected, goes in afterwards.
  store.add_sample(testing::sample(run, "greedy", "p1", 0));
  EXPECT_EQ(count("SELECT count(*) FROM sample_metrics"), 2);
}

TEST_F(StoreTest, NonFiniteValuesAreRefusedBeforeWriting) {
  auto s = testing::sample(run, "greedy", "p1", 0);
  s.metrics[0].value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(store.add_sample(s), std::invalid_argument);
  auto t = testing::sample(run, "greedy", "p1", 0);
  t.logprobs.pop_back();
  EXPECT_THROW(store.add_sample(t), std::invalid_argument);
  EXPECT_THROW(store.add_aggregates(run, {{"m", "", "", 1.0, 0.5, std::nullopt, 3}}),
               std::invalid_argument);
  EXPECT_EQ(count("SELECT count(*) FROM samples"), 0);
}

TEST_F(StoreTest, ASampleNeedsItsPromptStoredFirst) {
  EXPECT_THROW(store.add_sample(testing::sample(run, "greedy", "p9", 0)), RuntimeError);
}

TEST_F(StoreTest, PromptsAreAddedOnceAndMustNotChange) {
  store.add_prompts(run, {{"p1", "prompts", "Once upon a time"}, {"p3", "prompts", "New"}});
  EXPECT_EQ(store.prompts(run).size(), 3u);
  EXPECT_THROW(store.add_prompts(run, {{"p2", "prompts", "changed"}}), RuntimeError);
  EXPECT_EQ(store.prompts(run)[1].text, "The");
}

TEST_F(StoreTest, AggregatesAreUpsertedByMetricStrategyAndSlice) {
  store.add_aggregates(run, {{"perplexity.heldout", "", "", 30.0, 29.0, 31.0, 10},
                             {"repetition.seq_rep_4", "greedy", "", 0.5, 0.4, 0.6, 8}});
  store.add_aggregates(run, {{"perplexity.heldout", "", "", 28.0, 27.0, 29.0, 12}});
  const std::vector<Aggregate> expected = {
      {"perplexity.heldout", "", "", 28.0, 27.0, 29.0, 12},
      {"repetition.seq_rep_4", "greedy", "", 0.5, 0.4, 0.6, 8}};
  EXPECT_EQ(store.aggregates(run), expected);
}

TEST_F(StoreTest, ARunCompletesOnlyWithEverySamplePlanned) {
  store.add_sample(testing::sample(run, "greedy", "p1", 0));
  EXPECT_THROW(store.finish_run(run, RunStatus::kCompleted), RuntimeError);
  store.add_sample(testing::sample(run, "greedy", "p2", 0));
  store.add_sample(testing::sample(run, "greedy", "p1", 1));
  store.add_sample(testing::sample(run, "greedy", "p2", 1));
  store.finish_run(run, RunStatus::kCompleted);
  const auto r = store.run(run);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, run);
  EXPECT_EQ(r->status, RunStatus::kCompleted);
  EXPECT_TRUE(r->ended_at);
  EXPECT_FALSE(r->lease);
  EXPECT_EQ(r->samples_done, 4);
  EXPECT_EQ(store.claim_run(run).outcome, ClaimResult::Outcome::kCompleted);
  EXPECT_THROW(store.add_sample(testing::sample(run, "greedy", "p1", 2)), LeaseLostError);
}

TEST_F(StoreTest, StartRunResumesTheUnfinishedRunOfTheSameCheckpointAndPlan) {
  using Outcome = StartRunResult::Outcome;
  store.finish_run(run, RunStatus::kFailed, "disk full");
  EXPECT_EQ(store.run(run)->status, RunStatus::kFailed);
  EXPECT_EQ(store.run(run)->error, "disk full");

  // A failed run is unfinished: resumed, not duplicated.
  auto again = store.start_run(testing::new_run(ckpt, 4), false);
  EXPECT_EQ(again.outcome, Outcome::kResumed);
  EXPECT_EQ(again.run_id, run);
  EXPECT_EQ(store.run(run)->status, RunStatus::kRunning);

  // Another plan on the same checkpoint is another run.
  auto other_plan = store.start_run(testing::new_run(ckpt, 4, std::string(64, 'q')), false);
  EXPECT_EQ(other_plan.outcome, Outcome::kCreated);
  EXPECT_NE(other_plan.run_id, run);

  // --new-run: the unfinished run is abandoned in the same transaction.
  auto fresh = store.start_run(testing::new_run(ckpt, 1), true);
  EXPECT_EQ(fresh.outcome, Outcome::kCreated);
  EXPECT_EQ(fresh.abandoned_run, run);
  EXPECT_EQ(store.run(run)->status, RunStatus::kAbandoned);
  EXPECT_FALSE(store.run(run)->lease);
  EXPECT_THROW(store.add_sample(testing::sample(run, "greedy", "p1", 0)), LeaseLostError);
  EXPECT_EQ(store.claim_run(run).outcome, ClaimResult::Outcome::kCompleted);  // never resumed

  store.add_prompts(fresh.run_id, {{"p1", "prompts", "Once upon a time"}});
  store.add_sample(testing::sample(fresh.run_id, "greedy", "p1", 0));
  store.finish_run(fresh.run_id, RunStatus::kCompleted);
  auto done = store.start_run(testing::new_run(ckpt, 1), false);
  EXPECT_EQ(done.outcome, Outcome::kCompleted);
  EXPECT_EQ(done.run_id, fresh.run_id);
  auto after_done = store.start_run(testing::new_run(ckpt, 1), true);
  EXPECT_EQ(after_done.outcome, Outcome::kCreated);
  EXPECT_FALSE(after_done.abandoned_run);

  const auto all = store.runs();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].id, after_done.run_id);  // newest first
  EXPECT_EQ(db::to_string(all[3].status), "abandoned");
}

TEST_F(StoreTest, TheDatabaseRefusesASecondUnfinishedRunOfOneCheckpointAndPlan) {
  RawDb raw(dir / "store.db");
  const std::string copy =
      "INSERT INTO audit_runs (checkpoint_id, plan_path, plan_hash, plan_text, tool_version, "
      "tool_commit, device, status, samples_planned, started_at) SELECT checkpoint_id, "
      "plan_path, plan_hash, plan_text, tool_version, tool_commit, device, '";
  const std::string from =
      "', samples_planned, started_at FROM audit_runs WHERE id = " + std::to_string(run);
  for (const char* unfinished : {"running", "interrupted", "failed"})
    EXPECT_THROW(raw.exec(copy + unfinished + from), std::runtime_error) << unfinished;
  EXPECT_NO_THROW(raw.exec(copy + "completed" + from));
  EXPECT_NO_THROW(raw.exec(copy + "abandoned" + from));
}

TEST_F(StoreTest, DecisionAppendSealsWithTheHeadItReadAndKeepsTheChainFields) {
  DecisionRecord d;
  d.stage = "small";
  d.checkpoint_id = ckpt;
  d.decision = "rejected";
  d.reason = "memorization.extractable_rate@50 above 0.01";
  d.decided_at = "2024-05-01T12:00:00.000Z";
  std::vector<ChainLink> links;
  auto seal = [&](DecisionRecord& row, const ChainLink& link) {
    links.push_back(link);
    row.prev_hash = link.head_hash.value_or(std::string(64, '0'));
    row.hash = std::string(64, static_cast<char>('0' + link.sequence));
  };
  const auto first = store.append_decision(d, seal);
  d.decided_at.clear();  // the store's clock, set before the seal sees the row
  d.decision = "pending";
  const auto second = store.append_decision(d, seal);

  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].sequence, 1);
  EXPECT_FALSE(links[0].head_hash);
  EXPECT_EQ(links[0].checkpoint_sha256, testing::sha_of('a'));
  EXPECT_EQ(links[1].sequence, 2);
  EXPECT_EQ(links[1].head_hash, std::string(64, '1'));
  EXPECT_NE(second.decided_at, "");
  EXPECT_EQ(second.prev_hash, first.hash);

  const auto all = store.decisions();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, first.id);
  EXPECT_EQ(all[0].decided_at, "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(all[0].prev_hash, std::string(64, '0'));
  EXPECT_EQ(all[0].hash, std::string(64, '1'));
  EXPECT_EQ(all[1].decision, "pending");
  EXPECT_EQ(all[1].decided_at, second.decided_at);
  EXPECT_EQ(all[1].hash, std::string(64, '2'));
}

TEST_F(StoreTest, DecisionsAreAppendOnly) {
  DecisionRecord d;
  d.stage = "small";
  d.checkpoint_id = ckpt;
  d.decision = "approved";
  testing::append_decision(store, d);
  RawDb raw(dir / "store.db");
  EXPECT_THROW(raw.exec("UPDATE decisions SET decision = 'rejected'"), std::runtime_error);
  EXPECT_THROW(raw.exec("DELETE FROM decisions"), std::runtime_error);
  EXPECT_EQ(raw.text("SELECT decision FROM decisions"), "approved");
}

TEST_F(StoreTest, TwoRowsCannotClaimOnePlaceInTheChain) {
  DecisionRecord d;
  d.stage = "small";
  d.checkpoint_id = ckpt;
  d.decision = "approved";
  auto same_place = [](DecisionRecord& row, const ChainLink& link) {
    row.prev_hash = std::string(64, '0');
    row.hash = std::string(63, '0') + std::to_string(link.sequence);
  };
  store.append_decision(d, same_place);
  EXPECT_THROW(store.append_decision(d, same_place), ConstraintError);
  EXPECT_EQ(store.decisions().size(), 1u);
}

TEST_F(StoreTest, ServerRequestsAndTheirFilterEventsAreLogged) {
  ServerRequestRecord r;
  r.checkpoint_id = ckpt;
  r.stage = "small";
  r.client = "researcher";
  r.endpoint = "/v1/completions";
  r.prompt_sha256 = std::string(64, 'e');
  r.prompt_tokens = 5;
  r.completion_tokens = 16;
  r.status_code = 200;
  r.outcome = "filtered";
  const auto id = store.add_server_request(r);
  FilterEventRecord e;
  e.filter = "memorization.verbatim_block";
  e.action = "blocked_token";
  e.request_id = id;
  store.add_filter_event(e);
  EXPECT_EQ(count("SELECT count(*) FROM filter_events WHERE request_id = 1 AND run_id IS NULL"), 1);
  r.outcome = "fine";
  EXPECT_THROW(store.add_server_request(r), ConstraintError);
}

TEST_F(StoreTest, ARequestIsLoggedWithItsFilterEventsInOneTransaction) {
  ServerRequestRecord r;
  r.checkpoint_id = ckpt;
  r.stage = "small";
  r.client = "public";
  r.endpoint = "cli:generate";
  r.prompt_sha256 = std::string(64, 'e');
  r.status_code = 200;
  r.outcome = "filtered";
  FilterEventRecord block;
  block.filter = "memorization.leakage";
  block.action = "block";
  block.token_position = 3;
  FilterEventRecord stop = block;
  stop.filter = "repetition.loop_stop";
  stop.action = "stop";
  const auto id = store.log_request(r, {block, stop});
  EXPECT_EQ(count("SELECT count(*) FROM filter_events WHERE request_id = " + std::to_string(id) +
                  " AND run_id IS NULL AND token_position = 3"),
            2);
  // A bad event rolls the request back with it: nothing half-logged.
  FilterEventRecord bad = block;
  bad.detail_json = "{not json";
  EXPECT_THROW(store.log_request(r, {block, bad}), ConstraintError);
  EXPECT_EQ(count("SELECT count(*) FROM server_requests"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM filter_events"), 2);
  FilterEventRecord of_run = block;
  of_run.run_id = run;
  EXPECT_THROW(store.log_request(r, {of_run}), std::invalid_argument);
}

}  // namespace
}  // namespace sg::db
