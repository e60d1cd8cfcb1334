// The whole record of one search request as the case file needs it (service/case_file.h): the
// lead with every examination as a supervisor sees it, the request's own fields, the
// supervisor's decision with its reasons, and the stored probe. NO role check and NO audit entry
// here: the caller checks who asks and audits the use (case.view, case.export) in the same
// transaction.
#pragma once

#include <optional>
#include <string>

#include "service/probe_view.h"
#include "service/review.h"

namespace facetrail::service::internal {

struct DecisionRecord {
  std::string supervisor, created_at, decision, notes;
};

struct LeadRecord {
  Lead lead;  // every examination (oldest first), the standing conclusions, the history
  int64_t requester_id = 0;
  std::string offense, justification, agency;
  std::optional<DecisionRecord> decision;  // the latest, if any
  std::optional<std::string> outcome_note;
};

// nullopt when no request has this id.
Expected<std::optional<LeadRecord>> ReadLeadRecord(Context& ctx, int64_t request_id);

// The stored probe of an existing request with its processing steps and override.
// kFailedPrecondition when purged (retention), kNotFound when the request does not exist.
Expected<ProbeView> ReadProbeRecord(Context& ctx, int64_t request_id);
// The processing record of a request's probe (steps, expected FNIR) into `view`; it survives
// the purge of the probe's bytes.
Status ReadProbeProcessing(Context& ctx, int64_t request_id, ProbeView& view);

}  // namespace facetrail::service::internal
