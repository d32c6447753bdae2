
#include "common/version.hpp"
#include "report/claims.hpp"
#include "report/number_format.hpp"
#include "report/release_report.hpp"
#include "report/report_figures.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::report {

namespace {

// Text safe inside a Markdown table cell or paragraph: the characters Markdown would read as
// markup escaped, line breaks as spaces.
std::string md(std::string_view s) {
  std::string out;
  for (char c : tokenizer::utf8::replace_invalid(s)) {
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    if (std::string_view("\\`*_[]<>|#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string value_text(const std::optional<ComparedValue>& v) {
  return v ? figure_with_interval(v->value, v->ci_low, v->ci_high) : "";
}

}  // namespace

std::string report_markdown(const ReportData& d) {
  std::string o = "# Release report\n\nDatabase `" + d.database + "`" +
                  (d.policy.empty() ? "" : ", policy `" + d.policy + "`") + ". Written " +
                  d.generated_at + " by stagegate " + std::string(version()) +
                  ". Intervals are 95 %.\n\n## Stages\n\n"
                  "| stage | architecture | parameters | checkpoint SHA-256 | decision | reason | "
                  "filters by audience |\n|---|---|---|---|---|---|---|\n";
  for (const auto& s : d.stages) {
    std::string filters;
    for (const auto& f : s.filters) filters += (filters.empty() ? "" : "; ") + md(f);
    o += "| " + md(s.stage) + " | " + md(s.architecture) + " | " + parameter_count(s.parameters) +
         " | `" + s.checkpoint_sha256.substr(0, 16) + "` | " +
         (s.decision ? "**" + md(s.decision->decision) + "** | " + md(s.decision->reason)
                     : std::string("none recorded | ")) +
         " | " + filters + " |\n";
  }
  o += "\nDecision chain: " + std::to_string(d.chain.rows) + " decisions, head `" + d.chain.head +
       "`: " + (d.chain.ok() ? "verifies" : "**does not verify**") + ".\n";
  for (const auto& p : d.chain.problems)
    o += "- row " + std::to_string(p.row_id) + ", " + md(p.kind) + ": " + md(p.message) + "\n";

  o += "\n## The claims, against the numbers\n\n| claim | measure | figures | verdict | why |\n"
       "|---|---|---|---|---|\n";
  for (const auto& c : seed_claims(d)) {
    std::string figures;
    for (const auto& f : c.figures)
      figures += (figures.empty() ? "" : "; ") + md(f.label) + ": " + value_text(f.value);
    o += "| " + md(c.claim) + " | `" + c.measure + "` | " + figures + " | **" + md(c.verdict) +
         "** | " + md(c.why) + " |\n";
  }

  const auto figures = report_figures(d);
  std::string section;
  for (const auto& f : figures.drawn) {
    if (f.section != section) o += "\n## " + (section = f.section) + "\n";
    o += "\n### " + md(f.chart.title) + "\n\n" + md(f.caption) + " Rows: " + md(f.chart.x_label) +
         "; values: " + md(f.chart.y_label) + ".\n\n| |";
    for (const auto& s : f.chart.series) o += " " + md(s.name) + " |";
    o += "\n|---|";
    for (std::size_t i = 0; i < f.chart.series.size(); ++i) o += "---|";
    o += "\n";
    for (std::size_t x = 0; x < f.chart.categories.size(); ++x) {
      o += "| " + md(f.chart.categories[x]) + " |";
      for (const auto& s : f.chart.series) {
        std::string cell;
        for (const auto& p : s.points)
          if (p.x == x) cell = figure_with_interval(p.value, p.low, p.high);
        o += " " + cell + " |";
      }
      o += "\n";
    }
  }
  if (!figures.missing.empty()) {
    o += "\nNot measured in this database:";
    for (const auto& m : figures.missing) o += " " + md(m) + ";";
    o += "\n";
  }

  o += "\n## Filters at work\n\n";
  if (d.filter_events.empty())
    o += "No filter acted in this database.\n";
  else
    o += "| stage | where | filter | action | events |\n|---|---|---|---|---|\n";
  for (const auto& f : d.filter_events)
    o += "| " + md(f.stage) + " | " +
         (f.run_id ? "audit run " + std::to_string(*f.run_id) : std::string("served requests")) +
         " | `" + f.filter + "` | " + md(f.action) + " | " + std::to_string(f.count) + " |\n";

  o += "\n## Evidence: the worst samples\n\n";
  if (d.evidence.empty()) o += "No evidence stored.\n";
  for (const auto& x : d.evidence) {
    o += "- **" + md(x.stage) + "**, " + md(x.detector) + " `" + x.kind + "`, " + md(x.strategy) +
         " " + md(x.prompt_id) + " #" + std::to_string(x.sample_index) +
         (x.value ? ", `" + x.metric + "` = " + figure(*x.value) : "") + ", " + md(x.detail_json) +
         "\n\n  > ";
    if (x.start_byte && x.end_byte && *x.start_byte >= 0 && *x.end_byte >= *x.start_byte &&
        static_cast<std::size_t>(*x.end_byte) <= x.text.size()) {
      const auto a = static_cast<std::size_t>(*x.start_byte);
      const auto b = static_cast<std::size_t>(*x.end_byte);
      o += md(x.text.substr(0, a)) + "**" + md(x.text.substr(a, b - a)) + "**" +
           md(x.text.substr(b));
    } else {
      o += md(x.text);
    }
    o += "\n\n";
  }
  return o;
}

}  // namespace sg::report
