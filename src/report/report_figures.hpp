// The report's charts, each built from the comparison's rows (so a figure is the store's
// number), grouped by section. A chart with no point in this database is left out, and said so.
#pragma once

#include <string>
#include <vector>

#include "report/report_data.hpp"
#include "report/svg_chart.hpp"

namespace sg::report {

struct Figure {
  std::string section;  // "Capability", "Memorization", "Repetition", "Toxicity"
  Chart chart;
  std::string caption;
};

struct Figures {
  std::vector<Figure> drawn;
  std::vector<std::string> missing;  // titles of charts with nothing to draw
};

Figures report_figures(const ReportData& data);

}  // namespace sg::report
