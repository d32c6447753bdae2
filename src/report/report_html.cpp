#include <nlohmann/json.hpp>

#include "common/version.hpp"
#include "report/claims.hpp"
#include "report/number_format.hpp"
#include "report/release_report.hpp"
#include "report/report_figures.hpp"

namespace sg::report {

namespace {

constexpr const char* kStyle = R"(
body { font: 15px/1.45 system-ui, sans-serif; color: #222; max-width: 1260px; margin: 24px auto;
       padding: 0 16px; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ccc; }
.meta { color: #555; } code, .hash { font-family: ui-monospace, monospace; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd;
        padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #f4f4f4; }
.approved { color: #11703a; font-weight: 600; } .rejected, .revoked { color: #b00020;
  font-weight: 600; } .pending { color: #8a6d00; font-weight: 600; }
.verdict-supported { color: #11703a; font-weight: 600; }
.verdict-contradicted { color: #b00020; font-weight: 600; }
.verdict-not-supported, .verdict-not-supported-by-the-intervals { color: #8a6d00;
  font-weight: 600; }
.verdict-not-measured { color: #777; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #e4e4e4; padding: 6px; width: 580px; }
figcaption { font-size: 13px; color: #444; }
svg.chart { font: 11px system-ui, sans-serif; width: 100%; height: auto; }
svg .chart-title { font-size: 14px; font-weight: 600; } svg .axis-label { font-size: 12px; }
svg .grid { stroke: #eee; } svg .axis { stroke: #333; } svg .line { fill: none;
  stroke-width: 1.5; opacity: 0.6; } svg .interval { stroke-width: 2; }
.sample { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 12.5px;
          background: #fafafa; border: 1px solid #eee; padding: 6px; max-height: 12em;
          overflow: auto; }
mark { background: #ffd54f; }
)";

// Checks, once the page has loaded, that every chart has its marks: a reviewer (and the CI
// test in headless Chromium) sees at once when a chart came out empty.
constexpr const char* kScript = R"(
document.addEventListener('DOMContentLoaded', function () {
  var charts = document.querySelectorAll('svg.chart');
  var empty = 0;
  charts.forEach(function (c) { if (!c.querySelector('.mark')) { empty++; } });
  document.documentElement.dataset.charts = charts.length + ' charts, ' + empty + ' empty';
  if (empty) { console.error(empty + ' chart(s) without marks'); }
});
)";

std::string e(std::string_view s) {
  return html_escape(s);
}

std::string value_cell(const std::optional<ComparedValue>& v) {
  if (!v) return "";
  std::string s = figure(v->value);
  if (v->ci_low && v->ci_high)
    s += " <small>[" + figure(*v->ci_low) + ", " + figure(*v->ci_high) + "]</small>";
  return s;
}

std::string css_class(std::string s) {
  for (auto& c : s)
    if (c == ' ') c = '-';
  return s;
}

std::string summary(const ReportData& d) {
  std::string o =
      "<h2 id=\"summary\">Stages</h2>\n<table><tr><th>stage</th><th>architecture</th>"
      "<th>parameters</th><th>checkpoint SHA-256</th><th>decision</th><th>reason</th>"
      "<th>filters by audience (policy)</th><th>audit runs</th></tr>\n";
  for (std::size_t i = 0; i < d.stages.size(); ++i) {
    const auto& s = d.stages[i];
    o += "<tr><td>" + e(s.stage) + "</td><td>" + e(s.architecture) + "</td><td>" +
         parameter_count(s.parameters) + "</td><td class=\"hash\" title=\"" +
         e(s.checkpoint_sha256) + "\">" + e(s.checkpoint_sha256.substr(0, 16)) + "…</td>";
    if (s.decision)
      o += "<td class=\"" + e(s.decision->decision) + "\">" + e(s.decision->decision) +
           "</td><td>" + e(s.decision->reason) + "<br><small>" + e(s.decision->decided_at) +
           ", by " + e(s.decision->decided_by) + "</small></td>";
    else
      o += "<td>none recorded</td><td></td>";
    o += "<td>";
    if (d.policy.empty())
      o += "<small>(no --policy given)</small>";
    else if (!s.in_policy)
      o += "<small>not in the policy</small>";
    for (const auto& f : s.filters) o += e(f) + "<br>";
    o += "</td><td>";
    for (const auto& r : d.figures.columns[i].runs)
      o += std::to_string(r.run_id) + " <small>" + e(r.plan_path) + "</small><br>";
    o += "</td></tr>\n";
  }
  o += "</table>\n<p>Decision chain: " + std::to_string(d.chain.rows) + " decision" +
       (d.chain.rows == 1 ? "" : "s") + ", head <span class=\"hash\">" + e(d.chain.head) +
       "</span>: ";
  if (d.chain.ok()) {
    o += "<span class=\"approved\">verifies</span> (every row's hash and link, and every metric "
         "each decision rests on, re-read from the store).</p>\n";
  } else {
    o += "<span class=\"rejected\">does not verify</span>:</p><ul>\n";
    for (const auto& p : d.chain.problems)
      o += "<li>row " + std::to_string(p.row_id) + ", " + e(p.kind) + ": " + e(p.message) +
           "</li>\n";
    o += "</ul>\n";
  }
  return o;
}

std::string claims_section(const ReportData& d) {
  std::string o =
      "<h2 id=\"claims\">The claims, against the numbers</h2>\n<p>Each claim is "
      "judged on 95 % intervals: <em>supported</em> only where the intervals "
      "separate in the claimed direction.</p>\n<table><tr><th>claim</th><th>measure"
      "</th><th>figures</th><th>verdict</th><th>why</th></tr>\n";
  for (const auto& c : seed_claims(d)) {
    o += "<tr><td>" + e(c.claim) + "</td><td><code>" + e(c.measure) + "</code></td><td>";
    for (const auto& f : c.figures) o += e(f.label) + ": " + value_cell(f.value) + "<br>";
    o += "</td><td class=\"verdict-" + css_class(c.verdict) + "\">" + e(c.verdict) + "</td><td>" +
         e(c.why) + "</td></tr>\n";
  }
  return o + "</table>\n";
}

std::string figures_section(const ReportData& d) {
  const auto figures = report_figures(d);
  std::string o, section;
  for (const auto& f : figures.drawn) {
    if (f.section != section) {
      if (!section.empty()) o += "</div>\n";
      section = f.section;
      o += "<h2 id=\"" + e(section) + "\">" + e(section) + "</h2>\n<div class=\"figures\">\n";
    }
    o += "<figure>" + svg_chart(f.chart) + "<figcaption>" + e(f.caption) +
         " Bars: 95 % intervals.</figcaption></figure>\n";
  }
  if (!section.empty()) o += "</div>\n";
  if (!figures.missing.empty()) {
    o += "<p class=\"meta\">Not measured in this database:";
    for (const auto& m : figures.missing) o += " " + e(m) + ";";
    o += "</p>\n";
  }
  return o;
}

std::string all_figures_table(const ReportData& d) {
  std::string o =
      "<h2 id=\"figures\">Every figure</h2>\n<p class=\"meta\">As <code>stagegate "
      "compare</code> prints them: each stage's latest completed run of each plan."
      "</p>\n<table><tr><th>group</th><th>metric</th><th>strategy</th><th>slice</th>"
      "<th>plan</th>";
  for (const auto& c : d.figures.columns) o += "<th>" + e(c.label) + "</th>";
  o += "</tr>\n";
  for (const auto& r : d.figures.rows) {
    o += "<tr><td>" + e(r.group) + "</td><td><code>" + e(r.metric) + "</code></td><td>" +
         e(r.strategy) + "</td><td>" + e(r.slice) + "</td><td>" + e(r.plan) + "</td>";
    for (const auto& v : r.values) o += "<td>" + value_cell(v) + "</td>";
    o += "</tr>\n";
  }
  return o + "</table>\n";
}

// The sample's text with the evidence's span marked.
std::string marked_text(const db::EvidenceExample& x) {
  if (!x.start_byte || !x.end_byte || *x.start_byte < 0 || *x.end_byte < *x.start_byte ||
      static_cast<std::size_t>(*x.end_byte) > x.text.size())
    return e(x.text);
  const auto a = static_cast<std::size_t>(*x.start_byte), b = static_cast<std::size_t>(*x.end_byte);
  return e(x.text.substr(0, a)) + "<mark>" + e(x.text.substr(a, b - a)) + "</mark>" +
         e(x.text.substr(b));
}

std::string filters_section(const ReportData& d) {
  std::string o =
      "<h2 id=\"filters\">Filters at work</h2>\n<p class=\"meta\">How often each "
      "output filter acted, in audit runs (with the plan that turned it on) and in "
      "requests served under a policy.</p>\n";
  if (d.filter_events.empty()) return o + "<p>No filter acted in this database.</p>\n";
  o += "<table><tr><th>stage</th><th>where</th><th>filter</th><th>action</th><th>events</th>"
       "</tr>\n";
  for (const auto& f : d.filter_events) {
    std::string where = "served requests";
    if (f.run_id) {
      where = "audit run " + std::to_string(*f.run_id);
      for (const auto& col : d.figures.columns)
        for (const auto& r : col.runs)
          if (r.run_id == *f.run_id) where += " <small>" + e(r.plan_path) + "</small>";
    }
    o += "<tr><td>" + e(f.stage) + "</td><td>" + where + "</td><td><code>" + e(f.filter) +
         "</code></td><td>" + e(f.action) + "</td><td>" + std::to_string(f.count) + "</td></tr>\n";
  }
  return o + "</table>\n";
}

std::string evidence_section(const ReportData& d) {
  std::string o =
      "<h2 id=\"evidence\">Evidence: the worst samples</h2>\n<p class=\"meta\">Per "
      "stage, detector and kind of evidence, the samples with the highest figure "
      "(then the longest span), the span marked in the sample's text.</p>\n";
  if (d.evidence.empty()) return o + "<p>No evidence stored.</p>\n";
  o += "<table><tr><th>stage</th><th>evidence</th><th>sample</th><th>figure</th><th>details</th>"
       "<th>text</th></tr>\n";
  for (const auto& x : d.evidence) {
    std::string details;
    try {
      const auto detail = nlohmann::json::parse(x.detail_json);
      for (const auto& [k, v] : detail.items())
        details += e(k) + ": " + e(v.is_string() ? v.get<std::string>() : v.dump()) + "<br>";
    } catch (const nlohmann::json::exception&) {
      details = e(x.detail_json);
    }
    o += "<tr><td>" + e(x.stage) + "</td><td>" + e(x.detector) + " <code>" + e(x.kind) +
         "</code></td><td>" + e(x.strategy) + "<br><small>" + e(x.prompt_id) + " #" +
         std::to_string(x.sample_index) + "</small></td><td>" +
         (x.value ? "<code>" + e(x.metric) + "</code> " + figure(*x.value) : "") + "</td><td>" +
         details + "</td><td><div class=\"sample\">" + marked_text(x) + "</div></td></tr>\n";
  }
  return o + "</table>\n";
}

}  // namespace

std::string report_html(const ReportData& d) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>stagegate release report</title>\n<style>" +
      std::string(kStyle) + "</style>\n<script>" + kScript + "</script>\n</head>\n<body>\n";
  o += "<h1>Release report</h1>\n<p class=\"meta\">Database <code>" + e(d.database) + "</code>";
  if (!d.policy.empty()) o += ", policy <code>" + e(d.policy) + "</code>";
  o += ". Written " + e(d.generated_at) + " by stagegate " + std::string(version()) +
       ". Sections: <a href=\"#summary\">stages</a>, <a href=\"#claims\">claims</a>, "
       "<a href=\"#Capability\">capability</a>, <a href=\"#Memorization\">memorization</a>, "
       "<a href=\"#Repetition\">repetition</a>, <a href=\"#Toxicity\">toxicity</a>, "
       "<a href=\"#filters\">filters at work</a>, <a href=\"#evidence\">evidence</a>, <a "
       "href=\"#figures\">every figure</a>.</p>\n";
  o += summary(d) + claims_section(d) + figures_section(d) + filters_section(d) +
       evidence_section(d) + all_figures_table(d);
  return o + "</body>\n</html>\n";
}

}  // namespace sg::report
