// Retention of probe images: purged after PolicyConfig::probe_retention_days unless a case that
// used them is on hold. A purge removes the image bytes only; the SHA-256, the request and
// every audit entry stay. Holds and purges are audited.
#pragma once

#include <string>
#include <vector>

#include "service/context.h"

namespace facetrail::service {

// A supervisor puts a case on hold (its probes are kept) or lifts the hold. kInvalidArgument
// without a case number or a reason; kNotFound when putting on hold a case no search request
// names (a mistyped case number would otherwise protect nothing while looking protected);
// kFailedPrecondition when the hold is already in that state. Wrong-role refusals are audited
// "case.refused".
Status SetCaseHold(Context& ctx, const Actor& supervisor, const std::string& case_number, bool hold,
                   const std::string& reason);

struct CaseHold {
  std::string case_number;
  std::string set_by;  // the supervisor's user name
  std::string set_at;  // UTC, audit::FormatUtc
  std::string reason;
  int64_t num_requests = 0;  // search requests of the case (their probes are kept)
};

// The cases on hold, by case number. Supervisors and auditors; refusals are audited
// "case.refused" (kPermissionDenied "<code>: <reason>").
Expected<std::vector<CaseHold>> ListCaseHolds(Context& ctx, const Actor& actor);

struct PurgeResult {
  std::vector<std::string> purged_sha256;  // images removed now
  int64_t kept_on_hold = 0;                // old enough, but a case is on hold
};

// Purges every probe whose newest request is older than the retention period and whose cases
// are not on hold. Supervisors and admins may run it (a scheduled job runs it as an admin
// account). One "probe.purge" entry lists the hashes, in the purge's own transaction.
Expected<PurgeResult> PurgeProbes(Context& ctx, const Actor& actor);

}  // namespace facetrail::service
