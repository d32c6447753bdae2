#include "release/policy.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>

#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "release/metric_catalog.hpp"
#include "release/policy_schema.hpp"
#include "toxicity/scorer.hpp"

namespace sg::release {

namespace {

using detail::policy_schema;

std::string label_of(const std::string& section) {
  return section.substr(section.find('.') + 1);
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// Reads one policy; each step may fail with the file, line and key at fault.
class Reader {
 public:
  Reader(const ini::Document& doc, Policy& policy) : doc_(doc), p_(policy) {
    dir_ = std::filesystem::absolute(p_.file).parent_path();
  }

  void read() {
    read_family();
    for (const auto& s : doc_.sections("audience")) read_audience(s);
    for (const auto& s : doc_.sections("filter")) read_filter(s);
    for (const auto& s : doc_.sections("stage")) read_stage(s);
    for (const auto& s : doc_.sections("requirement")) read_requirement(s);
    for (const auto& s : doc_.sections("access")) read_access(s);
    order_stages();
    warn();
  }

 private:
  std::filesystem::path relative(const std::string& value) const {
    return (dir_ / value).lexically_normal();
  }

  std::vector<std::string> list(const std::string& section, const char* key) const {
    const auto text = doc_.string(section, key);
    if (!text) return {};
    auto items = ini::split_list(*text);
    for (std::size_t i = 0; i < items.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (items[i] == items[j]) doc_.fail(section, key, "'" + items[i] + "' listed twice");
    return items;
  }

  // Every name of `section.key` must be one of `defined` (a kind of thing: "stage").
  void check_refs(const std::string& section, const char* key,
                  const std::vector<std::string>& names, const std::vector<std::string>& defined,
                  std::string_view kind) const {
    for (const auto& n : names)
      if (!contains(defined, n))
        doc_.fail(section, key,
                  "unknown " + std::string(kind) + " '" + n + "'" + ini::did_you_mean(n, defined) +
                      " (defined: " + (defined.empty() ? "none" : joined(defined)) + ")");
  }

  std::vector<std::string> names_of(std::string_view family) const {
    std::vector<std::string> out;
    for (const auto& s : doc_.sections(family)) out.push_back(label_of(s));
    return out;
  }

  void read_family() {
    if (!doc_.has_section("family"))
      throw InputError(p_.file.string() + ":1: [family]: missing section (it names the family)");
    p_.family = *doc_.string("family", "name");
    if (p_.family.empty()) doc_.fail("family", "name", "empty");
    if (auto m = doc_.string("family", "manifest")) {
      if (m->empty()) doc_.fail("family", "manifest", "empty (leave the key out for none)");
      p_.manifest = relative(*m);
      if (!std::filesystem::is_regular_file(*p_.manifest))
        doc_.fail("family", "manifest", p_.manifest->string() + ": no such file");
    }
    if (doc_.sections("stage").empty())
      doc_.fail("family", "", "the policy defines no [stage.NAME]");
  }

  void read_audience(const std::string& section) {
    Audience a;
    a.name = label_of(section);
    a.unreleased = doc_.boolean(section, "unreleased").value_or(false);
    a.requests_per_minute = doc_.integer(section, "requests_per_minute").value_or(0);
    a.tokens_per_minute = doc_.integer(section, "tokens_per_minute").value_or(0);
    a.log_text = doc_.boolean(section, "log_text").value_or(false);
    a.filters = list(section, "filters");
    check_refs(section, "filters", a.filters, names_of("filter"), "filter");
    a.line = doc_.line(section);
    p_.audiences.push_back(std::move(a));
  }

  void read_filter(const std::string& section) {
    FilterSpec f;
    f.name = label_of(section);
    f.line = doc_.line(section);
    const auto type = *doc_.string(section, "type");
    const std::vector<std::string>* own = nullptr;
    if (type == "leakage") {
      f.type = FilterSpec::Type::kLeakage;
      own = &detail::leakage_filter_keys();
    } else if (type == "toxicity") {
      f.type = FilterSpec::Type::kToxicity;
      own = &detail::toxicity_filter_keys();
    } else if (type == "repetition") {
      f.type = FilterSpec::Type::kRepetition;
      own = &detail::repetition_filter_keys();
    } else {
      const std::vector<std::string> types = {"leakage", "toxicity", "repetition"};
      doc_.fail(section, "type",
                "unknown filter type '" + type + "'" + ini::did_you_mean(type, types) +
                    " (known: leakage, toxicity, repetition)");
    }
    for (const auto* keys : {&detail::leakage_filter_keys(), &detail::toxicity_filter_keys(),
                             &detail::repetition_filter_keys()})
      if (keys != own)
        for (const auto& k : *keys)
          if (doc_.has(section, k))
            doc_.fail(section, k,
                      "does not apply to a " + type + " filter (its keys: " + joined(*own) + ")");
    switch (f.type) {
      case FilterSpec::Type::kLeakage:
        read_leakage(section, f);
        break;
      case FilterSpec::Type::kToxicity:
        read_toxicity(section, f);
        break;
      case FilterSpec::Type::kRepetition:
        read_repetition(section, f);
        break;
    }
    p_.filters.push_back(std::move(f));
  }

  void read_leakage(const std::string& section, FilterSpec& f) {
    const auto index = doc_.string(section, "index");
    if (!index) doc_.fail(section, "index", "missing (required for a leakage filter)");
    if (index->empty()) doc_.fail(section, "index", "empty");
    f.index = relative(*index);
    f.leakage_n = doc_.integer(section, "n").value_or(f.leakage_n);
  }

  // The decoding rules (audit::check_decoding) judge the settings; a problem is reported
  // under the filter's own key name.
  void check_settings(const std::string& section, const FilterSpec& f,
                      std::string_view prefix) const {
    if (auto problem = audit::check_decoding(f.settings, f.keys)) {
      std::string key = problem->key;
      if (key.starts_with(prefix)) key = key.substr(prefix.size());
      if (!doc_.has(section, key)) key = "type";
      doc_.fail(section, key, problem->message);
    }
  }

  void read_toxicity(const std::string& section, FilterSpec& f) {
    auto& d = f.settings;
    bool filter_on = false;  // the after-generation filter; the block alone works in-loop
    if (auto scorer = doc_.string(section, "scorer")) {
      detectors::toxicity::ScorerSpec spec;
      try {
        spec = detectors::toxicity::parse_scorer_spec(*scorer);
      } catch (const Error& e) {
        doc_.fail(section, "scorer", e.what());
      }
      if (!spec.dir.empty()) spec.dir = relative(spec.dir.string());
      d.toxicity_scorer = detectors::toxicity::to_string(spec);
      f.keys.push_back("toxicity_scorer");
      filter_on = true;
    }
    if (auto v = doc_.number(section, "threshold")) {
      d.toxicity_threshold = *v;
      f.keys.push_back("toxicity_threshold");
      filter_on = true;
    }
    if (auto v = doc_.string(section, "action")) {
      d.toxicity_action = *v;
      f.keys.push_back("toxicity_action");
      filter_on = true;
    }
    if (auto v = doc_.integer(section, "retries")) {
      d.toxicity_retries = *v;
      f.keys.push_back("toxicity_retries");
      filter_on = true;
    }
    if (auto v = doc_.integer(section, "block_severity")) {
      d.toxicity_block_severity = *v;
      f.keys.push_back("toxicity_block_severity");
    }
    // A section of `type` alone is the after-generation filter with its defaults.
    if (filter_on || f.keys.empty()) {
      d.filters = {"toxicity"};
      f.keys.insert(f.keys.begin(), "filters");
    }
    check_settings(section, f, "toxicity_");
  }

  void read_repetition(const std::string& section, FilterSpec& f) {
    // A repetition filter's keys are the decoding keys of the same names.
    f.settings = audit::read_decoding_values(doc_, section);
    for (const auto& key : detail::repetition_filter_keys())
      if (doc_.has(section, key)) f.keys.push_back(key);
    if (f.keys.empty())
      doc_.fail(section, "type",
                "a repetition filter that sets none of its keys changes nothing (keys: " +
                    joined(detail::repetition_filter_keys()) + ")");
    check_settings(section, f, "");
  }

  void read_stage(const std::string& section) {
    Stage s;
    s.name = label_of(section);
    s.line = doc_.line(section);
    const auto checkpoint = *doc_.string(section, "checkpoint");
    if (checkpoint.empty()) doc_.fail(section, "checkpoint", "empty");
    s.checkpoint = relative(checkpoint);
    s.sha256 = *doc_.string(section, "sha256");
    const bool hex =
        s.sha256.size() == 64 && std::all_of(s.sha256.begin(), s.sha256.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        });
    if (!hex)
      doc_.fail(section, "sha256",
                "'" + s.sha256 + "' is not a SHA-256 (64 hex digits, as `sha256sum` prints)");
    std::transform(s.sha256.begin(), s.sha256.end(), s.sha256.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c); });
    s.after = list(section, "after");
    check_refs(section, "after", s.after, names_of("stage"), "stage");
    if (auto date = doc_.string(section, "not_before")) {
      check_date(section, *date);
      s.not_before = *date;
    }
    s.audiences = list(section, "audiences");
    if (s.audiences.empty()) doc_.fail(section, "audiences", "empty: name who may use the stage");
    check_refs(section, "audiences", s.audiences, names_of("audience"), "audience");
    s.filters = list(section, "filters");
    check_refs(section, "filters", s.filters, names_of("filter"), "filter");
    p_.stages.push_back(std::move(s));
  }

  void check_date(const std::string& section, const std::string& text) const {
    const bool shape = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                       std::all_of(text.begin(), text.end(),
                                   [](char c) { return c == '-' || (c >= '0' && c <= '9'); });
    if (shape) {
      const std::chrono::year_month_day ymd{
          std::chrono::year{std::stoi(text.substr(0, 4))},
          std::chrono::month{static_cast<unsigned>(std::stoi(text.substr(5, 2)))},
          std::chrono::day{static_cast<unsigned>(std::stoi(text.substr(8, 2)))}};
      if (ymd.ok()) return;
      doc_.fail(section, "not_before", "'" + text + "' is not a date of the calendar");
    }
    doc_.fail(section, "not_before", "'" + text + "' is not a date YYYY-MM-DD (UTC)");
  }

  void read_requirement(const std::string& section) {
    Requirement r;
    r.name = label_of(section);
    r.line = doc_.line(section);
    r.stages = list(section, "stages");
    if (r.stages.empty()) doc_.fail(section, "stages", "empty: name the stages it applies to");
    check_refs(section, "stages", r.stages, names_of("stage"), "stage");
    const auto plan = *doc_.string(section, "plan");
    if (plan.empty()) doc_.fail(section, "plan", "empty");
    r.plan = relative(plan);
    for (const auto& stage : r.stages) {
      const std::filesystem::path file = replace_all(r.plan.string(), "{stage}", stage);
      if (!std::filesystem::is_regular_file(file))
        doc_.fail(section, "plan",
                  file.string() + ": no such file" +
                      (file != r.plan ? " (the plan of stage " + stage + ")" : ""));
    }
    r.metric = *doc_.string(section, "metric");
    if (!is_known_metric(r.metric))
      doc_.fail(section, "metric",
                "unknown metric '" + r.metric + "'" + ini::did_you_mean(r.metric, known_metrics()) +
                    " (known: " + joined(known_metrics()) + ")");
    r.strategy = doc_.string(section, "strategy").value_or("");
    r.slice = doc_.string(section, "slice").value_or("");
    const auto comparison = *doc_.string(section, "comparison");
    if (comparison == "<")
      r.comparison = Comparison::kLess;
    else if (comparison == "<=")
      r.comparison = Comparison::kLessEqual;
    else if (comparison == ">")
      r.comparison = Comparison::kGreater;
    else if (comparison == ">=")
      r.comparison = Comparison::kGreaterEqual;
    else
      doc_.fail(section, "comparison",
                "'" + comparison +
                    "' is not a comparison (one of <, <=, >, >=: the metric "
                    "stands on the left, the threshold on the right)");
    r.threshold = *doc_.number(section, "threshold");
    const auto estimate = doc_.string(section, "estimate").value_or("conservative");
    if (estimate == "point")
      r.estimate = Estimate::kPoint;
    else if (estimate == "conservative")
      r.estimate = Estimate::kConservative;
    else
      doc_.fail(section, "estimate",
                "'" + estimate + "' is not an estimate" +
                    ini::did_you_mean(estimate, {"point", "conservative"}) +
                    " (point or conservative)");
    p_.requirements.push_back(std::move(r));
  }

  void read_access(const std::string& section) {
    Access a;
    a.label = label_of(section);
    a.line = doc_.line(section);
    a.stage = *doc_.string(section, "stage");
    check_refs(section, "stage", {a.stage}, names_of("stage"), "stage");
    a.audience = *doc_.string(section, "audience");
    check_refs(section, "audience", {a.audience}, names_of("audience"), "audience");
    const auto& stage = *std::find_if(p_.stages.begin(), p_.stages.end(),
                                      [&](const Stage& s) { return s.name == a.stage; });
    if (!contains(stage.audiences, a.audience))
      doc_.fail(section, "audience",
                "audience '" + a.audience + "' may not use stage " + a.stage +
                    " (its audiences: " + joined(stage.audiences) + ")");
    a.filters = list(section, "filters");
    if (a.filters.empty()) doc_.fail(section, "filters", "empty: name the filters it adds");
    check_refs(section, "filters", a.filters, names_of("filter"), "filter");
    p_.access.push_back(std::move(a));
  }

  // Release order: a stage comes after every stage it names in `after`, otherwise in file
  // order. A cycle is reported at the `after` that closes it.
  void order_stages() {
    std::map<std::string, const Stage*, std::less<>> by_name;
    for (const auto& s : p_.stages) by_name[s.name] = &s;
    enum class Mark { kNone, kOpen, kDone };
    std::map<std::string, Mark, std::less<>> mark;
    std::vector<std::string> path;
    std::vector<Stage> ordered;
    std::function<void(const Stage&)> visit = [&](const Stage& s) {
      mark[s.name] = Mark::kOpen;
      path.push_back(s.name);
      for (const auto& before : s.after) {
        if (mark[before] == Mark::kOpen) {
          std::string cycle;
          for (auto it = std::find(path.begin(), path.end(), before); it != path.end(); ++it)
            cycle += *it + " -> ";
          doc_.fail("stage." + s.name, "after", "cycle in stage order: " + cycle + before);
        }
        if (mark[before] == Mark::kNone) visit(*by_name.at(before));
      }
      path.pop_back();
      mark[s.name] = Mark::kDone;
      ordered.push_back(s);
    };
    for (const auto& s : p_.stages)
      if (mark[s.name] == Mark::kNone) visit(s);
    p_.stages = std::move(ordered);
  }

  void warn() {
    for (const auto& s : p_.stages) {
      if (!std::filesystem::is_directory(s.checkpoint))
        p_.warnings.push_back("stage " + s.name + ": checkpoint " + s.checkpoint.string() +
                              " does not exist (decide rejects the stage until it does)");
      if (p_.requirements_for(s.name).empty())
        p_.warnings.push_back("stage " + s.name +
                              ": no requirement applies (decide approves it on its date alone)");
    }
    for (const auto& f : p_.filters) {
      if (f.type == FilterSpec::Type::kLeakage)
        for (const auto& s : p_.stages) {
          const std::filesystem::path index = replace_all(f.index.string(), "{stage}", s.name);
          if (contains(stage_filter_names(s), f.name) && !std::filesystem::is_regular_file(index))
            p_.warnings.push_back("filter " + f.name + ": index " + index.string() +
                                  " does not exist yet (generation from stage " + s.name +
                                  " fails until it is built)");
        }
      if (f.type == FilterSpec::Type::kToxicity) {
        const auto spec = detectors::toxicity::parse_scorer_spec(f.settings.toxicity_scorer);
        if (!spec.dir.empty() && !std::filesystem::is_directory(spec.dir))
          p_.warnings.push_back("filter " + f.name + ": scorer directory " + spec.dir.string() +
                                " does not exist");
      }
    }
    for (auto& w : detail::manifest_warnings(p_)) p_.warnings.push_back(std::move(w));
  }

  // The filters any audience of `s` gets.
  std::vector<std::string> stage_filter_names(const Stage& s) const {
    std::vector<std::string> out;
    for (const auto& a : s.audiences)
      for (const auto* f : p_.filters_for(s.name, a)) out.push_back(f->name);
    return out;
  }

  const ini::Document& doc_;
  Policy& p_;
  std::filesystem::path dir_;
};

}  // namespace

std::string_view to_string(Comparison c) {
  switch (c) {
    case Comparison::kLess:
      return "<";
    case Comparison::kLessEqual:
      return "<=";
    case Comparison::kGreater:
      return ">";
    case Comparison::kGreaterEqual:
      return ">=";
  }
  return "?";
}

std::string_view to_string(Estimate e) {
  return e == Estimate::kPoint ? "point" : "conservative";
}

std::string_view to_string(FilterSpec::Type t) {
  switch (t) {
    case FilterSpec::Type::kLeakage:
      return "leakage";
    case FilterSpec::Type::kToxicity:
      return "toxicity";
    case FilterSpec::Type::kRepetition:
      return "repetition";
  }
  return "?";
}

Policy Policy::load(const std::filesystem::path& file) {
  return parse(ini::read_text(file), file);
}

Policy Policy::parse(std::string_view text, const std::filesystem::path& file) {
  detail::check_policy_text(text, file);
  const auto doc = ini::Document::parse(text, file, policy_schema());
  Policy p;
  p.file = file;
  p.sha256 = sha256_hex(text);
  Reader(doc, p).read();
  return p;
}

const Stage& Policy::stage(std::string_view name) const {
  std::vector<std::string> names;
  for (const auto& s : stages) {
    if (s.name == name) return s;
    names.push_back(s.name);
  }
  throw InputError(file.string() + ": no stage '" + std::string(name) + "'" +
                   ini::did_you_mean(name, names) + " (stages: " + joined(names) + ")");
}

const Audience& Policy::audience(std::string_view name) const {
  std::vector<std::string> names;
  for (const auto& a : audiences) {
    if (a.name == name) return a;
    names.push_back(a.name);
  }
  throw InputError(file.string() + ": no audience '" + std::string(name) + "'" +
                   ini::did_you_mean(name, names) + " (audiences: " + joined(names) + ")");
}

std::vector<const Requirement*> Policy::requirements_for(std::string_view stage) const {
  std::vector<const Requirement*> out;
  for (const auto& r : requirements)
    if (contains(r.stages, stage)) out.push_back(&r);
  return out;
}

std::vector<const FilterSpec*> Policy::filters_for(std::string_view stage,
                                                   std::string_view audience) const {
  std::set<std::string, std::less<>> wanted;
  for (const auto& s : stages)
    if (s.name == stage) wanted.insert(s.filters.begin(), s.filters.end());
  for (const auto& a : audiences)
    if (a.name == audience) wanted.insert(a.filters.begin(), a.filters.end());
  for (const auto& a : access)
    if (a.stage == stage && a.audience == audience)
      wanted.insert(a.filters.begin(), a.filters.end());
  std::vector<const FilterSpec*> out;
  for (const auto& f : filters)
    if (wanted.contains(f.name)) out.push_back(&f);
  return out;
}

}  // namespace sg::release
