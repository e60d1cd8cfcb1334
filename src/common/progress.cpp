#include "common/progress.h"

#include <cmath>
#include <cstdio>

namespace facetrail {

std::optional<double> StableEta(double elapsed_seconds, int64_t done, int64_t total) {
  if (total <= 0 || done <= 0 || done >= total || !(elapsed_seconds >= kMinEtaSeconds)) {
    return std::nullopt;
  }
  const double fraction = static_cast<double>(done) / static_cast<double>(total);
  if (fraction < kMinEtaFraction) return std::nullopt;
  return elapsed_seconds * (1 - fraction) / fraction;
}

std::string EtaText(double elapsed_seconds, int64_t done, int64_t total) {
  if (total > 0 && done >= total) return "done";
  const std::optional<double> eta = StableEta(elapsed_seconds, done, total);
  if (!eta) return "ETA estimating";
  const auto t = static_cast<long>(std::lround(*eta));
  char buf[48];
  std::snprintf(buf, sizeof buf, "ETA %ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

}  // namespace facetrail
