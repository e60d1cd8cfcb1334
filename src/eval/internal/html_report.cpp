#include "eval/internal/report_format.h"

namespace facetrail::eval::internal {

std::string ReportHtml(const Report& report) {
  return "<!doctype html><title>x</title>" + HtmlEscape(report.dataset_root);
}

}  // namespace facetrail::eval::internal
