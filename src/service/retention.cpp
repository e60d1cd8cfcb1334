// Probe retention (service/retention.h).
#include "service/retention.h"

#include "common/text.h"
#include "service/internal/guard.h"

namespace facetrail::service {

using internal::AuditRefusal;
using internal::RunRefusable;

Status SetCaseHold(Context& ctx, const Actor& supervisor, const std::string& case_number, bool hold,
                   const std::string& reason) {
  if (IsBlank(case_number)) return InvalidArgument("a hold needs a case number");
  FT_RETURN_IF_ERROR(ValidateText("case", case_number, kMaxShortTextBytes, {}));
  if (IsBlank(reason)) return InvalidArgument("a hold change needs a reason");
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  const std::string subject = "case:" + case_number;
  const std::string action = hold ? "case.hold" : "case.unhold";
  return RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked,
                        internal::CheckRole(ctx, supervisor, policy::Role::kSupervisor));
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, supervisor.name, "case.refused", subject, *refusal,
                          {{"attempted", action}});
    }
    if (hold) {
      FT_ASSIGN_OR_RETURN(auto known, ctx.db().Prepare("SELECT EXISTS (SELECT 1 FROM "
                                                       "search_requests WHERE case_number = ?)"));
      known.Bind(1, case_number);
      FT_RETURN_IF_ERROR(known.Step().status());
      if (known.Int(0) == 0) {
        return NotFound("no search request names case " + case_number + ": check the case number");
      }
    }
    FT_ASSIGN_OR_RETURN(auto stmt,
                        hold ? ctx.db().Prepare("INSERT INTO case_holds(case_number, set_by, "
                                                "set_at, reason) VALUES (?, ?, ?, ?) ON "
                                                "CONFLICT(case_number) DO NOTHING")
                             : ctx.db().Prepare("DELETE FROM case_holds WHERE case_number = ?"));
    stmt.Bind(1, case_number);
    if (hold) stmt.Bind(2, supervisor.name).Bind(3, ctx.NowText()).Bind(4, reason);
    FT_RETURN_IF_ERROR(stmt.Run());
    if (ctx.db().Changes() == 0) {
      return FailedPrecondition("case " + case_number + (hold ? " is already" : " is not") +
                                " on hold");
    }
    return ctx.log()
        .Append({supervisor.name, action, subject, {{"case", case_number}, {"reason", reason}}})
        .status();
  });
}

Expected<std::vector<CaseHold>> ListCaseHolds(Context& ctx, const Actor& actor) {
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(ctx, actor,
                                            {policy::Role::kSupervisor, policy::Role::kAuditor},
                                            "case.refused", "case_holds"));
  FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("SELECT h.case_number, h.set_by, h.set_at, "
                                                  "h.reason, (SELECT count(*) FROM "
                                                  "search_requests r WHERE r.case_number = "
                                                  "h.case_number) FROM case_holds h ORDER BY "
                                                  "h.case_number"));
  std::vector<CaseHold> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Int(4)});
  }
  return out;
}

Expected<PurgeResult> PurgeProbes(Context& ctx, const Actor& actor) {
  PurgeResult result;
  Status s = RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    result = PurgeResult();
    FT_ASSIGN_OR_RETURN(auto sup, internal::CheckRole(ctx, actor, policy::Role::kSupervisor));
    FT_ASSIGN_OR_RETURN(auto adm, internal::CheckRole(ctx, actor, policy::Role::kAdmin));
    if (sup.refusal && adm.refusal) {
      refusal = sup.refusal;
      return AuditRefusal(ctx, actor.name, "probe.purge.refused", "probes", *refusal);
    }
    FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, ctx.store().LoadConfig());
    std::string cutoff = audit::FormatUtc(ctx.Now() - int64_t{config.probe_retention_days} * 86400);
    // Probes still holding bytes whose newest request is older than the cutoff.
    FT_ASSIGN_OR_RETURN(auto stmt,
                        ctx.db().Prepare("SELECT p.sha256, EXISTS (SELECT 1 FROM search_requests r "
                                         "JOIN case_holds h ON h.case_number = r.case_number WHERE "
                                         "r.probe_sha256 = p.sha256) FROM probes p WHERE p.bytes "
                                         "IS NOT NULL AND (SELECT max(created_at) FROM "
                                         "search_requests r WHERE r.probe_sha256 = p.sha256) < ? "
                                         "ORDER BY p.sha256"));
    stmt.Bind(1, cutoff);
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      if (stmt.Int(1) != 0) {
        ++result.kept_on_hold;
      } else {
        result.purged_sha256.push_back(stmt.Text(0));
      }
    }
    for (const std::string& sha : result.purged_sha256) {
      FT_ASSIGN_OR_RETURN(auto purge, ctx.db().Prepare("UPDATE probes SET bytes = NULL, "
                                                       "purged_at = ? WHERE sha256 = ?"));
      purge.Bind(1, ctx.NowText()).Bind(2, sha);
      FT_RETURN_IF_ERROR(purge.Run());
    }
    return ctx.log()
        .Append({actor.name,
                 "probe.purge",
                 "probes",
                 {{"purged_sha256", result.purged_sha256},
                  {"kept_on_hold", result.kept_on_hold},
                  {"retention_days", config.probe_retention_days},
                  {"cutoff", cutoff}}})
        .status();
  });
  FT_RETURN_IF_ERROR(s);
  return result;
}

}  // namespace facetrail::service
