// Review of leads: two examiners, then release to the requester, then the outcome.
//
// THE FLOW (docs/POLICY.md, "Review of leads")
//   pending_review --Examine--> examined --Concur(agree)--> released --RecordOutcome--> (outcome)
//                                   \--Concur(disagree)--> disputed --Examine--> examined ...
//   Examine: an examiner with a valid certificate who is not the requester marks every candidate
//     possible_match / not_a_match / inconclusive, with notes.
//   Concur: a second certified examiner, neither the requester nor the examiner of the current
//     examination. Agreement releases the lead to the requester; disagreement sends it back for
//     a new examination (by someone other than the disputed examiner).
//   RecordOutcome: only the requester, only on a released lead.
//   Every step and every refusal ("review.refused", "lead.refused") is audited in the step's
//   transaction. Refusals are kPermissionDenied "<code>: <reason>"; a step in the wrong state is
//   kFailedPrecondition.
#pragma once

#include <string>
#include <vector>

#include "service/context.h"
#include "service/search_request.h"

namespace facetrail::service {

enum class Mark { kPossibleMatch, kNotAMatch, kInconclusive };
std::string_view MarkName(Mark mark);  // "possible_match", "not_a_match", "inconclusive"
Expected<Mark> ParseMark(std::string_view name);

enum class Outcome { kConfirmedByOtherEvidence, kExcluded, kUnknown };
std::string_view OutcomeName(Outcome outcome);  // "confirmed_by_other_evidence", ...
Expected<Outcome> ParseOutcome(std::string_view name);

struct CandidateMark {
  int rank = 0;  // 1-based rank in the candidate list
  Mark mark = Mark::kInconclusive;
  std::string notes;
};

// requires: one mark per candidate of the request, each rank once (kInvalidArgument otherwise).
Status Examine(Context& ctx, const Actor& examiner, int64_t request_id,
               const std::vector<CandidateMark>& marks);
Status Concur(Context& ctx, const Actor& examiner, int64_t request_id, bool agree,
              const std::string& notes);
Status RecordOutcome(Context& ctx, const Actor& requester, int64_t request_id, Outcome outcome,
                     const std::string& note);

struct LeadCandidate {
  Candidate candidate;
  std::optional<Mark> mark;  // from the current examination, when there is one
  std::string notes;
};

struct Lead {
  int64_t request_id = 0;
  std::string notice{kLeadNotice};
  std::string requester;
  std::string case_number;
  std::string purpose;
  std::string created_at;
  std::string probe_sha256;
  std::string status;  // pending_review, examined, disputed, released
  // The candidate-list policy that made the list (its `candidates` stay empty; see below).
  CandidateList policy;
  std::vector<LeadCandidate> candidates;
  std::string examiner;  // of the current examination, if any
  std::string concurred_by;
  std::optional<std::string> outcome;
};

// Reads a lead. Examiners and supervisors may read any lead (to review it); the requester may
// read the marks only once it is released. Audited as "lead.view".
Expected<Lead> GetLead(Context& ctx, const Actor& actor, int64_t request_id);

// Requests waiting for review (pending_review, examined, disputed), oldest first; examiners only.
Expected<std::vector<Lead>> PendingReviews(Context& ctx, const Actor& examiner);

}  // namespace facetrail::service
