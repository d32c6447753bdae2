// `stagegate generate --policy FILE --db FILE --stage NAME --audience NAME`: the release gate
// a generation passes (release/access.hpp), the policy's filters it runs under, and the
// request it leaves in the store (one server_requests row with its filter events).
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "db/store.hpp"
#include "engine/generator.hpp"
#include "release/access.hpp"
#include "release/policy_filters.hpp"

namespace sg::cli {

void add_gate_options(po::options_description& desc);
// Whether --policy was given; a UsageError for --db/--stage/--audience without it, or
// --model with it.
bool gate_requested(const po::variables_map& vm);

class GenerateGate {
 public:
  // Reads the policy, opens the store and asks for access. A refusal is logged (outcome
  // "refused") and thrown as AccessDenied. `prompt_sha256` / `prompt_tokens` describe the
  // prompt for the log (request_log.hpp).
  GenerateGate(const po::variables_map& vm, const std::string& prompt_sha256,
               std::int64_t prompt_tokens);
  GenerateGate(const GenerateGate&) = delete;
  GenerateGate& operator=(const GenerateGate&) = delete;

  // The stage's checkpoint: the model to load.
  const std::filesystem::path& model_dir() const { return grant_.stage->checkpoint; }

  // The request's settings under the policy's filters; a note on stderr for each setting a
  // filter replaced.
  release::FilteredDecoding apply(const audit::Decoding& requested,
                                  const std::vector<std::string>& requested_keys) const;
  // The policy's leakage filters for the stage's model.
  std::vector<std::shared_ptr<const engine::OutputFilterFactory>> leakage_filters() const;
  // The filters' names, for messages.
  std::string filter_list() const;

  // Logs the generation with its filter events; returns the request's id.
  std::int64_t log(const release::FilteredDecoding& decoding,
                   const engine::GenerationResult& result, std::int64_t prompt_tokens);

  // {"stage", "checkpoint_sha256", "decision_id", "filters": [names]} for --json.
  nlohmann::json json_fields() const;

 private:
  release::Policy policy_;
  std::unique_ptr<db::Store> store_;
  release::Grant grant_;
  db::ServerRequestRecord request_;
};

}  // namespace sg::cli
