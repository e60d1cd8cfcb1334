// ViewProbe (service/probe_view.h).
#include "service/probe_view.h"

#include <cstring>

#include "service/internal/guard.h"
#include "service/internal/lead_record.h"
#include "service/search_response_json.h"

namespace facetrail::service {

namespace {

using internal::AuditRefusal;
using internal::RunRefusable;
using policy::Refusal;
using policy::RefusalCode;

bool StartsWith(std::span<const uint8_t> b, size_t offset, std::string_view magic) {
  return b.size() >= offset + magic.size() &&
         std::memcmp(b.data() + offset, magic.data(), magic.size()) == 0;
}

struct ProbeRow {
  int64_t user_id = 0;
  std::string case_number;
  std::string sha256;
  std::optional<int64_t> override_id;
};

Expected<std::optional<ProbeRow>> LoadProbeRow(Context& ctx, int64_t request_id) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT user_id, case_number, probe_sha256, "
                                       "quality_override_id FROM search_requests WHERE id = ?"));
  stmt.Bind(1, request_id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ProbeRow>();
  ProbeRow out{stmt.Int(0), stmt.Text(1), stmt.Text(2), std::nullopt};
  if (!stmt.IsNull(3)) out.override_id = stmt.Int(3);
  return std::optional<ProbeRow>(std::move(out));
}

// True when the user may see any request's probe: a valid examiner, a supervisor, an auditor.
bool MaySeeAnyProbe(const policy::User& user, std::string_view today) {
  for (policy::Role role :
       {policy::Role::kExaminer, policy::Role::kSupervisor, policy::Role::kAuditor}) {
    if (!policy::CheckActor(user, role, today)) return true;
  }
  return false;
}

Status ReadSteps(Context& ctx, int64_t request_id, std::vector<ProcessingStep>& steps) {
  FT_ASSIGN_OR_RETURN(auto stmt,
                      ctx.db().Prepare("SELECT kind, params, why, enhancement FROM probe_steps "
                                       "WHERE request_id = ? ORDER BY step"));
  stmt.Bind(1, request_id);
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    steps.push_back({stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Int(3) != 0});
  }
  return Status::Ok();
}

Expected<ProbeOverrideInfo> ReadOverride(Context& ctx, int64_t id) {
  FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("SELECT supervisor_name, reason, created_at "
                                                  "FROM quality_overrides WHERE id = ?"));
  stmt.Bind(1, id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Internal("quality override " + std::to_string(id) + " is missing");
  return ProbeOverrideInfo{id, stmt.Text(0), stmt.Text(1), stmt.Text(2)};
}

}  // namespace

std::string ProbeContentType(std::span<const uint8_t> b) {
  if (StartsWith(b, 0, "\xFF\xD8\xFF")) return "image/jpeg";
  if (StartsWith(b, 0, "\x89PNG\r\n\x1A\n")) return "image/png";
  if (StartsWith(b, 0, "RIFF") && StartsWith(b, 8, "WEBP")) return "image/webp";
  if (StartsWith(b, 0, "GIF87a") || StartsWith(b, 0, "GIF89a")) return "image/gif";
  if (StartsWith(b, 0, "BM")) return "image/bmp";
  if (StartsWith(b, 0, std::string_view("II*\0", 4)) ||
      StartsWith(b, 0, std::string_view("MM\0*", 4))) {
    return "image/tiff";
  }
  return "application/octet-stream";
}

Expected<ProbeView> ViewProbe(Context& ctx, const Actor& actor, int64_t request_id,
                              std::string_view rendering) {
  ProbeView view;
  const std::string subject = "request:" + std::to_string(request_id);
  Status s = RunRefusable(ctx, [&](std::optional<Refusal>& refusal) -> Status {
    auto user = ctx.store().GetUser(actor.user_id);
    if (!user.ok()) {
      if (user.status().code() == StatusCode::kNotFound) {
        return Unauthenticated("unauthenticated: user '" + actor.name + "' no longer exists");
      }
      return user.status();
    }
    // Who may look is decided before anything about the request is revealed.
    FT_ASSIGN_OR_RETURN(std::optional<ProbeRow> req, LoadProbeRow(ctx, request_id));
    const bool privileged = !user->locked && MaySeeAnyProbe(*user, ctx.Today());
    if (user->locked) {
      refusal = Refusal{RefusalCode::kAccountLocked, "the account of " + user->name + " is locked"};
    } else if (!privileged && (!req || req->user_id != user->id)) {
      refusal = Refusal{RefusalCode::kWrongRole,
                        "only the requester, certified examiners, supervisors and auditors may "
                        "see a request's probe"};
    }
    if (refusal) {
      return AuditRefusal(ctx, actor.name, "probe.refused", subject, *refusal, {{"step", "view"}});
    }
    if (!req) return NotFound("no search request " + std::to_string(request_id));
    FT_ASSIGN_OR_RETURN(view, internal::ReadProbeRecord(ctx, request_id));
    nlohmann::json details{
        {"case", req->case_number}, {"probe_sha256", req->sha256}, {"bytes", view.bytes.size()}};
    if (!rendering.empty()) details["rendering"] = std::string(rendering);
    return ctx.log().Append({actor.name, "probe.view", subject, std::move(details)}).status();
  });
  FT_RETURN_IF_ERROR(s);
  return view;
}

}  // namespace facetrail::service

namespace facetrail::service::internal {

Status ReadProbeProcessing(Context& ctx, int64_t request_id, ProbeView& view) {
  view.steps.clear();
  FT_RETURN_IF_ERROR(ReadSteps(ctx, request_id, view.steps));
  FT_ASSIGN_OR_RETURN(auto stmt, ctx.db().Prepare("SELECT expected_fnir FROM search_requests "
                                                  "WHERE id = ?"));
  stmt.Bind(1, request_id);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no search request " + std::to_string(request_id));
  FT_ASSIGN_OR_RETURN(view.expected_fnir, ParseProbeExpectation(stmt.OptText(0)));
  return Status::Ok();
}

Expected<ProbeView> ReadProbeRecord(Context& ctx, int64_t request_id) {
  FT_ASSIGN_OR_RETURN(std::optional<ProbeRow> req, LoadProbeRow(ctx, request_id));
  if (!req) return NotFound("no search request " + std::to_string(request_id));
  FT_ASSIGN_OR_RETURN(auto probe, ctx.db().Prepare("SELECT bytes, format, purged_at FROM "
                                                   "probes WHERE sha256 = ?"));
  probe.Bind(1, req->sha256);
  FT_ASSIGN_OR_RETURN(bool row, probe.Step());
  if (!row) return Internal("the probe of request " + std::to_string(request_id) + " is missing");
  if (probe.IsNull(0)) {
    return FailedPrecondition("the probe of request " + std::to_string(request_id) +
                              " was purged (retention) at " + probe.OptText(2).value_or("?"));
  }
  ProbeView view;
  view.request_id = request_id;
  view.case_number = req->case_number;
  view.sha256 = req->sha256;
  view.bytes = probe.Blob(0);
  view.format = probe.Text(1);
  view.content_type = ProbeContentType(view.bytes);
  FT_RETURN_IF_ERROR(ReadProbeProcessing(ctx, request_id, view));
  if (req->override_id) {
    FT_ASSIGN_OR_RETURN(ProbeOverrideInfo o, ReadOverride(ctx, *req->override_id));
    view.quality_override = std::move(o);
  }
  return view;
}

}  // namespace facetrail::service::internal
