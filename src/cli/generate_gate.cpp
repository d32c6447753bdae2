#include "cli/generate_gate.hpp"

#include <array>
#include <iostream>

#include "common/errors.hpp"
#include "release/request_log.hpp"

namespace sg::cli {

namespace {
constexpr const char* kEndpoint = "cli:generate";
constexpr std::array kGateOptions = {"db", "stage", "audience"};
}  // namespace

void add_gate_options(po::options_description& desc) {
  desc.add_options()("policy", po::value<std::string>(),
                     "release policy (policies/*.ini): generate from --stage's checkpoint only "
                     "if the policy lets --audience use it, under the policy's filters")(
      "db", po::value<std::string>(),
      "with --policy: the store holding the decisions; the "
      "request and its filter events are logged there")(
      "stage", po::value<std::string>(), "with --policy: the stage to generate from")(
      "audience", po::value<std::string>(), "with --policy: who asks (e.g. public)");
}

bool gate_requested(const po::variables_map& vm) {
  if (!vm.count("policy")) {
    for (const auto* o : kGateOptions)
      if (vm.count(o)) throw UsageError(std::string("--") + o + " needs --policy");
    if (!vm.count("model")) throw UsageError("give --model DIR, or --policy with --stage");
    return false;
  }
  for (const auto* o : kGateOptions)
    if (!vm.count(o)) throw UsageError(std::string("--policy needs --") + o);
  if (vm.count("model"))
    throw UsageError(
        "--model: not with --policy (the checkpoint is the stage's, as the policy "
        "names it)");
  return true;
}

GenerateGate::GenerateGate(const po::variables_map& vm, const std::string& prompt_sha256,
                           std::int64_t prompt_tokens)
    : policy_(release::Policy::load(vm["policy"].as<std::string>())) {
  // Never a new, empty store: a gate asked to read decisions from a misspelt path refuses.
  const std::filesystem::path db_file = vm["db"].as<std::string>();
  if (!std::filesystem::exists(db_file))
    throw InputError("--db " + db_file.string() +
                     ": no such store (decisions are recorded there by `stagegate decide`)");
  store_ = std::make_unique<db::Store>(db_file);
  const auto stage = vm["stage"].as<std::string>();
  const auto audience = vm["audience"].as<std::string>();
  request_ = release::request_record(kEndpoint, stage, audience, prompt_sha256, prompt_tokens);
  try {
    grant_ = release::grant_access(policy_, *store_, stage, audience);
  } catch (const AccessDenied& e) {
    // A refusal is a request like any other: the log shows who was turned away.
    if (const auto c = store_->checkpoint_by_sha256(policy_.stage(stage).sha256))
      request_.checkpoint_id = c->id;
    release::mark_refused(request_, policy_, e.what());
    store_->log_request(request_, {});
    throw;
  }
  if (const auto c = store_->checkpoint_by_sha256(grant_.stage->sha256))
    request_.checkpoint_id = c->id;
}

release::FilteredDecoding GenerateGate::apply(
    const audit::Decoding& requested, const std::vector<std::string>& requested_keys) const {
  auto out = release::apply_filters(requested, requested_keys, grant_.filters);
  for (const auto& o : out.overrides)
    std::cerr << "note: policy filter '" << o.filter << "' sets " << o.key << " = " << o.applied
              << " (asked: " << o.requested << ")\n";
  return out;
}

std::vector<std::shared_ptr<const engine::OutputFilterFactory>> GenerateGate::leakage_filters()
    const {
  return release::leakage_filters(policy_, grant_.filters, grant_.stage->name, model_dir());
}

std::string GenerateGate::filter_list() const {
  std::string out;
  for (const auto& name : release::filter_names(grant_.filters))
    out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

std::int64_t GenerateGate::log(const release::FilteredDecoding& decoding,
                               const engine::GenerationResult& result, std::int64_t prompt_tokens) {
  request_.prompt_tokens = prompt_tokens;
  release::mark_served(request_, policy_, grant_, decoding, result);
  return store_->log_request(request_, release::event_records(result));
}

nlohmann::json GenerateGate::json_fields() const {
  return {{"stage", grant_.stage->name},
          {"checkpoint_sha256", grant_.stage->sha256},
          {"decision_id", grant_.decision ? nlohmann::json(grant_.decision->id) : nullptr},
          {"filters", release::filter_names(grant_.filters)}};
}

}  // namespace sg::cli
