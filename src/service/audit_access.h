// Reading the audit log through the front ends: reports, exports and checkpoints are for
// supervisors and auditors only, and each is itself audited. (Verification needs no account:
// it reads nothing but the chain and proves its integrity, against keys the verifier pins, to
// anyone holding the file.)
#pragma once

#include <vector>

#include "audit/audit.h"
#include "audit/report.h"
#include "service/context.h"

namespace facetrail::service {

// Refusals (wrong_role, account_locked) are audited as "audit.refused".
Expected<audit::Report> AuditReport(Context& ctx, const Actor& actor,
                                    const audit::ReportOptions& options);
Expected<std::vector<audit::Entry>> ExportAuditLog(Context& ctx, const Actor& actor,
                                                   int64_t from_seq, int64_t to_seq);
// Signs the log's head for a supervisor or an admin (never an auditor: read-only), after verifying
// the whole log against `verify` (its pinned keys and external checkpoints; with no key pinned,
// against the signing key itself): a checkpoint is never signed over a log that does not verify
// (kDataLoss naming the first problem), nor with a key that is not pinned (kInvalidArgument).
Expected<audit::Checkpoint> Checkpoint(Context& ctx, const Actor& actor,
                                       const audit::SigningKey& key, audit::VerifyOptions verify);

}  // namespace facetrail::service
