// The aligned views of the examiner's side-by-side screen (issue 13, "Side by side"): the
// probe's chosen face and a candidate's booking photo, each cut out by the recognizer's own
// five-point alignment onto the same frame (vision/aligned_face.h), so eyes and mouth sit on the
// same lines in both. Rendered here, on the server, from the stored bytes, so what the examiner
// overlays is exactly the geometry the system used, and a test can check it pixel for pixel.
//
// WHO MAY SEE THEM
//   The probe's: as the probe itself (service/probe_view.h: requester, certified examiners,
//   supervisors, auditors; refusals audited "probe.refused"); every view audited "probe.view"
//   with "rendering": "aligned". A candidate photo's: as the photo itself
//   (service/server_queries.h ReadBookingPhoto: certified examiners and supervisors; refusals
//   "gallery.refused"); every view audited "gallery.photo" with "rendering": "aligned".
//
// WHICH FACE
//   The probe: the face the search used, with the 68 landmarks recorded in its "select_face"
//   step (a tenth of a pixel). A booking photo: the photo is analysed again by the gallery's
//   pipeline and the face chosen as enrolment chooses it (gallery::ChooseEnrollFace), which is
//   the enrolled face for the same model.
//
// ERRORS
//   As the underlying views; kFailedPrecondition for a probe without recorded landmarks or a
//   purged probe, and for a booking photo in which no face is found.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gallery/gallery_store.h"
#include "nlohmann/json.hpp"
#include "service/context.h"
#include "service/search_request.h"
#include "vision/aligned_face.h"

namespace facetrail::service {

struct AlignedFaceView {
  int source_width = 0, source_height = 0;      // the upright source image
  std::vector<vision::Point> source_landmarks;  // 68, pixels of the upright source image
  int face_index = 0;  // the face's position in the pipeline's list for the source
  int num_faces = 0;
  std::string face_rule;  // how the face was chosen
  vision::AlignedFace aligned;
  std::vector<uint8_t> png;  // aligned.image as PNG
};

Expected<AlignedFaceView> ViewAlignedProbe(Context& ctx, const Actor& actor, int64_t request_id);

// `analyzer`: the gallery's pipeline (it finds the faces and landmarks of the photo).
Expected<AlignedFaceView> ViewAlignedBookingPhoto(Context& ctx, const Actor& actor,
                                                  gallery::GalleryStore& store,
                                                  std::string_view booking_number, int64_t photo_id,
                                                  ProbeAnalyzer& analyzer);

// {"width", "height", "image" (a data: URL of the PNG), "landmarks" [[x, y] × 68],
//  "eye_line_y", "mouth_line_y", "transform" {a, b, tx, c, d, ty} (output → source),
//  "source" {"width", "height", "landmarks", "face_index", "num_faces", "face_rule"},
//  "template" (how the frame is made)}.
nlohmann::json AlignedFaceViewJson(const AlignedFaceView& view);

}  // namespace facetrail::service
