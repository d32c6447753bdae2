// What gated generation logs of a request: its outcome by what the filters did, and the
// settings it ran under.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "release/request_log.hpp"

namespace sg::testing {
namespace {

using nlohmann::json;

struct Served {
  release::Policy policy;
  release::FilterSpec leak;
  release::Grant grant;
  release::FilteredDecoding decoding;
  Served() {
    policy.file = "/policies/p.ini";
    policy.sha256 = std::string(64, 'c');
    leak.name = "no-leak";
    grant.filters = {&leak};
    decoding.decoding.stop_on_loop = true;
    decoding.overrides.push_back({"loops", "loop_min_length", "9", "5"});
  }
  db::ServerRequestRecord log(const engine::GenerationResult& result) {
    auto r = release::request_record("cli:generate", "stage1", "public", "ab", 3);
    release::mark_served(r, policy, grant, decoding, result);
    return r;
  }
};

TEST(RequestLog, TimesAreWrittenAsTheStoreWritesThem) {
  EXPECT_TRUE(
      std::regex_match(release::utc_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << release::utc_now();
}

TEST(RequestLog, TheOutcomeSaysWhetherAFilterActed) {
  Served s;
  engine::GenerationResult plain;
  plain.tokens = {5, 6};
  plain.finish_reason = "length";
  auto r = s.log(plain);
  EXPECT_EQ(r.outcome, "ok");
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.completion_tokens, 2);
  EXPECT_EQ(r.client, "public");
  EXPECT_TRUE(r.finished_at.has_value());

  engine::GenerationResult blocked = plain;
  blocked.events.push_back({"memorization.leakage", "block", 1, R"({"span_length": 4})"});
  EXPECT_EQ(s.log(blocked).outcome, "filtered");
  const auto events = release::event_records(blocked);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].filter, "memorization.leakage");
  EXPECT_EQ(events[0].token_position, 1);
  EXPECT_EQ(events[0].detail_json, R"({"span_length": 4})");

  engine::GenerationResult refused;
  refused.finish_reason = "content_filter";
  EXPECT_EQ(s.log(refused).outcome, "filtered");
}

TEST(RequestLog, TheSettingsNameThePolicyTheFiltersAndTheOverrides) {
  Served s;
  const auto settings = json::parse(s.log({}).settings_json);
  EXPECT_EQ(settings["policy"], "/policies/p.ini");
  EXPECT_EQ(settings["policy_sha256"], std::string(64, 'c'));
  EXPECT_TRUE(settings["decision_id"].is_null());  // an unreleased stage, no decision
  EXPECT_EQ(settings["filters"], json::parse(R"([{"name": "no-leak", "type": "leakage"}])"));
  EXPECT_EQ(settings["decoding"]["stop_on_loop"], true);
  EXPECT_EQ(settings["decoding"]["temperature"], 1.0);
  EXPECT_EQ(settings["overrides"][0]["requested"], "9");

  auto r = release::request_record("cli:generate", "stage1", "public", "ab", 0);
  release::mark_refused(r, s.policy, "stage 'stage1' is not available");
  EXPECT_EQ(r.outcome, "refused");
  EXPECT_EQ(r.status_code, 403);
  EXPECT_EQ(json::parse(r.settings_json)["refused"], "stage 'stage1' is not available");
}

}  // namespace
}  // namespace sg::testing
