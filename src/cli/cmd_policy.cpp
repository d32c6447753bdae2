// `stagegate policy check FILE`: validates a release policy (release/policy.hpp) and prints
// its warnings; `stagegate policy show FILE [--json]`: the policy as decide and generate
// read it, stages in release order with their requirements and each audience's filters.
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "release/policy.hpp"

namespace sg::cli {

namespace {

using nlohmann::json;
using release::Policy;

constexpr const char* kPolicyUsage =
    "usage: stagegate policy check FILE [--json]\n"
    "       stagegate policy show FILE [--json]";

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string joined(const std::vector<std::string>& v, std::string_view none = "-") {
  if (v.empty()) return std::string(none);
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The value of one decoding key a filter sets, as a policy would write it.
json setting(const audit::Decoding& d, const std::string& key) {
  const std::map<std::string, json> values = {
      {"repetition_penalty", d.repetition_penalty},
      {"no_repeat_ngram_size", d.no_repeat_ngram_size},
      {"presence_penalty", d.presence_penalty},
      {"frequency_penalty", d.frequency_penalty},
      {"dry_multiplier", d.dry_multiplier},
      {"dry_base", d.dry_base},
      {"dry_allowed_length", d.dry_allowed_length},
      {"dry_penalty_last_n", d.dry_penalty_last_n},
      {"dry_sequence_breakers", d.dry_sequence_breakers},
      {"stop_on_loop", d.stop_on_loop},
      {"loop_min_period", d.loop_min_period},
      {"loop_max_period", d.loop_max_period},
      {"loop_min_repeats", d.loop_min_repeats},
      {"loop_min_length", d.loop_min_length},
      {"filters", d.filters},
      {"toxicity_scorer", d.toxicity_scorer},
      {"toxicity_threshold", d.toxicity_threshold},
      {"toxicity_action", d.toxicity_action},
      {"toxicity_retries", d.toxicity_retries},
      {"toxicity_block_severity", d.toxicity_block_severity}};
  const auto it = values.find(key);
  return it == values.end() ? json() : it->second;
}

json filter_json(const release::FilterSpec& f) {
  json j = {{"name", f.name}, {"type", release::to_string(f.type)}};
  if (f.type == release::FilterSpec::Type::kLeakage) {
    j["index"] = f.index.string();
    j["n"] = f.leakage_n;
  } else {
    json settings = json::object();
    for (const auto& k : f.keys) settings[k] = setting(f.settings, k);
    j["settings"] = settings;
  }
  return j;
}

json requirement_json(const release::Requirement& r) {
  return {{"name", r.name},
          {"metric", r.metric},
          {"strategy", r.strategy},
          {"slice", r.slice},
          {"comparison", release::to_string(r.comparison)},
          {"threshold", r.threshold},
          {"estimate", release::to_string(r.estimate)},
          {"plan", r.plan.string()},
          {"stages", r.stages}};
}

json policy_json(const Policy& p) {
  json stages = json::array();
  for (const auto& s : p.stages) {
    json requirements = json::array();
    for (const auto* r : p.requirements_for(s.name)) requirements.push_back(r->name);
    json filters = json::object();
    for (const auto& a : s.audiences) {
      json names = json::array();
      for (const auto* f : p.filters_for(s.name, a)) names.push_back(f->name);
      filters[a] = names;
    }
    stages.push_back({{"name", s.name},
                      {"checkpoint", s.checkpoint.string()},
                      {"sha256", s.sha256},
                      {"after", s.after},
                      {"not_before", s.not_before ? json(*s.not_before) : json()},
                      {"audiences", s.audiences},
                      {"requirements", requirements},
                      {"filters", filters}});
  }
  json audiences = json::array();
  for (const auto& a : p.audiences)
    audiences.push_back({{"name", a.name},
                         {"unreleased", a.unreleased},
                         {"requests_per_minute", a.requests_per_minute},
                         {"tokens_per_minute", a.tokens_per_minute},
                         {"log_text", a.log_text},
                         {"filters", a.filters}});
  json requirements = json::array();
  for (const auto& r : p.requirements) requirements.push_back(requirement_json(r));
  json filters = json::array();
  for (const auto& f : p.filters) filters.push_back(filter_json(f));
  return {{"file", p.file.string()}, {"sha256", p.sha256},
          {"family", p.family},      {"manifest", p.manifest ? json(p.manifest->string()) : json()},
          {"stages", stages},        {"requirements", requirements},
          {"audiences", audiences},  {"filters", filters},
          {"warnings", p.warnings}};
}

std::string requirement_text(const release::Requirement& r) {
  std::string where;
  if (!r.strategy.empty()) where += " strategy " + r.strategy;
  if (!r.slice.empty()) where += " slice " + r.slice;
  return r.name + ": " + r.metric + where + " " + std::string(release::to_string(r.comparison)) +
         " " + number(r.threshold) + " (" + std::string(release::to_string(r.estimate)) +
         "), runs of " + r.plan.string();
}

std::string filter_text(const release::FilterSpec& f) {
  std::string out = f.name + " (" + std::string(release::to_string(f.type));
  if (f.type == release::FilterSpec::Type::kLeakage)
    return out + ": index " + f.index.string() + ", n " + std::to_string(f.leakage_n) + ")";
  std::string settings;
  for (const auto& k : f.keys) {
    const json v = setting(f.settings, k);
    settings += (settings.empty() ? ": " : ", ") + k + " " +
                (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out + settings + ")";
}

void print_show(const Policy& p) {
  std::cout << "policy " << p.file.string() << " (sha256 " << p.sha256 << ")\n";
  std::cout << "family " << p.family;
  if (p.manifest) std::cout << " (manifest " << p.manifest->string() << ")";
  std::cout << "\n\nstages, in release order:\n";
  for (const auto& s : p.stages) {
    std::cout << "  " << s.name << "\n"
              << "    checkpoint  " << s.checkpoint.string() << "\n"
              << "    sha256      " << s.sha256 << "\n"
              << "    after       " << joined(s.after) << "\n"
              << "    not_before  " << s.not_before.value_or("-") << "\n";
    const auto requirements = p.requirements_for(s.name);
    std::cout << "    requires" << (requirements.empty() ? "    nothing\n" : "\n");
    for (const auto* r : requirements) std::cout << "      " << requirement_text(*r) << "\n";
    std::cout << "    filters\n";
    for (const auto& a : s.audiences) {
      std::vector<std::string> names;
      for (const auto* f : p.filters_for(s.name, a)) names.push_back(f->name);
      std::cout << "      " << a << ": " << joined(names, "none") << "\n";
    }
  }
  std::cout << "\naudiences:\n";
  for (const auto& a : p.audiences)
    std::cout << "  " << a.name << ": " << (a.unreleased ? "may" : "may not")
              << " use unreleased stages; requests/min "
              << (a.requests_per_minute ? std::to_string(a.requests_per_minute) : "unlimited")
              << ", tokens/min "
              << (a.tokens_per_minute ? std::to_string(a.tokens_per_minute) : "unlimited")
              << (a.log_text ? ", logs text" : ", logs hashes") << "\n";
  if (!p.filters.empty()) std::cout << "\nfilters:\n";
  for (const auto& f : p.filters) std::cout << "  " << filter_text(f) << "\n";
}

int run(const std::string& action, const Args& args) {
  po::options_description desc("stagegate policy " + action);
  desc.add_options()("help,h", "show this help")("file", po::value<std::string>()->required(),
                                                 "the policy (.ini)")("json", "print JSON");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, kPolicyUsage, &positional)) return 0;
  const std::string file = vm["file"].as<std::string>();
  const auto policy = Policy::load(file);
  const bool as_json = vm.count("json") > 0;
  if (action == "show") {
    if (as_json)
      std::cout << policy_json(policy).dump(2) << "\n";
    else
      print_show(policy);
    return 0;
  }
  if (as_json) {
    std::cout << json{{"file", file},
                      {"ok", true},
                      {"sha256", policy.sha256},
                      {"stages", policy.stages.size()},
                      {"requirements", policy.requirements.size()},
                      {"audiences", policy.audiences.size()},
                      {"filters", policy.filters.size()},
                      {"warnings", policy.warnings}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << file << ": ok (" << policy.stages.size() << " stages, " << policy.requirements.size()
            << " requirements, " << policy.audiences.size() << " audiences, "
            << policy.filters.size() << " filters; " << policy.warnings.size() << " warnings)\n";
  for (const auto& w : policy.warnings) std::cerr << file << ": warning: " << w << "\n";
  return 0;
}

}  // namespace

int cmd_policy(const Args& args) {
  if (args.empty()) throw UsageError(std::string("which action?\n") + kPolicyUsage);
  const std::string& action = args.front();
  if (action == "--help" || action == "-h" || action == "help") {
    std::cout << kPolicyUsage << "\n\n(stagegate policy ACTION --help for an action's options)\n";
    return 0;
  }
  if (action == "check" || action == "show") return run(action, Args(args.begin() + 1, args.end()));
  throw UsageError("unknown action '" + action + "'\n" + kPolicyUsage);
}

}  // namespace sg::cli
