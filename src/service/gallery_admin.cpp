// Gallery management under accountability (service/gallery_admin.h).
#include "service/gallery_admin.h"

#include "common/sha256.h"
#include "common/text.h"
#include "gallery/gallery_index.h"
#include "service/internal/guard.h"
#include "service/internal/snapshots.h"

namespace facetrail::service {

using internal::AuditRefusal;
using internal::RunRefusable;

std::string_view BookingChangeName(BookingChange change) {
  switch (change) {
    case BookingChange::kSeal: return "seal";
    case BookingChange::kUnseal: return "unseal";
    case BookingChange::kExpunge: return "expunge";
  }
  return "seal";
}

namespace {

gallery::RecordStatus TargetStatus(BookingChange change) {
  switch (change) {
    case BookingChange::kSeal: return gallery::RecordStatus::kSealed;
    case BookingChange::kUnseal: return gallery::RecordStatus::kActive;
    case BookingChange::kExpunge: return gallery::RecordStatus::kExpunged;
  }
  return gallery::RecordStatus::kSealed;
}

// The entry that closes an enrolment run (CSV or prepared photos): "gallery.enroll.failed" with
// the error, or "gallery.enroll" with the summary's counts and the gallery version after it.
// `end` holds what identifies the run. Returns `summary`, or the failure to append.
Expected<gallery::EnrollSummary> AuditEnrollEnd(Context& ctx, const Actor& actor,
                                                const std::string& subject,
                                                gallery::GalleryStore& store, nlohmann::json end,
                                                Expected<gallery::EnrollSummary> summary) {
  if (!summary.ok()) {
    end["error"] = summary.status().ToString();
    FT_RETURN_IF_ERROR(
        ctx.log().AppendInOwnTransaction({actor.name, "gallery.enroll.failed", subject, end}));
    return summary.status();
  }
  FT_ASSIGN_OR_RETURN(int64_t version_after, store.ChangeCounter());
  end["rows"] = summary->rows;
  end["enrolled"] = summary->enrolled;
  end["already_enrolled"] = summary->already_enrolled;
  end["flagged"] = summary->flagged;
  end["rejected"] = summary->rejected;
  end["rejected_by_reason"] = summary->rejected_by_reason;
  end["gallery_version"] = version_after;
  FT_RETURN_IF_ERROR(
      ctx.log().AppendInOwnTransaction({actor.name, "gallery.enroll", subject, end}));
  return summary;
}

}  // namespace

Expected<BookingChangeResult> ChangeBooking(Context& ctx, const Actor& actor,
                                            std::string_view booking_number, BookingChange change,
                                            const std::string& reason,
                                            const gallery::StoreOptions& gallery) {
  const std::string booking(booking_number);
  const std::string subject = "booking:" + booking;
  const std::string action = "gallery." + std::string(BookingChangeName(change));
  if (booking.empty()) return InvalidArgument("a booking number is required");
  if (IsBlank(reason)) {
    return InvalidArgument(std::string(BookingChangeName(change)) +
                           " needs a reason: the order or decision behind it");
  }
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  FT_RETURN_IF_ERROR(ValidateText("booking", booking, kMaxShortTextBytes));
  FT_ASSIGN_OR_RETURN(std::unique_ptr<gallery::GalleryStore> store,
                      gallery::GalleryStore::OpenOn(ctx.db()));
  BookingChangeResult result;
  result.after = TargetStatus(change);
  Status s = RunRefusable(ctx, [&](std::optional<policy::Refusal>& refusal) -> Status {
    FT_ASSIGN_OR_RETURN(auto checked, internal::CheckRole(ctx, actor, policy::Role::kSupervisor));
    if (checked.refusal) {
      refusal = checked.refusal;
      return AuditRefusal(ctx, actor.name, "gallery.refused", subject, *refusal,
                          {{"attempted", action}});
    }
    FT_ASSIGN_OR_RETURN(gallery::BookingRecord record, store->GetBooking(booking));
    result.before = record.status;
    if (record.status == result.after) {
      return FailedPrecondition("booking " + booking + " is already " +
                                std::string(gallery::RecordStatusName(record.status)));
    }
    if (record.status == gallery::RecordStatus::kExpunged) {
      return FailedPrecondition("booking " + booking + " is expunged: it cannot change");
    }
    FT_ASSIGN_OR_RETURN(std::vector<gallery::PhotoInfo> photos, store->ListPhotos(booking));
    nlohmann::json hashes = nlohmann::json::array();
    for (const gallery::PhotoInfo& p : photos) {
      result.templates += p.num_templates;
      hashes.push_back(p.sha256);
    }
    result.photos = static_cast<int64_t>(photos.size());
    FT_RETURN_IF_ERROR(change == BookingChange::kExpunge ? store->Expunge(booking)
                                                         : store->SetStatus(booking, result.after));
    FT_ASSIGN_OR_RETURN(result.gallery_version, store->ChangeCounter());
    nlohmann::json details{{"booking", booking},
                           {"reason", reason},
                           {"before", gallery::RecordStatusName(result.before)},
                           {"after", gallery::RecordStatusName(result.after)},
                           {"photos", result.photos},
                           {"templates", result.templates},
                           {"gallery_id", store->gallery_id()},
                           {"gallery_version", result.gallery_version}};
    if (change == BookingChange::kExpunge) details["photo_sha256"] = hashes;
    return ctx.log().Append({actor.name, action, subject, std::move(details)}).status();
  });
  if (IsRefusal(s)) return s;  // "<code>: <reason>" stays as it is (SplitRefusal)
  if (!s.ok()) return s.WithContext(std::string(BookingChangeName(change)) + " " + booking);
  if (change == BookingChange::kExpunge) {
    // Committed. Move the change out of the WAL (which still holds the old pages) into the main
    // file, where secure_delete has zeroed them (best effort: readers may hold it back), and
    // drop the snapshots, which still hold the templates' numbers.
    (void)ctx.db().CheckpointWal();
    FT_RETURN_IF_ERROR(
        internal::RemoveGallerySnapshots(ctx, gallery).WithContext("expunge " + booking));
  }
  return result;
}

Expected<gallery::EnrollSummary> EnrollBookings(Context& ctx, const Actor& actor,
                                                const gallery::FaceExtractorFactory& make_extractor,
                                                const gallery::EnrollOptions& options) {
  const std::string subject = "manifest:" + options.manifest_path;
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(
      ctx, actor, {policy::Role::kSupervisor, policy::Role::kAdmin}, "gallery.refused", subject));
  FT_ASSIGN_OR_RETURN(std::string manifest_sha256, Sha256FileHex(options.manifest_path));
  FT_ASSIGN_OR_RETURN(std::unique_ptr<gallery::GalleryStore> store,
                      gallery::GalleryStore::OpenOn(ctx.db()));
  FT_ASSIGN_OR_RETURN(int64_t version_before, store->ChangeCounter());
  const nlohmann::json source{{"manifest", options.manifest_path},
                              {"manifest_sha256", manifest_sha256},
                              {"images_dir", options.images_dir},
                              {"allow_photos_outside_images", options.allow_photos_outside_images},
                              {"gallery_id", store->gallery_id()}};
  nlohmann::json start = source;
  start["gallery_version"] = version_before;
  FT_RETURN_IF_ERROR(
      ctx.log().AppendInOwnTransaction({actor.name, "gallery.enroll.start", subject, start}));

  Expected<gallery::EnrollSummary> summary = gallery::Enroll(*store, make_extractor, options);
  return AuditEnrollEnd(ctx, actor, subject, *store, source, std::move(summary));
}

Expected<gallery::EnrollSummary> EnrollPreparedPhotos(
    Context& ctx, const Actor& actor, const gallery::FaceExtractorFactory& make_extractor,
    gallery::PhotoSource& source, const std::vector<std::string>& inputs, std::string_view format,
    const gallery::EnrollOptions& options) {
  const std::string subject = std::string(format) + ":" + source.Name();
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(
      ctx, actor, {policy::Role::kSupervisor, policy::Role::kAdmin}, "gallery.refused", subject));
  nlohmann::json files = nlohmann::json::array();
  for (const std::string& path : inputs) {
    auto sha = Sha256FileHex(path);
    files.push_back({{"path", path}, {"sha256", sha.ok() ? *sha : "unreadable"}});
  }
  FT_ASSIGN_OR_RETURN(std::unique_ptr<gallery::GalleryStore> store,
                      gallery::GalleryStore::OpenOn(ctx.db()));
  FT_ASSIGN_OR_RETURN(int64_t version_before, store->ChangeCounter());
  const nlohmann::json described{
      {"format", format}, {"files", files}, {"gallery_id", store->gallery_id()}};
  nlohmann::json start = described;
  start["gallery_version"] = version_before;
  FT_RETURN_IF_ERROR(
      ctx.log().AppendInOwnTransaction({actor.name, "gallery.enroll.start", subject, start}));
  Expected<gallery::EnrollSummary> summary =
      gallery::EnrollPrepared(*store, make_extractor, source, options);
  return AuditEnrollEnd(ctx, actor, subject, *store,
                        {{"format", format}, {"gallery_id", store->gallery_id()}},
                        std::move(summary));
}

}  // namespace facetrail::service
