#include "service/server_queries.h"

#include "service/internal/guard.h"

namespace facetrail::service {

using internal::CheckAnyRole;

Expected<policy::User> CurrentUser(Context& ctx, const Actor& actor) {
  auto user = ctx.store().GetUser(actor.user_id);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kNotFound) {
      return Unauthenticated("unauthenticated: user '" + actor.name + "' no longer exists");
    }
    return user.status();
  }
  if (user->locked) return Unauthenticated("unauthenticated: the account is locked");
  return user;
}

Expected<std::vector<RequestSummary>> MyRequests(Context& ctx, const Actor& actor) {
  FT_RETURN_IF_ERROR(CurrentUser(ctx, actor).status());
  FT_ASSIGN_OR_RETURN(
      Stmt stmt,
      ctx.db().Prepare("SELECT r.id, r.created_at, r.case_number, r.purpose, r.status, r.outcome,"
                       " (SELECT count(*) FROM request_candidates c WHERE c.request_id = r.id)"
                       " FROM search_requests r WHERE r.user_id = ? ORDER BY r.id DESC"));
  stmt.Bind(1, actor.user_id);
  std::vector<RequestSummary> out;
  while (true) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Text(4),
                   stmt.OptText(5), static_cast<int>(stmt.Int(6))});
  }
  return out;
}

Expected<BookingView> LookUpBooking(Context& ctx, const Actor& actor, gallery::GalleryStore& store,
                                    std::string_view booking_number) {
  std::string subject = "booking:" + std::string(booking_number);
  FT_RETURN_IF_ERROR(CheckAnyRole(ctx, actor, {policy::Role::kExaminer, policy::Role::kSupervisor},
                                  "gallery.refused", subject));
  BookingView view;
  FT_ASSIGN_OR_RETURN(view.record, store.GetBooking(booking_number));
  FT_ASSIGN_OR_RETURN(view.photos, store.ListPhotos(booking_number));
  FT_RETURN_IF_ERROR(ctx.log().AppendInOwnTransaction(
      {actor.name, "gallery.view", subject, {{"photos", view.photos.size()}}}));
  return view;
}

Expected<std::vector<uint8_t>> ReadBookingPhoto(Context& ctx, const Actor& actor,
                                                gallery::GalleryStore& store,
                                                std::string_view booking_number, int64_t photo_id,
                                                std::string_view rendering) {
  std::string subject = "booking:" + std::string(booking_number);
  FT_RETURN_IF_ERROR(CheckAnyRole(ctx, actor, {policy::Role::kExaminer, policy::Role::kSupervisor},
                                  "gallery.refused", subject));
  FT_ASSIGN_OR_RETURN(std::vector<gallery::PhotoInfo> photos, store.ListPhotos(booking_number));
  bool found = false;
  for (const auto& p : photos) found = found || p.id == photo_id;
  if (!found) {
    return NotFound("photo " + std::to_string(photo_id) + " of booking " +
                    std::string(booking_number));
  }
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, store.ReadPhoto(photo_id));
  nlohmann::json details{{"photo_id", photo_id}};
  if (!rendering.empty()) details["rendering"] = std::string(rendering);
  FT_RETURN_IF_ERROR(
      ctx.log().AppendInOwnTransaction({actor.name, "gallery.photo", subject, std::move(details)}));
  return bytes;
}

Expected<std::vector<policy::User>> ListUsersForAdmin(Context& ctx, const Actor& actor) {
  FT_RETURN_IF_ERROR(CheckAnyRole(ctx, actor, {policy::Role::kAdmin}, "admin.refused", "users"));
  return ctx.store().ListUsers();
}

Status CheckMayAnalyzeProbe(Context& ctx, const Actor& actor) {
  return CheckAnyRole(ctx, actor, {policy::Role::kSearcher}, "search.refused", "probe");
}

Status CheckMayReadAudit(Context& ctx, const Actor& actor) {
  return CheckAnyRole(ctx, actor, {policy::Role::kAuditor, policy::Role::kSupervisor},
                      "audit.refused", "audit");
}

Status CheckMayReadMetrics(Context& ctx, const Actor& actor) {
  return CheckAnyRole(ctx, actor, {policy::Role::kAdmin, policy::Role::kAuditor}, "metrics.refused",
                      "metrics");
}

}  // namespace facetrail::service
