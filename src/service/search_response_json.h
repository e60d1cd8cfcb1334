// The JSON rendering of a search response, shared by every front end (the command line's
// --json output and the HTTP API), so scripts and the web application see the same fields.
#pragma once

#include <nlohmann/json.hpp>

#include "service/probe_view.h"
#include "service/search_request.h"

namespace facetrail::service {

// {"notice", "request_id", "case", "created_at", "probe_sha256", "status", "model": {"id",
// "version"}, "gallery_version", "threshold", "quality_override_used", "steps": [{"kind",
// "params"}], "candidates": [{"rank", "booking_number", "score", "photo_id", "template_id"}]}.
nlohmann::json SearchResponseJson(const SearchResponse& response);

// The candidate-list policy that made a list: {"threshold", "threshold_source" ("department",
// "model calibration", or "unrecorded" for lists made before it was recorded),
// "max_list_length", "model": {"id", "version"}}.
nlohmann::json CandidatePolicyJson(const CandidateList& list);

// A probe view without its bytes: request, sha256, format, content type, size, steps, override.
nlohmann::json ProbeViewJson(const ProbeView& view);

// A face's quality figures (vision::FaceQuality), as the audit log, the API and the command
// line show them; a figure not measured is null.
nlohmann::json QualityJson(const vision::FaceQuality& quality);

}  // namespace facetrail::service
