// ViewAlignedProbe, ViewAlignedBookingPhoto (service/face_view.h).
#include "service/face_view.h"

#include <algorithm>
#include <cmath>

#include "gallery/enroll.h"
#include "service/internal/base64.h"
#include "service/probe_view.h"
#include "service/server_queries.h"

namespace facetrail::service {

namespace {

using nlohmann::json;

using internal::Base64;

// The decoded, upright image of stored bytes (the same decoding the search used).
Expected<vision::Image> Upright(std::span<const uint8_t> bytes, const std::string& what) {
  auto decoded = vision::DecodeImage(bytes);
  if (!decoded.ok()) return decoded.status().WithContext(what);
  return std::move(decoded->image);
}

Status Render(const vision::Image& image, AlignedFaceView& view, const std::string& what) {
  view.source_width = image.width;
  view.source_height = image.height;
  auto aligned = vision::AlignFaceForViewing(image, view.source_landmarks);
  if (!aligned.ok()) return aligned.status().WithContext(what);
  view.aligned = std::move(*aligned);
  FT_ASSIGN_OR_RETURN(view.png, vision::EncodePng(view.aligned.image));
  return Status::Ok();
}

json Points(std::span<const vision::Point> points) {
  json out = json::array();
  for (const vision::Point& p : points) {
    out.push_back({std::round(p.x * 10) / 10, std::round(p.y * 10) / 10});
  }
  return out;
}

// The landmarks of the probe's "select_face" step, with the face's index and count.
Status ReadChosenFace(const ProbeView& probe, AlignedFaceView& view) {
  for (const ProcessingStep& step : probe.steps) {
    if (step.kind != "select_face") continue;
    const json params = json::parse(step.params, nullptr, false);
    if (params.is_discarded() || !params.contains("landmarks") || !params["landmarks"].is_array()) {
      break;
    }
    for (const json& p : params["landmarks"]) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) {
        return DataLoss("request " + std::to_string(probe.request_id) +
                        ": a recorded landmark is malformed");
      }
      view.source_landmarks.push_back({p[0].get<float>(), p[1].get<float>()});
    }
    view.face_index = params.value("index", 0);
    view.num_faces = params.value("of", 1);
    view.face_rule = "the face the search used (" + params.value("rule", std::string("?")) + ")";
    return Status::Ok();
  }
  return FailedPrecondition("request " + std::to_string(probe.request_id) +
                            ": no landmarks were recorded with its probe");
}

}  // namespace

Expected<AlignedFaceView> ViewAlignedProbe(Context& ctx, const Actor& actor, int64_t request_id) {
  FT_ASSIGN_OR_RETURN(ProbeView probe, ViewProbe(ctx, actor, request_id, "aligned"));
  AlignedFaceView view;
  FT_RETURN_IF_ERROR(ReadChosenFace(probe, view));
  const std::string what = "the probe of request " + std::to_string(request_id);
  FT_ASSIGN_OR_RETURN(vision::Image image, Upright(probe.bytes, what));
  FT_RETURN_IF_ERROR(Render(image, view, what));
  return view;
}

Expected<AlignedFaceView> ViewAlignedBookingPhoto(Context& ctx, const Actor& actor,
                                                  gallery::GalleryStore& store,
                                                  std::string_view booking_number, int64_t photo_id,
                                                  ProbeAnalyzer& analyzer) {
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                      ReadBookingPhoto(ctx, actor, store, booking_number, photo_id, "aligned"));
  const std::string what =
      "photo " + std::to_string(photo_id) + " of booking " + std::string(booking_number);
  auto analysis = analyzer.Analyze(bytes);
  if (!analysis.ok()) return analysis.status().WithContext(what);
  std::vector<gallery::ExtractedFace> faces;
  for (const ProbeFace& f : analysis->faces) {
    gallery::ExtractedFace e;
    e.box = {f.box.x, f.box.y, f.box.width, f.box.height};
    e.quality.yaw_deg = f.quality.yaw_deg;
    faces.push_back(std::move(e));
  }
  if (faces.empty()) return FailedPrecondition(what + ": no face found");
  const size_t chosen = gallery::ChooseEnrollFace(faces);
  AlignedFaceView view;
  view.source_landmarks = analysis->faces[chosen].landmarks;
  view.face_index = static_cast<int>(chosen);
  view.num_faces = static_cast<int>(faces.size());
  view.face_rule = "the face enrolment chooses (the largest frontal face)";
  FT_ASSIGN_OR_RETURN(vision::Image image, Upright(bytes, what));
  FT_RETURN_IF_ERROR(Render(image, view, what));
  return view;
}

json AlignedFaceViewJson(const AlignedFaceView& v) {
  const vision::AlignedFace& a = v.aligned;
  const vision::AlignedFaceOptions defaults;
  return {
      {"width", a.image.width},
      {"height", a.image.height},
      {"image", "data:image/png;base64," + Base64(v.png)},
      {"landmarks", Points(a.landmarks)},
      {"eye_line_y", a.eye_line_y},
      {"mouth_line_y", a.mouth_line_y},
      {"transform", {{"a", a.a}, {"b", a.b}, {"tx", a.tx}, {"c", a.cc}, {"d", a.d}, {"ty", a.ty}}},
      {"template",
       {{"points", "five-point 112x112 (ArcFace; fr_feature's)"},
        {"scale", defaults.scale},
        {"offset", (defaults.size - defaults.scale * defaults.chip_size) / 2}}},
      {"source",
       {{"width", v.source_width},
        {"height", v.source_height},
        {"landmarks", Points(v.source_landmarks)},
        {"face_index", v.face_index},
        {"num_faces", v.num_faces},
        {"face_rule", v.face_rule}}}};
}

}  // namespace facetrail::service
