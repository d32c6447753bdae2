#include "report/compare_format.hpp"

#include "report/number_format.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace sg::report {

namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& v) {
  return v ? json(*v) : json();
}

std::string cell(const std::optional<ComparedValue>& v) {
  return v ? figure_with_interval(v->value, v->ci_low, v->ci_high) : "-";
}

std::string delta(const std::optional<Difference>& d) {
  if (!d) return "-";
  return (d->difference > 0 ? "+" : "") + figure(d->difference) + (d->separated ? " *" : "");
}

std::string row_label(const ComparedRow& r) {
  std::string s = r.metric;
  if (!r.strategy.empty()) s += " " + r.strategy;
  if (!r.slice.empty()) s += " [" + r.slice + "]";
  if (!r.plan.empty()) s += " (" + r.plan + ")";
  return s;
}

void pad(std::string& out, const std::string& s, std::size_t width) {
  out += s;
  out.append(width > s.size() ? width - s.size() : 0, ' ');
}

}  // namespace

std::string comparison_json(const Comparison& c) {
  json columns = json::array();
  for (const auto& col : c.columns) {
    json runs = json::array();
    for (const auto& r : col.runs) runs.push_back({{"run_id", r.run_id}, {"plan", r.plan_path}});
    columns.push_back({{"label", col.label},
                       {"stage", col.stage},
                       {"checkpoint_sha256", col.checkpoint_sha256},
                       {"runs", runs}});
  }
  json rows = json::array();
  for (const auto& r : c.rows) {
    json values = json::array(), differences = json::array();
    for (const auto& v : r.values)
      values.push_back(v ? json{{"value", v->value},
                                {"ci_low", optional_number(v->ci_low)},
                                {"ci_high", optional_number(v->ci_high)},
                                {"n", v->n},
                                {"run_id", v->run_id}}
                         : json());
    for (const auto& d : r.differences)
      differences.push_back(d ? json{{"difference", d->difference},
                                     {"separated", d->separated},
                                     {"intervals", d->intervals}}
                              : json());
    rows.push_back({{"group", r.group},
                    {"metric", r.metric},
                    {"strategy", r.strategy},
                    {"slice", r.slice},
                    {"plan", r.plan},
                    {"values", values},
                    {"differences", differences}});
  }
  return json{{"columns", columns}, {"rows", rows}}.dump();
}

std::string comparison_table(const Comparison& c) {
  const std::size_t n = c.columns.size();
  // Cells first, to size the columns.
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> width(2 * n, 0);
  std::size_t label_width = 0;
  for (const auto& r : c.rows) {
    auto& line = cells.emplace_back();
    line.push_back("  " + row_label(r));
    for (const auto& v : r.values) line.push_back(cell(v));
    for (std::size_t i = 1; i < n; ++i) line.push_back(delta(r.differences[i]));
    label_width = std::max(label_width, line[0].size());
    for (std::size_t i = 1; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::vector<std::string> header = {""};
  for (const auto& col : c.columns) header.push_back(col.label);
  for (std::size_t i = 1; i < n; ++i)
    header.push_back(c.columns[i].label + " - " + c.columns[0].label);
  for (std::size_t i = 1; i < header.size(); ++i) width[i] = std::max(width[i], header[i].size());

  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    pad(out, row[0], label_width + 2);
    for (std::size_t i = 1; i < row.size(); ++i) pad(out, row[i], width[i] + 2);
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  };
  for (const auto& col : c.columns) {
    out += col.label + ": " + (col.stage.empty() ? "" : "stage " + col.stage + ", ") + "weights " +
           col.checkpoint_sha256.substr(0, 12) + ", runs";
    for (const auto& r : col.runs) out += " " + std::to_string(r.run_id) + " (" + r.plan_path + ")";
    out += "\n";
  }
  out += "\n";
  line(header);
  std::string group;
  for (std::size_t i = 0; i < c.rows.size(); ++i) {
    if (c.rows[i].group != group) {
      group = c.rows[i].group;
      out += group + "\n";
    }
    line(cells[i]);
  }
  out += "\nvalue [95 % interval]; A - " + c.columns[0].label + ": the difference from " +
         c.columns[0].label + ", * where the two intervals do not overlap\n";
  return out;
}

}  // namespace sg::report
