#include "report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tokenizer/utf8.hpp"

namespace sg::report {

namespace {

constexpr double kWidth = 600, kHeight = 340;
constexpr double kLeft = 70, kRight = 20, kTop = 36, kBottom = 104;
// Distinguishable in colour and for most colour-blind readers (Okabe and Ito's palette).
constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#000000", "#F0E442"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string tick_label(double v, double step) {
  char buf[32];
  const int decimals = step >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(step))));
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A step of 1, 2 or 5 times a power of ten giving about `count` ticks over [low, high].
double nice_step(double low, double high, int count) {
  const double raw = (high - low) / count;
  if (raw <= 0) return 1;
  const double power = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * power) return m * power;
  return 10 * power;
}

}  // namespace

std::size_t Chart::marks() const {
  std::size_t n = 0;
  for (const auto& s : series) n += s.points.size();
  return n;
}

std::string html_escape(std::string_view text) {
  const std::string valid = tokenizer::utf8::replace_invalid(text);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string svg_chart(const Chart& chart) {
  double low = chart.y_from_zero ? 0 : INFINITY, high = chart.y_from_zero ? 0 : -INFINITY;
  for (const auto& s : chart.series)
    for (const auto& p : s.points) {
      low = std::min({low, p.value, p.low.value_or(p.value)});
      high = std::max({high, p.value, p.high.value_or(p.value)});
    }
  if (!std::isfinite(low)) low = 0, high = 1;
  if (high - low < 1e-12) high = low + (low == 0 ? 1 : std::fabs(low) * 0.1);
  const double step = nice_step(low, high, 5);
  low = std::floor(low / step) * step;
  high = std::ceil(high / step) * step;

  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const auto n = std::max<std::size_t>(chart.categories.size(), 1);
  const double band = plot_w / static_cast<double>(n);
  auto centre = [&](std::size_t i) { return kLeft + band * (static_cast<double>(i) + 0.5); };
  auto x_of = [&](std::size_t i, std::size_t s) {
    // Series side by side within a category, so intervals at one x do not hide each other.
    const double spread = std::min(band * 0.5, 12.0 * static_cast<double>(chart.series.size()));
    const double offset =
        chart.series.size() < 2
            ? 0
            : spread *
                  (static_cast<double>(s) / static_cast<double>(chart.series.size() - 1) - 0.5);
    return centre(i) + offset;
  };
  auto y_of = [&](double v) { return kTop + plot_h * (1 - (v - low) / (high - low)); };

  std::string o = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                  num(kWidth) + " " + num(kHeight) + "\" width=\"" + num(kWidth) + "\" height=\"" +
                  num(kHeight) + "\" role=\"img\" aria-label=\"" + html_escape(chart.title) +
                  "\">\n";
  o += "<title>" + html_escape(chart.title) + "</title>\n";
  o += "<text class=\"chart-title\" x=\"" + num(kWidth / 2) +
       "\" y=\"20\" text-anchor=\"middle\">" + html_escape(chart.title) + "</text>\n";
  // Grid and y ticks.
  for (double v = low; v <= high + step / 2; v += step) {
    const double y = y_of(v);
    o += "<line class=\"grid\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kWidth - kRight) +
         "\" y1=\"" + num(y) + "\" y2=\"" + num(y) + "\"/>\n";
    o += "<text class=\"tick\" x=\"" + num(kLeft - 6) + "\" y=\"" + num(y + 4) +
         "\" text-anchor=\"end\">" + tick_label(v, step) + "</text>\n";
  }
  // Axes.
  o += "<line class=\"axis\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kLeft) + "\" y1=\"" +
       num(kTop) + "\" y2=\"" + num(kTop + plot_h) + "\"/>\n";
  o += "<line class=\"axis\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kWidth - kRight) + "\" y1=\"" +
       num(kTop + plot_h) + "\" y2=\"" + num(kTop + plot_h) + "\"/>\n";
  for (std::size_t i = 0; i < chart.categories.size(); ++i)
    o += "<text class=\"tick\" x=\"" + num(centre(i)) + "\" y=\"" + num(kTop + plot_h + 16) +
         "\" text-anchor=\"middle\">" + html_escape(chart.categories[i]) + "</text>\n";
  o += "<text class=\"axis-label\" x=\"" + num(kLeft + plot_w / 2) + "\" y=\"" +
       num(kTop + plot_h + 36) + "\" text-anchor=\"middle\">" + html_escape(chart.x_label) +
       "</text>\n";
  o += "<text class=\"axis-label\" transform=\"translate(16 " + num(kTop + plot_h / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(chart.y_label) + "</text>\n";

  // Series: line, intervals, marks; then the legend.
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const auto& series = chart.series[s];
    const std::string colour = kColours[s % std::size(kColours)];
    auto points = series.points;
    std::sort(points.begin(), points.end(),
              [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
    if (chart.connect && points.size() > 1) {
      std::string path;
      for (const auto& p : points)
        path += (path.empty() ? "M" : " L") + num(x_of(p.x, s)) + " " + num(y_of(p.value));
      o += "<path class=\"line\" d=\"" + path + "\" stroke=\"" + colour + "\"/>\n";
    }
    for (const auto& p : points) {
      const double x = x_of(p.x, s);
      std::string tip =
          series.name + ", " + chart.categories.at(p.x) + ": " + tick_label(p.value, 0.0001);
      if (p.low && p.high) {
        tip += " [" + tick_label(*p.low, 0.0001) + ", " + tick_label(*p.high, 0.0001) + "]";
        o += "<line class=\"interval\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" +
             num(y_of(*p.low)) + "\" y2=\"" + num(y_of(*p.high)) + "\" stroke=\"" + colour +
             "\"/>\n";
      }
      o += "<circle class=\"mark\" cx=\"" + num(x) + "\" cy=\"" + num(y_of(p.value)) +
           "\" r=\"4\" fill=\"" + colour + "\"><title>" + html_escape(tip) + "</title></circle>\n";
    }
  }
  // The legend under the axis label, wrapped onto new rows at the right edge.
  double legend_x = kLeft, legend_y = kTop + plot_h + 58;
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const std::string colour = kColours[s % std::size(kColours)];
    const double item = 22 + 6.5 * static_cast<double>(chart.series[s].name.size());
    if (legend_x > kLeft && legend_x + item > kWidth - kRight) {
      legend_x = kLeft;
      legend_y += 15;
    }
    o += "<circle cx=\"" + num(legend_x + 5) + "\" cy=\"" + num(legend_y - 4) +
         "\" r=\"4\" fill=\"" + colour + "\"/><text class=\"legend\" x=\"" + num(legend_x + 13) +
         "\" y=\"" + num(legend_y) + "\">" + html_escape(chart.series[s].name) + "</text>\n";
    legend_x += item;
  }
  o += "</svg>\n";
  return o;
}

}  // namespace sg::report
