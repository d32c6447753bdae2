// What a release report shows, gathered from the store (and the policy, when given): each
// stage with its checkpoint, latest decision and filters; every figure of every stage (the
// same comparison `stagegate compare` prints, so the two never disagree); the decision chain's
// verification; the evidence behind the worst samples.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "db/store.hpp"
#include "release/decision_chain.hpp"
#include "release/policy.hpp"
#include "report/compare.hpp"

namespace sg::report {

struct StageSummary {
  std::string stage;
  std::string checkpoint_sha256;
  std::string architecture;  // "gpt2", "openai-gpt"
  std::int64_t parameters = 0;
  std::optional<db::DecisionRecord> decision;  // the latest for this stage, if any
  // From the policy: per audience the stage may serve, "audience: filter, filter" (empty
  // without a policy, or for a stage the policy does not name).
  std::vector<std::string> filters;
  bool in_policy = false;
};

struct ReportData {
  std::string database;  // the file, as given
  std::string policy;    // the file, as given; "" without one
  std::string generated_at;
  std::vector<StageSummary> stages;  // the comparison's columns, in its order
  Comparison figures;                // columns: every stage with a completed run, by size
  release::ChainReport chain;
  std::vector<db::EvidenceExample> evidence;        // per run, the worst few per kind
  std::vector<db::FilterEventCount> filter_events;  // every stage's, by run and served
};

// InputError when the store holds no completed audit run.
ReportData gather(db::Store& store, const std::filesystem::path& database,
                  const release::Policy* policy);

// A human-readable parameter count: "640.8K", "12.6M", "1.56B".
std::string parameter_count(std::int64_t parameters);

}  // namespace sg::report
