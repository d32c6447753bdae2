#include "report/report_data.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "common/errors.hpp"

namespace sg::report {

namespace {

constexpr std::int64_t kEvidencePerKind = 3;

std::string utc_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

}  // namespace

std::string parameter_count(std::int64_t parameters) {
  char buf[32];
  const double p = static_cast<double>(parameters);
  if (p >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2fB", p / 1e9);
  else if (p >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1fM", p / 1e6);
  else if (p >= 1e3)
    std::snprintf(buf, sizeof buf, "%.1fK", p / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(parameters));
  return buf;
}

ReportData gather(db::Store& store, const std::filesystem::path& database,
                  const release::Policy* policy) {
  ReportData out;
  out.database = database.string();
  out.policy = policy ? policy->file.string() : "";
  out.generated_at = utc_now();

  // Every stage with a completed run (its latest checkpoint), smallest first.
  std::map<std::string, StageSummary> by_stage;
  for (const auto& r : store.runs()) {  // newest first
    if (r.status != db::RunStatus::kCompleted || by_stage.count(r.stage)) continue;
    StageSummary s;
    s.stage = r.stage;
    s.checkpoint_sha256 = r.checkpoint_sha256;
    if (const auto c = store.checkpoint_by_sha256(r.checkpoint_sha256)) {
      s.architecture = c->architecture;
      s.parameters = c->parameters;
    }
    by_stage.emplace(r.stage, std::move(s));
  }
  if (by_stage.empty())
    throw InputError(database.string() + ": no completed audit run to report on");
  for (auto& [name, s] : by_stage) out.stages.push_back(std::move(s));
  std::stable_sort(
      out.stages.begin(), out.stages.end(), [](const StageSummary& a, const StageSummary& b) {
        return a.parameters != b.parameters ? a.parameters < b.parameters : a.stage < b.stage;
      });

  for (const auto& d : store.decisions()) {  // in the order recorded: the last one stays
    for (auto& s : out.stages)
      if (s.stage == d.stage) s.decision = d;
  }
  if (policy)
    for (auto& s : out.stages) {
      const auto it = std::find_if(policy->stages.begin(), policy->stages.end(),
                                   [&](const release::Stage& p) { return p.name == s.stage; });
      if (it == policy->stages.end()) continue;
      s.in_policy = true;
      for (const auto& audience : it->audiences) {
        std::string line = audience + ":";
        const auto filters = policy->filters_for(s.stage, audience);
        if (filters.empty()) line += " none";
        for (std::size_t i = 0; i < filters.size(); ++i)
          line += std::string(i ? ", " : " ") + filters[i]->name + " (" +
                  std::string(release::to_string(filters[i]->type)) + ")";
        s.filters.push_back(std::move(line));
      }
    }

  std::vector<CompareTarget> targets;
  for (const auto& s : out.stages) targets.push_back({s.stage, s.stage, ""});
  out.figures = compare(store, targets);
  out.chain = release::verify_chain(store);
  out.filter_events = store.filter_event_counts();
  std::set<std::int64_t> runs;
  for (const auto& col : out.figures.columns)
    for (const auto& r : col.runs)
      if (runs.insert(r.run_id).second)
        for (auto& e : store.worst_evidence(r.run_id, kEvidencePerKind))
          out.evidence.push_back(std::move(e));
  return out;
}

}  // namespace sg::report
