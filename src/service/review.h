// Review of leads: a recorded morphological examination of every candidate by one examiner,
// verified blind by a second (ACE-V), a supervisor's decision when they disagree, then release
// to the requester and the outcome.
//
// THE FLOW (docs/POLICY.md, "Review of leads")
//   pending_review --Examine--> examined --Verify (same conclusions)--> released --RecordOutcome
//                                    \--Verify (any conclusion differs)--> disputed
//   disputed --Resolve(adopt_first | adopt_second)--> released
//   disputed --Resolve(reexamine)--> pending_review (both examinations superseded; neither of
//                                    their examiners may examine it again)
//   Examine: a certified examiner who is not the requester records, per candidate, the FISWG
//     facial components (similar / dissimilar / not visible; a component not marked was not
//     examined) with optional notes, a conclusion on the department's scale
//     (policy::PolicyConfig::conclusion_scale) or "not examined", and the viewing settings used.
//   Verify: a second certified examiner, neither the requester nor the first examiner, records
//     an examination of the same shape without having seen the first's conclusions: GetLead
//     withholds them from every examiner but the first while the request is "examined".
//   Resolve: a supervisor, neither the requester nor one of the two examiners, with notes.
//   RecordOutcome: only the requester, only on a released lead.
//   Every step and every refusal ("review.refused", "lead.refused") is audited in the step's
//   transaction. Refusals are kPermissionDenied "<code>: <reason>"; a step in the wrong state is
//   kFailedPrecondition; a malformed examination is kInvalidArgument naming the field.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "service/context.h"
#include "service/search_request.h"

namespace facetrail::service {

// ---- The examination record ----

// The facial components of the FISWG "Facial Image Comparison Feature List for Morphological
// Analysis" (v2.0, 2018), grouped as an examiner works through them.
enum class Component {
  kFaceOutline,
  kHairHairline,
  kForehead,
  kEyebrows,
  kEyes,
  kCheeks,
  kNose,
  kEars,
  kMouth,
  kChinJaw,
  kNeck,
  kFacialHair,
  kLinesCreases,
  kMarksScars,
  kTattoosPiercings,
  kOther,
};
inline constexpr size_t kNumComponents = 16;
const std::array<Component, kNumComponents>& AllComponents();  // in the order above
std::string_view ComponentName(Component c);   // "face_outline", "hair_hairline", ...
std::string_view ComponentLabel(Component c);  // "Face/head outline", "Hair and hairline", ...
Expected<Component> ParseComponent(std::string_view name);

enum class FeatureMark { kSimilar, kDissimilar, kNotVisible, kNotExamined };
std::string_view FeatureMarkName(FeatureMark m);  // "similar", "dissimilar", "not_visible", ...
Expected<FeatureMark> ParseFeatureMark(std::string_view name);

// The state of a candidate nobody examined; never on the department's conclusion scale.
inline constexpr std::string_view kNotExamined = "not examined";

struct ComponentMark {
  Component component = Component::kOther;
  FeatureMark mark = FeatureMark::kNotExamined;
  std::string note;  // UTF-8, at most kMaxNoteBytes
};

// How the examiner looked: for viewing only, never changing what is stored.
struct ViewingSettings {
  double brightness = 0;         // -1..1, added to every channel (0: as stored)
  double contrast = 1;           // 0..4, around mid-grey (1: as stored)
  double gamma = 1;              // 0.1..5 (1: as stored)
  double zoom = 1;               // 0.1..64
  double overlay_opacity = 0.5;  // 0..1
  double wipe_position = 0.5;    // 0..1, fraction of the width showing the probe
  // Which views were used: "side_by_side", "aligned", "overlay", "wipe", "landmarks".
  std::vector<std::string> views;
};

struct CandidateExamination {
  int rank = 0;
  std::string conclusion{kNotExamined};   // on the department's scale, or kNotExamined
  std::string notes;                      // UTF-8, at most kMaxNotesBytes
  std::vector<ComponentMark> components;  // each component at most once; absent: not examined
  std::optional<ViewingSettings> viewing;
};

inline constexpr size_t kMaxNoteBytes = 500;    // one component's note
inline constexpr size_t kMaxNotesBytes = 4000;  // a candidate's or a decision's notes

// The examination as the API and the command line send it:
//   {"candidates": [{"rank", "conclusion", "notes", "components": [{"component", "mark",
//   "note"}], "viewing": {"brightness", "contrast", "gamma", "zoom", "overlay_opacity",
//   "wipe_position", "views": [...]}}]}
// Checks every enum, number range, UTF-8 text and length; kInvalidArgument names the field
// ("candidates[1].components[3].mark: ..."). The conclusion scale is checked by the use case.
Expected<std::vector<CandidateExamination>> ParseExamination(const nlohmann::json& body);
nlohmann::json ExaminationJson(const std::vector<CandidateExamination>& candidates);

// requires: each rank of the request's list at most once (others kInvalidArgument); a candidate
// left out is recorded "not examined".
Status Examine(Context& ctx, const Actor& examiner, int64_t request_id,
               const std::vector<CandidateExamination>& candidates);
Status Verify(Context& ctx, const Actor& examiner, int64_t request_id,
              const std::vector<CandidateExamination>& candidates);

enum class Resolution { kAdoptFirst, kAdoptSecond, kReexamine };
std::string_view ResolutionName(Resolution r);  // "adopt_first", "adopt_second", "reexamine"
Expected<Resolution> ParseResolution(std::string_view name);
Status Resolve(Context& ctx, const Actor& supervisor, int64_t request_id, Resolution resolution,
               const std::string& notes);

enum class Outcome { kConfirmedByOtherEvidence, kExcluded, kUnknown };
std::string_view OutcomeName(Outcome outcome);  // "confirmed_by_other_evidence", ...
Expected<Outcome> ParseOutcome(std::string_view name);
Status RecordOutcome(Context& ctx, const Actor& requester, int64_t request_id, Outcome outcome,
                     const std::string& note);

// ---- Reading a lead ----

struct LeadCandidate {
  Candidate candidate;
  // The standing conclusion (released, or an examiner's own before verification), if visible.
  std::optional<std::string> conclusion;
  std::string notes;
};

struct ExaminationRecord {
  int64_t id = 0;
  std::string stage;  // "examination" (first) or "verification"
  std::string examiner;
  std::string created_at;
  bool superseded = false;  // sent back by a supervisor (or disputed under the old flow)
  std::vector<CandidateExamination> candidates;  // every listed candidate, in rank order
};

struct HistoryEvent {
  std::string time;  // UTC
  std::string actor;
  std::string event;   // "search", "examination", "verification", "agreement", "dispute",
                       // "decision", "concurrence" (before issue 13), "outcome"
  std::string detail;  // never a conclusion that the reader may not see yet
};

struct Lead {
  int64_t request_id = 0;
  std::string notice{kLeadNotice};
  std::string requester;
  std::string case_number;
  std::string purpose;
  std::string created_at;
  std::string probe_sha256;
  std::string status;  // pending_review, examined, disputed, released
  // The candidate-list policy that made the list (its `candidates` stay empty; see below).
  CandidateList policy;
  std::vector<LeadCandidate> candidates;
  std::string examiner;  // of the first examination standing, if any
  std::string verified_by;
  // True when the reader is to verify blind: the first examination exists but is withheld.
  bool blind = false;
  std::vector<ExaminationRecord> examinations;  // those the reader may see, oldest first
  std::optional<std::string> decision;          // the supervisor's, once resolved
  std::vector<HistoryEvent> history;
  std::vector<std::string> conclusion_scale;  // the department's, for front ends
  std::optional<std::string> outcome;
  // What was done to the probe (in order) and what the model's calibration expected of it
  // (nullopt: not recorded): shown with the probe on the request page.
  std::vector<ProcessingStep> probe_steps;
  std::optional<ProbeExpectation> expected_fnir;
};

// Reads a lead. Examiners, supervisors and auditors may read any lead; the requester sees the
// conclusions only once it is released; an examiner other than the first sees no conclusion
// of the first examination before submitting their own verification. Audited "lead.view".
Expected<Lead> GetLead(Context& ctx, const Actor& actor, int64_t request_id);

// Requests waiting for review (pending_review, examined, disputed), oldest first, with their
// candidates (never a conclusion); examiners and supervisors (who resolve disputes).
Expected<std::vector<Lead>> PendingReviews(Context& ctx, const Actor& reviewer);

}  // namespace facetrail::service
