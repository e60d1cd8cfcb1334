#include "service/audit_access.h"

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
                                       const audit::SigningKey& key) {
  // The check is audited in its own transaction; CreateCheckpoint writes the checkpoint entry.
  Status s = RunReader(ctx, actor, "audit.checkpoint.request", {{"key_id", key.public_key.KeyId()}},
                       [] { return Status::Ok(); });
  FT_RETURN_IF_ERROR(s);
  return audit::CreateCheckpoint(ctx.log(), key, actor.name);
}

}  // namespace facetrail::service
