// Progress lines for long commands (enrol, retemplate, eval): an ETA only once it means something.
//
// A rate measured over the first second or the first few items swings wildly (a first-day user
// saw "ETA 0:10:19" for a 13 s run), so StableEta returns nothing until at least
// kMinEtaSeconds have passed and kMinEtaFraction of the work is done; after that, the remaining
// work at the average rate so far. Reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace facetrail {

inline constexpr double kMinEtaSeconds = 5;
inline constexpr double kMinEtaFraction = 0.05;

// Seconds left, or nullopt while the rate is not yet stable (or nothing is done, or total is 0).
std::optional<double> StableEta(double elapsed_seconds, int64_t done, int64_t total);

// "ETA 0:02:13", "ETA estimating" (not yet stable) or "done" (done >= total).
std::string EtaText(double elapsed_seconds, int64_t done, int64_t total);

}  // namespace facetrail
