// A release gate to test against: a store in a temporary folder, a copy of the GPT-2 fixture
// checkpoint as the stage (so that a test may change a byte of it), and a policy built in C++
// with two audiences: `researchers` (may use unreleased stages) and `public` (may not).
#pragma once

#include <filesystem>
#include <string>

#include "../common/temp_dir.hpp"
#include "db/store.hpp"
#include "model/checkpoint.hpp"
#include "model/identity.hpp"
#include "release/decision_chain.hpp"
#include "release/evidence.hpp"
#include "release/policy.hpp"

namespace sg::testing {

namespace fs = std::filesystem;

class GateFixture {
 public:
  GateFixture() {
    fs::copy(fs::path(STAGEGATE_FIXTURES) / "models/gpt2-f32", dir_ / "stage1");
    sha256_ = model::checkpoint_sha256(model::Checkpoint::open(dir_ / "stage1").weight_files());
    db::CheckpointRecord c;
    c.sha256 = sha256_;
    c.path = (dir_ / "stage1").string();
    c.architecture = "gpt2";
    checkpoint_id_ = store_.upsert_checkpoint(c);

    policy_.file = dir_ / "policy.ini";
    policy_.sha256 = std::string(64, 'a');
    policy_.family = "test";
    release::Stage s;
    s.name = "stage1";
    s.checkpoint = dir_ / "stage1";
    s.sha256 = sha256_;
    s.audiences = {"researchers", "public"};
    policy_.stages.push_back(s);
    release::Audience researchers;
    researchers.name = "researchers";
    researchers.unreleased = true;
    release::Audience pub;
    pub.name = "public";
    release::Audience partners;  // defined, but not listed for the stage
    partners.name = "partners";
    partners.unreleased = true;
    policy_.audiences = {researchers, pub, partners};
  }

  db::Store& store() { return store_; }
  release::Policy& policy() { return policy_; }
  const fs::path& dir() const { return dir_.path(); }
  const std::string& sha256() const { return sha256_; }

  // Appends a decision for stage1's checkpoint under `policy_hash` (the policy's by default).
  db::DecisionRecord decide(const std::string& decision, const std::string& reason,
                            std::string policy_hash = "") {
    db::DecisionRecord row;
    row.stage = "stage1";
    row.checkpoint_id = checkpoint_id_;
    row.decision = decision;
    row.reason = reason;
    row.policy_path = policy_.file.string();
    row.policy_hash = policy_hash.empty() ? policy_.sha256 : policy_hash;
    row.decided_by = "tester";
    release::Evidence evidence;  // no requirements: what the gate reads is the decision
    evidence.checkpoint_sha256_found = sha256_;
    row.evidence_json = release::to_json(evidence);
    return release::append_decision(store_, row);
  }

 private:
  TempDir dir_;
  db::Store store_{dir_ / "audit.db"};
  release::Policy policy_;
  std::string sha256_;
  std::int64_t checkpoint_id_ = 0;
};

}  // namespace sg::testing
