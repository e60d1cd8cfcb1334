#include "eval/internal/report_format.h"

#include <cmath>
#include <cstdio>

namespace facetrail::eval::internal {

std::string Percent(double fraction, int digits) {
  if (std::isnan(fraction)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f %%", digits, fraction * 100);
  return buf;
}

std::string Number(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "+inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace facetrail::eval::internal
