// Read-side use cases the HTTP server needs beyond the CLI's: a requester's own requests, the
// gallery look-up of a booking (role-checked and audited), the user list (admin), the role gate
// for probe analysis and audit verification. Like every use case they reload the actor and apply
// policy here, so no rule lives only in server/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gallery/gallery_store.h"
#include "service/context.h"

namespace facetrail::service {

struct RequestSummary {
  int64_t request_id = 0;
  std::string created_at, case_number, purpose, status;
  std::optional<std::string> outcome;
  int num_candidates = 0;
};

// The actor's own search requests, newest first (any unlocked account; kUnauthenticated when the
// user is gone).
Expected<std::vector<RequestSummary>> MyRequests(Context& ctx, const Actor& actor);

struct BookingView {
  gallery::BookingRecord record;
  std::vector<gallery::PhotoInfo> photos;
};
// Examiners (certified) and supervisors may look up a booking; audited "gallery.view", refusals
// "gallery.refused" (kPermissionDenied "<code>: <reason>"). kNotFound for an unknown booking.
Expected<BookingView> LookUpBooking(Context& ctx, const Actor& actor, gallery::GalleryStore& store,
                                    std::string_view booking_number);
// The bytes of one photo of `booking_number`, under the same rule (audited "gallery.photo";
// `rendering`, when given, names what the caller makes of them, e.g. "aligned", and is recorded).
Expected<std::vector<uint8_t>> ReadBookingPhoto(Context& ctx, const Actor& actor,
                                                gallery::GalleryStore& store,
                                                std::string_view booking_number, int64_t photo_id,
                                                std::string_view rendering = {});

// Every user (admin only; refusals audited "admin.refused").
Expected<std::vector<policy::User>> ListUsersForAdmin(Context& ctx, const Actor& actor);

// OK when the actor may analyse a probe before a search (a certified searcher). Refusals are
// audited "search.refused" with code and reason.
Status CheckMayAnalyzeProbe(Context& ctx, const Actor& actor);

// OK for supervisors and auditors (refusals audited "audit.refused").
Status CheckMayReadAudit(Context& ctx, const Actor& actor);

// OK for admins and auditors: the server's /metrics (refusals audited "metrics.refused").
Status CheckMayReadMetrics(Context& ctx, const Actor& actor);

// The actor's account as stored (for "who am I"); kUnauthenticated when gone or locked.
Expected<policy::User> CurrentUser(Context& ctx, const Actor& actor);

}  // namespace facetrail::service
