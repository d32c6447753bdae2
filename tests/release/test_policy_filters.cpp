// A policy's filters made concrete: settings laid over a request's (the policy wins, each
// replaced setting reported), and leakage filters opened for the stage's model.
#include <gtest/gtest.h>

#include "../audit/plan_files.hpp"
#include "common/errors.hpp"
#include "memorization/index_builder.hpp"
#include "memorization/leakage_filter.hpp"
#include "memorization/tokenizer_hash.hpp"
#include "release/policy_filters.hpp"

namespace sg::testing {
namespace {

namespace fs = std::filesystem;
namespace mem = detectors::memorization;
using release::FilterSpec;

const fs::path kGpt2 = fs::path(STAGEGATE_FIXTURES) / "models/gpt2-f32";

FilterSpec filter(const std::string& name, FilterSpec::Type type,
                  const std::vector<std::string>& keys, const audit::Decoding& settings = {}) {
  FilterSpec f;
  f.name = name;
  f.type = type;
  f.keys = keys;
  f.settings = settings;
  return f;
}

TEST(PolicyFilters, EveryDecodingKeyCanBeSetByAFilter) {
  const audit::Decoding requested;
  for (const auto& key : audit::decoding_keys()) {
    const auto f = filter("f", FilterSpec::Type::kRepetition, {key.name});
    const auto out = release::apply_filters(requested, {}, {&f});
    EXPECT_NE(std::find(out.set.begin(), out.set.end(), key.name), out.set.end()) << key.name;
  }
}

TEST(PolicyFilters, AKeyThatIsNoSettingNamesTheFilter) {
  const auto f = filter("loops", FilterSpec::Type::kRepetition, {"stop_on_loops"});
  try {
    release::apply_filters({}, {}, {&f});
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("filter.loops: 'stop_on_loops'"), std::string::npos)
        << e.what();
  }
}

TEST(PolicyFilters, TheFiltersKeysOverrideTheRequestAndEachOverrideIsReported) {
  audit::Decoding requested;
  requested.filters = {"toxicity"};
  requested.toxicity_action = "redact";
  requested.toxicity_threshold = 0.9;
  requested.repetition_penalty = 1.0;
  requested.temperature = 0.7;
  const std::vector<std::string> asked{"filters", "toxicity_action", "toxicity_threshold",
                                       "repetition_penalty", "temperature"};

  audit::Decoding tox_settings;
  tox_settings.filters = {"toxicity"};
  tox_settings.toxicity_action = "regenerate";
  tox_settings.toxicity_threshold = 0.9;  // the same as asked: not an override
  tox_settings.toxicity_retries = 2;
  const auto tox = filter("tox", FilterSpec::Type::kToxicity,
                          {"filters", "toxicity_action", "toxicity_threshold", "toxicity_retries"},
                          tox_settings);
  audit::Decoding rep_settings;
  rep_settings.repetition_penalty = 1.3;
  rep_settings.stop_on_loop = true;
  const auto rep = filter("rep", FilterSpec::Type::kRepetition,
                          {"repetition_penalty", "stop_on_loop"}, rep_settings);
  const auto leak = filter("leak", FilterSpec::Type::kLeakage, {});

  const auto out = release::apply_filters(requested, asked, {&tox, &rep, &leak});
  EXPECT_EQ(out.decoding.filters, (std::vector<std::string>{"toxicity"}));
  EXPECT_EQ(out.decoding.toxicity_action, "regenerate");
  EXPECT_EQ(out.decoding.toxicity_threshold, 0.9);
  EXPECT_EQ(out.decoding.toxicity_retries, 2);
  EXPECT_EQ(out.decoding.repetition_penalty, 1.3);
  EXPECT_TRUE(out.decoding.stop_on_loop);
  EXPECT_EQ(out.decoding.temperature, 0.7);  // no filter sets it: the request's stands
  ASSERT_EQ(out.overrides.size(), 2u);
  EXPECT_EQ(out.overrides[0].filter, "tox");
  EXPECT_EQ(out.overrides[0].key, "toxicity_action");
  EXPECT_EQ(out.overrides[0].requested, "redact");
  EXPECT_EQ(out.overrides[0].applied, "regenerate");
  EXPECT_EQ(out.overrides[1].filter, "rep");
  EXPECT_EQ(out.overrides[1].key, "repetition_penalty");
  EXPECT_EQ(out.overrides[1].requested, "1");
  EXPECT_EQ(out.overrides[1].applied, "1.3");
  for (const auto* key : {"toxicity_retries", "stop_on_loop", "temperature"})
    EXPECT_NE(std::find(out.set.begin(), out.set.end(), key), out.set.end()) << key;
  EXPECT_FALSE(audit::check_decoding(out.decoding, out.set).has_value());
}

TEST(PolicyFilters, ABlockSeverityAloneAddsNoAfterGenerationFilter) {
  audit::Decoding settings;
  settings.toxicity_block_severity = 2;
  const auto f =
      filter("curses", FilterSpec::Type::kToxicity, {"toxicity_block_severity"}, settings);
  const auto out = release::apply_filters({}, {}, {&f});
  EXPECT_TRUE(out.decoding.filters.empty());
  EXPECT_EQ(out.decoding.toxicity_block_severity, 2);
  EXPECT_TRUE(out.overrides.empty());
}

TEST(PolicyFilters, TheScorersIdentityTravelsWithIt) {
  audit::Decoding settings;
  settings.filters = {"toxicity"};
  settings.toxicity_scorer = "classifier:/models/tox";
  settings.toxicity_scorer_identity = "classifier:sha256=abc";
  const auto f =
      filter("tox", FilterSpec::Type::kToxicity, {"filters", "toxicity_scorer"}, settings);
  audit::Decoding requested;
  requested.toxicity_scorer = "self";
  const auto out = release::apply_filters(requested, {"toxicity_scorer"}, {&f});
  EXPECT_EQ(out.decoding.toxicity_scorer, "classifier:/models/tox");
  EXPECT_EQ(out.decoding.toxicity_scorer_identity, "classifier:sha256=abc");
  ASSERT_EQ(out.overrides.size(), 1u);
  EXPECT_EQ(out.overrides[0].requested, "self");
}

fs::path index_of(const PlanDir& dir, const std::string& name, const std::string& tokenizer) {
  mem::TokenizedCorpus c;
  c.vocab_size = 1000;  // the fixture's
  c.tokenizer_hash = tokenizer;
  c.names = {"doc"};
  c.documents = {{1, 2, 3, 4, 5, 6}};
  const auto file = dir.path() / name;
  mem::build_index(c, file, {.threads = 1, .progress = false});
  return file;
}

TEST(PolicyFilters, LeakageFiltersOpenTheStagesIndexWithTheirN) {
  PlanDir dir;
  index_of(dir, "stage2.sgidx", mem::tokenizer_hash(kGpt2));
  auto leak = filter("leak", FilterSpec::Type::kLeakage, {});
  leak.index = dir.path() / "{stage}.sgidx";
  leak.leakage_n = 3;
  const auto tox = filter("tox", FilterSpec::Type::kToxicity, {});
  EXPECT_EQ(release::leakage_index_for(leak, "stage2"), dir.path() / "stage2.sgidx");

  release::Policy policy;
  policy.file = dir.path() / "policy.ini";
  const auto factories = release::leakage_filters(policy, {&tox, &leak}, "stage2", kGpt2);
  ASSERT_EQ(factories.size(), 1u);
  const auto* factory = dynamic_cast<const mem::LeakageFilterFactory*>(factories[0].get());
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->n(), 3u);

  // Another stage's index is missing: the message names the policy, the filter and the file.
  try {
    release::leakage_filters(policy, {&leak}, "stage3", kGpt2);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    const std::string m = e.what();
    for (const auto* part : {"policy.ini", "filter.leak", "stage3.sgidx"})
      EXPECT_NE(m.find(part), std::string::npos) << m;
  }
}

TEST(PolicyFilters, AnIndexOfAnotherTokenizerIsRefused) {
  PlanDir dir;
  index_of(dir, "other.sgidx", std::string(64, 'a'));
  auto leak = filter("leak", FilterSpec::Type::kLeakage, {});
  leak.index = dir.path() / "other.sgidx";
  release::Policy policy;
  policy.file = dir.path() / "policy.ini";
  EXPECT_THROW(release::leakage_filters(policy, {&leak}, "stage1", kGpt2), InputError);
}

}  // namespace
}  // namespace sg::testing
