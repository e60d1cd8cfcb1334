// The accountable search request: policy checks, probe checks, the 1:N search, and the audit
// entry that records it — the only way a face search is made for a case.
//
// WHAT HAPPENS (RequestSearch)
//   1. The request fields are checked (policy::CheckSearchRequest: account, searcher role,
//      valid certificate, case number format, purpose on the list, offence, justification,
//      home agency). The probe must not be a video or a stream (magic bytes, ProbeLooksLikeVideo).
//   2. The probe is analysed (ProbeAnalyzer): one face is chosen (the one with the largest eye
//      distance) and must pass the quality gate unless a supervisor approved an override for
//      this probe (SHA-256) and case (ApproveQualityOverride).
//   3. The candidate source searches; then, in ONE transaction, the request is re-checked
//      (a certificate revoked meanwhile still stops it), the probe is stored unaltered with its
//      SHA-256 (never enrolled into the gallery), the processing steps are recorded, the
//      candidate list is stored and the "search.request" audit entry is appended.
//   Every refusal is appended as "search.refused" (code, reason, fields, probe hash) and
//   committed before the PermissionDenied status is returned.
//
// CANDIDATE LISTS ARE LEADS
//   Every list carries kLeadNotice in its data; front ends print it with every rendering.
//   Nothing here or anywhere in facetrail marks a candidate as identified: no such flag exists
//   (tests/service/no_identified_flag_test.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "service/context.h"
#include "vision/face_pipeline.h"

namespace facetrail::service {

inline constexpr std::string_view kLeadNotice =
    "Investigative lead only \u2014 not a positive identification. Human review required.";

// ---- What the use case needs from vision and search (narrow, so tests use real small ones) --

struct ProbeFace {
  vision::Box box;
  vision::FaceQuality quality;
  std::vector<float> templ;  // model.dim floats, unit norm
  // The 68 landmarks in the upright (EXIF-rotated) image's pixels, or empty when the analyzer
  // has none; recorded with the face chosen (probe steps) for the examiner's side-by-side view.
  std::vector<vision::Point> landmarks;
};

// One processing step applied to the probe (or to a working copy of it: the stored probe is
// always the file as received), recorded with the request and shown with the probe wherever it
// is shown (docs/POLICY.md, "What was done to the probe"): its name, its parameters, and why.
struct ProcessingStep {
  // "decode", "exif_rotate", "detect", "landmarks", "select_face", "align", "template", or an
  // enhancement's name (e.g. "unsharp_mask").
  std::string kind;
  std::string params;  // JSON object text
  // Why it was applied, in words; empty for steps recorded before version 4 of the requests
  // schema (shown as "not recorded").
  std::string why;
  // True for an enhancement: a step that changes the pixels the network or an examiner sees
  // beyond geometry and resampling (upsampling for detail, sharpening, deblurring). Never a
  // generative method that invents facial detail (docs/POLICY.md).
  bool enhancement = false;
};

// What the model's calibration expects of a search with this probe: the FNIR measured on the
// degradation ladder in the probe's quality bin (vision::ExpectedFnirTable: since session 10 the
// worst rung's FNIR in the bin, not the bin's average), at the calibrated candidate threshold.
// Stored with the request; shown to the searcher and the examiners.
struct ProbeExpectation {
  std::string model;  // the model's name
  // The expected FNIR (share of searches whose mate would not be listed first at or above
  // `threshold`); nullopt when the calibration states none (`note` says why).
  std::optional<double> fnir;
  std::string note;
  int64_t searches_measured = 0;  // mated searches measured in the bin
  // The bin (hi = +inf for the last one) and the probe's figures it was looked up with.
  double eye_lo = 0, eye_hi = 0, detail_lo = 0, detail_hi = 0;
  double effective_eye_distance_px = 0, detail = 0;
  double threshold = 0;  // the calibrated candidate threshold the FNIR is read at
  std::string source;    // the calibration's data and protocol
};

struct ProbeAnalysis {
  std::string format;  // "jpeg", "png", ...
  int width = 0, height = 0;
  int exif_orientation = 1;  // 1 = none; otherwise the image was rotated upright (a step)
  std::vector<ProbeFace> faces;
  vision::TemplateModel model;
  // The quality limits the model's calibration states (policy::ResolveQualityGate).
  policy::ModelQualityLimits model_limits;
  // The lowest candidate score the model's calibration states (models/*.model.json
  // "candidate"), if it has one: the candidate-list threshold unless the department set its own.
  std::optional<float> calibrated_candidate_threshold;
  // The calibration's expected FNIR per quality bin, if it has one (vision::Calibration).
  std::optional<vision::ExpectedFnirTable> expected_fnir;
  // What the analysis did to a working copy of the probe between decoding (and EXIF rotation)
  // and the chosen face's template, in order, truthfully: detection, landmarks, alignment, and
  // any enhancement. Recorded with the request between "exif_rotate" and "select_face".
  std::vector<ProcessingStep> steps;
};

class ProbeAnalyzer {
 public:
  virtual ~ProbeAnalyzer() = default;
  // Decodes and analyses the probe. kInvalidArgument/kResourceExhausted for undecodable or
  // oversized images (refused as probe_unreadable).
  virtual Expected<ProbeAnalysis> Analyze(std::span<const uint8_t> bytes) = 0;
};

// The real analyzer: vision::DecodeImage + the pipeline. requires: pipeline outlives it.
std::unique_ptr<ProbeAnalyzer> MakeVisionProbeAnalyzer(vision::FacePipeline& pipeline);

struct Candidate {
  int rank = 0;  // 1-based
  std::string booking_number;
  int64_t template_id = 0;
  int64_t photo_id = 0;
  float score = 0;  // cosine similarity, higher is more alike
};

struct CandidateList {
  std::vector<Candidate> candidates;  // rank order
  vision::TemplateModel model;
  std::string gallery_version;  // identifies the gallery state searched (id + change counter)
  float threshold = 0;          // candidates below it are not listed
  // The candidate-list policy that made the list (set by RequestSearch, recorded with it):
  // "department" (policy::PolicyConfig::candidate_threshold) or "model calibration".
  std::string threshold_source;
  int max_list_length = 0;  // the department's list length (policy::PolicyConfig::max_top_k)
};

class CandidateSource {
 public:
  virtual ~CandidateSource() = default;
  // The best top_k gallery candidates for `templ` (model.dim floats) scoring at least
  // min_score (fewer, or none, when fewer pass). Must refuse a model other than its own
  // (kFailedPrecondition).
  virtual Expected<CandidateList> Search(std::span<const float> templ,
                                         const vision::TemplateModel& model, int top_k,
                                         float min_score) = 0;
};

// ---- The use case ----

enum class ProbeOrigin { kFile, kStream };

struct SearchRequest {
  policy::SearchRequestFields fields;
  std::vector<uint8_t> probe_bytes;  // the file exactly as received
  std::string probe_name;            // for messages only
  ProbeOrigin origin = ProbeOrigin::kFile;
  // At most this many candidates, 1..policy max_top_k; unset: the policy's list length. The
  // score threshold is never the requester's: it is the department's candidate-list policy.
  std::optional<int> top_k;
  // Which face of the probe: -1 = the one with the largest eye distance; N = the N-th face in
  // the pipeline's order (0-based). An index out of range is kInvalidArgument.
  int face = -1;
  // Not OK when the probe file could not be read (no such file, no permission): the request is
  // checked like any other (a refusal still wins), then the attempt is audited as
  // search.refused with code probe_unreadable and this status returned (issue 17).
  Status probe_error = Status::Ok();
};

struct SearchResponse {
  int64_t request_id = 0;
  std::string notice{kLeadNotice};
  std::string probe_sha256;
  std::string case_number;
  std::string created_at;
  CandidateList list;
  std::vector<ProcessingStep> steps;
  // With the model's expected-FNIR table: what it says of this probe (ProbeExpectation).
  std::optional<ProbeExpectation> expected_fnir;
  bool quality_override_used = false;
  std::string status = "pending_review";
};

// The search request as described above. Refusals: kPermissionDenied "<code>: <reason>"
// (audited). kInvalidArgument for top_k outside 1..max_top_k or an empty probe (not audited:
// nothing was attempted). kFailedPrecondition when neither the department's policy nor the
// model's calibration gives a candidate threshold. Other errors roll back and record nothing.
Expected<SearchResponse> RequestSearch(Context& ctx, const Actor& actor,
                                       const SearchRequest& request, ProbeAnalyzer& analyzer,
                                       CandidateSource& source);

// A supervisor (not the requester-to-be) approves searching with `probe_sha256` for `case`
// despite the quality gate, with a reason. Used by at most one request. Audited
// "quality.override". Returns the override id.
Expected<int64_t> ApproveQualityOverride(Context& ctx, const Actor& supervisor,
                                         std::string_view probe_sha256,
                                         std::string_view case_number, std::string_view reason);

struct QualityOverride {
  int64_t id = 0;
  std::string probe_sha256, case_number;
  std::string supervisor;  // who approved it
  std::string reason;
  std::string created_at;                  // UTC, audit::FormatUtc
  std::optional<int64_t> used_by_request;  // the one request that used it, once used
};

// Every quality override, newest first. Supervisors and auditors; refusals are audited
// "quality.override.refused" (kPermissionDenied "<code>: <reason>").
Expected<std::vector<QualityOverride>> ListQualityOverrides(Context& ctx, const Actor& actor);

// Container formats that hold moving pictures (MP4/MOV/3GP ftyp, AVI, Matroska/WebM, FLV,
// ASF/WMV, MPEG-PS/ES, MPEG-TS, Ogg, RealMedia, animated GIF/PNG/WebP). Returns the format's
// name ("mp4", "animated gif", ...) or "" for anything else.
std::string ProbeLooksLikeVideo(std::span<const uint8_t> bytes);

}  // namespace facetrail::service
