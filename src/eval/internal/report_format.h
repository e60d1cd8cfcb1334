// Formatting shared by the report writers (text, HTML) and the HTML/SVG report itself.
#pragma once

#include <string>

#include "eval/evaluation.h"

namespace facetrail::eval::internal {

// "97.55 %" with `digits` decimals; "n/a" for NaN.
std::string Percent(double fraction, int digits = 2);
// A number with up to `digits` significant digits ("0.001", "-0.6", "1e-04"); "n/a" for NaN,
// "+inf"/"-inf" for infinities.
std::string Number(double v, int digits = 4);
// Escapes &, <, >, " and ' for HTML text and attributes.
std::string HtmlEscape(const std::string& s);

// The whole report.json text.
std::string ReportJson(const Report& report);
// The whole self-contained report.html text.
std::string ReportHtml(const Report& report);

}  // namespace facetrail::eval::internal
