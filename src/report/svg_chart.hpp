// Charts as inline SVG, written here rather than taken from a chart library: a report must
// open offline as one file, and points with interval bars over a few categories are all the
// figures need (a library inlined from npm would add ~200 kB of script for the same marks).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sg::report {

struct ChartPoint {
  std::size_t x = 0;  // index into Chart::categories
  double value = 0;
  std::optional<double> low;  // the 95 % interval, drawn as a bar
  std::optional<double> high;
};

struct ChartSeries {
  std::string name;
  std::vector<ChartPoint> points;
};

struct Chart {
  std::string title;
  std::string x_label;  // with units where they apply
  std::string y_label;
  std::vector<std::string> categories;  // the x axis, in order
  std::vector<ChartSeries> series;
  bool y_from_zero = true;  // shares, rates, counts; not perplexity or bits
  bool connect = true;      // join a series' points (ordered categories)

  std::size_t marks() const;  // points drawn
};

// An <svg class="chart"> with axes, ticks, labels, a legend, one circle.mark per point and a
// line.interval per interval. Text is escaped. Charts without points are the caller's to skip.
std::string svg_chart(const Chart& chart);

// `text` with &, <, >, " and ' escaped for HTML and SVG, invalid UTF-8 replaced by U+FFFD.
std::string html_escape(std::string_view text);

}  // namespace sg::report
