// The stored probe of a search request, for those allowed to see it (issue 13).
//
// WHO MAY SEE IT
//   The requester, certified examiners (any of them may examine or verify a pending request, so
//   each is an examiner of it), supervisors and auditors. Anyone else is refused "wrong_role"
//   whether or not the request exists, so a refusal reveals nothing about other people's
//   requests; the refusal is audited "probe.refused". A caller who may see probes gets
//   kNotFound for a request that does not exist.
//
// WHAT IS RETURNED
//   The bytes exactly as uploaded (never re-encoded, never rotated), their media type sniffed
//   from the bytes, and the processing steps the search applied to them (decode, EXIF rotation,
//   the face chosen with its box, landmarks and quality figures, the template model) plus the
//   quality override when one was used. Every view is audited "probe.view" in the transaction
//   that read the bytes. A purged probe (retention) is kFailedPrecondition.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "service/context.h"
#include "service/search_request.h"

namespace facetrail::service {

struct ProbeOverrideInfo {
  int64_t id = 0;
  std::string supervisor;
  std::string reason;
  std::string created_at;
};

struct ProbeView {
  int64_t request_id = 0;
  std::string case_number;
  std::string sha256;
  std::string format;        // as recorded at the search ("jpeg", "png", ...)
  std::string content_type;  // sniffed from the bytes (ProbeContentType)
  std::vector<uint8_t> bytes;
  std::vector<ProcessingStep> steps;  // in the order applied
  std::optional<ProbeOverrideInfo> quality_override;
  // What the model's calibration expected of the probe (nullopt: not recorded, i.e. a request
  // made before it was recorded).
  std::optional<ProbeExpectation> expected_fnir;
};

// The probe of `request_id` as described above. `rendering` names what the caller makes of the
// bytes when it is not the original ("aligned": service/face_view.h); it is recorded in the
// "probe.view" entry.
Expected<ProbeView> ViewProbe(Context& ctx, const Actor& actor, int64_t request_id,
                              std::string_view rendering = {});

// The media type of image bytes by their magic numbers: image/jpeg, image/png, image/webp,
// image/gif, image/bmp, image/tiff; "application/octet-stream" for anything else.
std::string ProbeContentType(std::span<const uint8_t> bytes);

}  // namespace facetrail::service
