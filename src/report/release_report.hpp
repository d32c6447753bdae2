// `stagegate report`: the release report, as one self-contained HTML file (styles, the one
// small script and every chart inline; nothing fetched) or as Markdown for a pull request or
// a model card.
#pragma once

#include <string>

#include "report/report_data.hpp"

namespace sg::report {

std::string report_html(const ReportData& data);
std::string report_markdown(const ReportData& data);

}  // namespace sg::report
