#include "service/audit_access.h"

#include <algorithm>

#include "service/internal/guard.h"

namespace facetrail::service {

namespace {

// `fn` runs when the actor holds role `a` or `b`; the check and its audit entry share a
// transaction. A refusal is audited as audit.refused naming the attempted action.
Status RunAsEither(Context& ctx, const Actor& actor, policy::Role a, policy::Role b,
                   const std::string& action, const nlohmann::json& details,
                   const std::function<Status()>& fn) {
  return internal::RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto first, internal::CheckRole(ctx, actor, a));
    FT_ASSIGN_OR_RETURN(auto second, internal::CheckRole(ctx, actor, b));
    if (first.refusal && second.refusal) {
      refusal =
          first.refusal->code == policy::RefusalCode::kWrongRole ? second.refusal : first.refusal;
      if (refusal->code == policy::RefusalCode::kWrongRole) {
        refusal->reason = actor.name + " is neither " + std::string(policy::RoleName(a)) + " nor " +
                          std::string(policy::RoleName(b));
      }
      nlohmann::json d = details;
      d["attempted"] = action;
      return internal::AuditRefusal(ctx, actor.name, "audit.refused", "audit", *refusal, d);
    }
    FT_RETURN_IF_ERROR(fn());
    return ctx.log().Append({actor.name, action, "audit", details}).status();
  });
}

// Supervisors and auditors read the log.
Status RunReader(Context& ctx, const Actor& actor, const std::string& action,
                 const nlohmann::json& details, const std::function<Status()>& fn) {
  return RunAsEither(ctx, actor, policy::Role::kAuditor, policy::Role::kSupervisor, action, details,
                     fn);
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
  // Signing a checkpoint writes to the log: supervisors and admins, never auditors, whose role
  // is read-only (docs/POLICY.md, issue 17). The check is audited in its own transaction;
  // CreateCheckpoint writes the checkpoint entry.
  Status s = RunAsEither(ctx, actor, policy::Role::kSupervisor, policy::Role::kAdmin,
                         "audit.checkpoint.request", {{"key_id", id}}, [] { return Status::Ok(); });
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
