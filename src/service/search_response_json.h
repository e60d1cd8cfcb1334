// The JSON rendering of a search response, shared by every front end (the command line's
// --json output and the HTTP API), so scripts and the web application see the same fields.
#pragma once

#include <nlohmann/json.hpp>

#include "service/probe_view.h"
#include "service/search_request.h"

namespace facetrail::service {

// {"notice", "request_id", "case", "created_at", "probe_sha256", "status", "model": {"id",
// "version"}, "gallery_version", "threshold", "quality_override_used", "expected_fnir"
// (ProbeExpectationJson), "steps" (StepsJson), "candidates": [{"rank", "booking_number",
// "score", "photo_id", "template_id"}]}.
nlohmann::json SearchResponseJson(const SearchResponse& response);

// The candidate-list policy that made a list: {"threshold", "threshold_source" ("department",
// "model calibration", or "unrecorded" for lists made before it was recorded),
// "max_list_length", "model": {"id", "version"}}.
nlohmann::json CandidatePolicyJson(const CandidateList& list);

// A probe view without its bytes: request, sha256, format, content type, size, steps, override.
nlohmann::json ProbeViewJson(const ProbeView& view);

// The expected FNIR of a request's probe: null when not recorded, else {"model", "fnir" (null
// when the calibration states none), "note", "searches_measured", "threshold", "bin":
// {"effective_eye_distance_px": [lo, hi], "detail": [lo, hi]} (hi null = no upper edge),
// "probe": {"effective_eye_distance_px", "detail"}, "source"}.
nlohmann::json ProbeExpectationJson(const std::optional<ProbeExpectation>& expectation);
// The stored form back (requests_schema version 4): nullopt for NULL/empty text; kDataLoss for
// text that is not such an object.
Expected<std::optional<ProbeExpectation>> ParseProbeExpectation(
    const std::optional<std::string>& text);
// One line for people: "expected FNIR 35.2 % at score 0.4938 (probe: effective eye distance
// 11.3 px, detail 2.10; bin [10, 12) px × [2, 5), 1,234 searches measured on …)", or why none.
// The FNIR is the worst ladder rung's in the bin (eval::DerivedCalibration), not the average.
std::string ProbeExpectationText(const std::optional<ProbeExpectation>& expectation);
// The steps as JSON: [{"kind", "params", "why" (null when not recorded), "enhancement"}].
nlohmann::json StepsJson(const std::vector<ProcessingStep>& steps);

// A face's quality figures (vision::FaceQuality), as the audit log, the API and the command
// line show them; a figure not measured is null.
nlohmann::json QualityJson(const vision::FaceQuality& quality);

}  // namespace facetrail::service
