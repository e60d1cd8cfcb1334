#include "service/audit_access.h"

#include <algorithm>

#include "service/internal/guard.h"

namespace facetrail::service {

namespace {

// Supervisors and auditors read the log; the check and its audit entry share a transaction.
Status RunReader(Context& ctx, const Actor& actor, const std::string& action,
                 const nlohmann::json& details, const std::function<Status()>& fn) {
  return internal::RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto aud, internal::CheckRole(ctx, actor, policy::Role::kAuditor));
    FT_ASSIGN_OR_RETURN(auto sup, internal::CheckRole(ctx, actor, policy::Role::kSupervisor));
    if (aud.refusal && sup.refusal) {
      refusal = aud.refusal->code == policy::RefusalCode::kWrongRole ? sup.refusal : aud.refusal;
      if (refusal->code == policy::RefusalCode::kWrongRole) {
        refusal->reason = actor.name + " is neither auditor nor supervisor";
      }
      nlohmann::json d = details;
      d["attempted"] = action;
      return internal::AuditRefusal(ctx, actor.name, "audit.refused", "audit", *refusal, d);
    }
    FT_RETURN_IF_ERROR(fn());
    return ctx.log().Append({actor.name, action, "audit", details}).status();
  });
}

}  // namespace

Expected<audit::Report> AuditReport(Context& ctx, const Actor& actor,
                                    const audit::ReportOptions& options) {
  audit::Report report;
  nlohmann::json details = {{"from", options.from_date}, {"to", options.to_date}};
  Status s = RunReader(ctx, actor, "audit.report", details, [&]() -> Status {
    FT_ASSIGN_OR_RETURN(auto entries, ctx.log().Read());
    FT_ASSIGN_OR_RETURN(report, audit::BuildReport(entries, options));
    return Status::Ok();
  });
  FT_RETURN_IF_ERROR(s);
  return report;
}

Expected<std::vector<audit::Entry>> ExportAuditLog(Context& ctx, const Actor& actor,
                                                   int64_t from_seq, int64_t to_seq) {
  std::vector<audit::Entry> entries;
  nlohmann::json details = {{"from_seq", from_seq}, {"to_seq", to_seq}};
  Status s = RunReader(ctx, actor, "audit.export", details, [&]() -> Status {
    FT_ASSIGN_OR_RETURN(entries, ctx.log().Read(from_seq, to_seq));
    return Status::Ok();
  });
  FT_RETURN_IF_ERROR(s);
  return entries;
}

Expected<audit::Checkpoint> Checkpoint(Context& ctx, const Actor& actor,
                                       const audit::SigningKey& key, audit::VerifyOptions verify) {
  const std::string id = key.public_key.KeyId();
  if (verify.public_keys.empty()) verify.public_keys.push_back(key.public_key);
  if (std::none_of(verify.public_keys.begin(), verify.public_keys.end(),
                   [&](const audit::PublicKey& k) { return k.KeyId() == id; })) {
    return InvalidArgument("the signing key (key id " + id +
                           ") is not one of the pinned public keys; refusing to sign");
  }
  // The check is audited in its own transaction; CreateCheckpoint writes the checkpoint entry.
  Status s = RunReader(ctx, actor, "audit.checkpoint.request", {{"key_id", id}},
                       [] { return Status::Ok(); });
  FT_RETURN_IF_ERROR(s);
  verify.require_checkpoint = false;  // this may be the first
  FT_ASSIGN_OR_RETURN(audit::VerifyReport report, audit::Verify(ctx.db(), verify));
  if (!report.ok()) {
    const audit::Problem& p = report.problems.front();
    return DataLoss("the audit log does not verify (" +
                    std::string(audit::ProblemKindName(p.kind)) + ", entry " +
                    std::to_string(p.seq) + ": " + p.message +
                    "); refusing to sign a checkpoint over it");
  }
  FT_ASSIGN_OR_RETURN(auto head, ctx.log().Head());
  audit::CheckpointOptions options;
  if (head.first > 0) options.verified_head = head;
  FT_ASSIGN_OR_RETURN(std::optional<audit::Checkpoint> c,
                      audit::CreateCheckpointIfDue(ctx.log(), key, actor.name, options));
  if (!c) return Internal("creating audit checkpoint: nothing signed");
  return std::move(*c);
}

}  // namespace facetrail::service
