// The case file of one search request (issue 13 "The case file", issue 16 "Export for court"):
// everything a court, a case-management system or another agency's examiner needs to see how a
// lead was made and reviewed, built by ONE function for every rendering — the JSON of
// GET /api/v1/searches/{id}/case, the printable page of the web application, and the signed
// package of `facetrail review export-case` (service/case_package.h).
//
// WHAT IT HOLDS
//   The lead notice; the request (requester, case, purpose, offence, justification, agency,
//   time, status, outcome); the probe exactly as stored (bytes, SHA-256, the processing steps,
//   a quality override; only the hash and the reason once purged under retention); the
//   candidate-list policy that made the list, the model and the gallery version; every listed
//   candidate with its standing conclusion, and for each examined one (a conclusion other than "not
//   examined") the booking details and the photo the reader's role may see; every examination with
//   its FISWG feature marks, conclusions, notes and viewing settings (first, verification, and
//   those set aside); the supervisor's decision with its reasons; the history; and every audit
//   entry of the request ("request:N"), with their hashes, including the one that records this view
//   or export.
//
// WHO MAY HAVE IT (the readers of a lead, docs/POLICY.md "The case file")
//   The requester, certified examiners, supervisors and auditors; anyone else (and a locked
//   account) is refused whether or not the request exists (audited "case.file.refused"). Only a
//   released lead has a case file (kFailedPrecondition otherwise): before release a second
//   examiner must not see the first's conclusions, and the requester none at all.
//   Booking details by role — never race/ethnicity, which is not even a field here:
//     certified examiner, supervisor, the requester: booking number, name, date of birth, sex,
//       booking date, agency, charge, record status, and the candidate's photo;
//     auditor (checks the process, not the person): booking number, record status, booking
//       date, agency and the photo's SHA-256 — no name, date of birth, sex, charge or photo.
//   A booking that is no longer active (sealed, expunged) shows its number and status only.
//
// AUDIT
//   Each build appends "case.view" or "case.export" (case, probe hash, ranks whose photos were
//   included) in the transaction that read the records; the entry is in the file's own trail.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "gallery/gallery_store.h"
#include "service/context.h"
#include "service/probe_view.h"
#include "service/review.h"

namespace facetrail::service {

enum class CaseFileUse { kView, kExport };  // audited "case.view" / "case.export"

// What a reader's role may see of a candidate's booking (above).
enum class BookingDetail { kFull, kRestricted };

struct CaseBooking {
  std::string booking_number;
  std::string status;  // "active", "sealed", "expunged"
  std::optional<std::string> name, dob, sex, booking_date, agency, charge;
};

struct CasePhoto {
  int64_t id = 0;
  std::string sha256;
  std::string content_type;
  int64_t size_bytes = 0;
  std::vector<uint8_t> bytes;  // empty for a restricted reader
  // The photo's origin as stored (gallery::PhotoInfo::origin, JSON text: an ANSI/NIST-ITL
  // import's Type-10 attributes and unmapped Type-2 fields) and whether it is searched; the
  // origin is empty for a restricted reader (the raw fields may name the person).
  std::string origin;
  bool searchable = true;
};

struct CaseCandidate {
  Candidate candidate;
  std::string conclusion{kNotExamined};  // the standing one
  std::string notes;
  std::optional<CaseBooking> booking;  // examined candidates only
  std::optional<CasePhoto> photo;      // examined candidates only
};

struct CaseDecision {
  std::string supervisor, created_at, decision, notes;
};

struct CaseFile {
  std::string notice{kLeadNotice};
  int64_t request_id = 0;
  std::string generated_at, generated_by;
  CaseFileUse use = CaseFileUse::kView;
  BookingDetail booking_detail = BookingDetail::kRestricted;
  std::string requester, case_number, purpose, offense, justification, agency, created_at;
  std::string status;
  std::optional<std::string> outcome, outcome_note;
  ProbeView probe;                          // bytes empty when purged
  std::optional<std::string> probe_purged;  // why the bytes are gone (retention), if they are
  CandidateList policy;  // model, gallery version, threshold and its source, list length
  std::vector<CaseCandidate> candidates;
  std::vector<ExaminationRecord> examinations;  // oldest first
  std::optional<CaseDecision> decision;
  std::vector<HistoryEvent> history;
  std::vector<audit::Entry> audit_trail;  // seq order
};

// The case file of `request_id` as described above. `gallery` is the gallery the request
// searched (read only).
Expected<CaseFile> BuildCaseFile(Context& ctx, const Actor& actor, gallery::GalleryStore& gallery,
                                 int64_t request_id, CaseFileUse use);

// The case file as JSON: {"format": "facetrail-case-file-v1", "notice", "request_id",
// "generated_at", "generated_by", "use", "booking_detail", "request": {...}, "probe": {sha256,
// content_type, format, size_bytes, steps, quality_override}, "policy": {...}, "candidates":
// [{rank, booking_number, score, conclusion, notes, booking, photo: {id, sha256, content_type,
// size_bytes, included, searchable, origin (object or null)}}], "examinations": [{id, stage,
// examiner, created_at, superseded, candidates (ExaminationJson)}], "decision", "history",
// "audit_trail": [{seq, time, actor, action, subject, details, prev_hash, hash}]}. With
// `inline_images` the probe and each photo carry "data_base64" (the API); without, only their
// hashes (the package names the files).
nlohmann::json CaseFileJson(const CaseFile& file, bool inline_images);

std::string_view CaseFileUseName(CaseFileUse use);  // "view", "export"

// A file name extension for image bytes by their magic numbers: "jpg", "png", "webp", "gif",
// "bmp", "tif", or "bin".
std::string ImageExtension(std::span<const uint8_t> bytes);

}  // namespace facetrail::service
