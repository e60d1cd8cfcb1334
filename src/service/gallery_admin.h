// Gallery management under accountability: sealing, unsealing and expunging booking records,
// and enrolling booking photos. Like every other action these are role-checked and audited; the
// CLI refuses them without a signed-in user once a database is under accountability.
//
// ONE TRANSACTION
//   A seal, unseal or expunge and its audit entry commit together, or neither does: the gallery
//   is opened on the Context's own connection (gallery::GalleryStore::OpenOn), so the store's
//   transaction joins the one opened here. The gallery therefore lives in the same database as
//   the accountability tables — the deployed layout, one SQLite file.
//
// ENROLMENT
//   An import of thousands of photos commits one photo at a time (resumable; gallery/enroll.h),
//   so it is not one transaction. It is audited by a "gallery.enroll.start" entry, committed
//   before the first photo, that names the manifest and its SHA-256, and by a "gallery.enroll"
//   entry with the outcome counts (or "gallery.enroll.failed" with the error). Every stored
//   photo keeps its manifest line as its source, so the hash in the log identifies exactly what
//   was imported. A run killed midway leaves a start entry without an end; running the import
//   again completes it and writes its own pair of entries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gallery/enroll.h"
#include "gallery/gallery_store.h"
#include "service/context.h"

namespace facetrail::service {

enum class BookingChange { kSeal, kUnseal, kExpunge };
std::string_view BookingChangeName(BookingChange change);  // "seal", "unseal", "expunge"

struct BookingChangeResult {
  gallery::RecordStatus before = gallery::RecordStatus::kActive;
  gallery::RecordStatus after = gallery::RecordStatus::kActive;
  int64_t photos = 0;           // photos of the booking before the change
  int64_t templates = 0;        // templates that left (seal, expunge) or rejoined (unseal) search
  int64_t gallery_version = 0;  // the gallery's change counter after the change
};

// Seals (the booking's templates leave every search at once), unseals or expunges (photos and
// templates deleted, photo hashes kept so they can never be enrolled again) one booking.
// Supervisors only. `reason` is required: the order or decision behind the change.
// Audited "gallery.seal" / "gallery.unseal" / "gallery.expunge" (booking, reason, status before
// and after, photo and template counts, gallery version; for an expunge the photo hashes) in the
// change's transaction; refusals "gallery.refused".
// Errors: kInvalidArgument (no reason), kNotFound (unknown booking), kFailedPrecondition (the
// booking is already in that state, or is expunged), kPermissionDenied "<code>: <reason>".
// After an expunge the gallery's search snapshots are deleted (they still hold the templates'
// numbers; the next search rebuilds them) from this machine's snapshot folder
// (`gallery.snapshot_dir`, a front end's `--snapshot-dir`: pass it, or the expunged templates
// stay on disk there) and from beside a SQLite file. Other servers' folders are rewritten by
// those servers at their next refresh (docs/DATABASE.md).
Expected<BookingChangeResult> ChangeBooking(Context& ctx, const Actor& actor,
                                            std::string_view booking_number, BookingChange change,
                                            const std::string& reason,
                                            const gallery::StoreOptions& gallery = {});

// Runs gallery::Enroll into the gallery in ctx's database for a supervisor or an admin (admins
// run imports; they still cannot search). Audited as described above; a refusal is audited
// "gallery.refused" and nothing is read. Errors are gallery::Enroll's.
Expected<gallery::EnrollSummary> EnrollBookings(Context& ctx, const Actor& actor,
                                                const gallery::FaceExtractorFactory& make_extractor,
                                                const gallery::EnrollOptions& options);

// Runs gallery::EnrollPrepared (an import that is not a CSV manifest: `format` names it, e.g.
// "ansi-nist") for a supervisor or an admin, audited as EnrollBookings is: the same actions,
// subject "<format>:<source name>", and the input files (`inputs`) each with its SHA-256.
Expected<gallery::EnrollSummary> EnrollPreparedPhotos(
    Context& ctx, const Actor& actor, const gallery::FaceExtractorFactory& make_extractor,
    gallery::PhotoSource& source, const std::vector<std::string>& inputs, std::string_view format,
    const gallery::EnrollOptions& options);

}  // namespace facetrail::service
