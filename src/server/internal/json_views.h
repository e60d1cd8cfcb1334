// The JSON shapes of the API (documented in src/server/openapi.json): one function per
// service type, so every route renders a thing the same way.
#pragma once

#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "policy/policy.h"
#include "service/retention.h"
#include "service/review.h"
#include "service/search_request.h"
#include "service/server_queries.h"

namespace facetrail::server::internal {

// Faces with boxes, quality and the quality gate's verdict for each (feedback before a search).
// `probe_sha256` is the hash a supervisor names to approve a quality override.
nlohmann::json AnalysisJson(const service::ProbeAnalysis& analysis, const policy::QualityGate& gate,
                            const std::string& probe_sha256);
nlohmann::json RequestSummaryJson(const service::RequestSummary& summary);
nlohmann::json LeadJson(const service::Lead& lead);
nlohmann::json BookingJson(const service::BookingView& view);
nlohmann::json EntryJson(const audit::Entry& entry);
nlohmann::json CaseHoldJson(const service::CaseHold& hold);
nlohmann::json QualityOverrideJson(const service::QualityOverride& override_);

}  // namespace facetrail::server::internal
