#include "cli/output.h"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "service/search_response_json.h"

namespace facetrail::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated: return 3;  // refusals (policy, failed login)
    default: return 1;
  }
}

int PrintError(const Status& status) {
  std::cerr << "facetrail: " << status.ToString() << '\n';
  return ExitCodeFor(status);
}

nlohmann::json FaceJson(const vision::Face& face, bool with_template) {
  nlohmann::json landmarks = nlohmann::json::array();
  for (const auto& p : face.landmarks) landmarks.push_back({p.x, p.y});
  const auto& q = face.quality;
  nlohmann::json j = {{"box",
                       {{"x", face.box.x},
                        {"y", face.box.y},
                        {"width", face.box.width},
                        {"height", face.box.height}}},
                      {"score", face.score},
                      {"landmarks", std::move(landmarks)},
                      {"quality", service::QualityJson(q)}};
  if (with_template && !face.templ.empty()) {
    j["template"] = face.templ;
    j["descriptor"] = face.descriptor;
  }
  return j;
}

nlohmann::json ImageResultJson(const vision::ImageResult& r, const vision::TemplateModel* model) {
  const bool with_templates = model != nullptr;
  nlohmann::json j = {{"path", r.path}};
  if (!r.status.ok()) {
    j["error"] = r.status.ToString();
    j["error_code"] = std::string(StatusCodeName(r.status.code()));
    return j;
  }
  j["width"] = r.width;
  j["height"] = r.height;
  if (r.exif_orientation != 1) j["exif_orientation"] = r.exif_orientation;
  if (model) j["model"] = {{"id", model->id}, {"version", model->version}, {"dim", model->dim}};
  nlohmann::json faces = nlohmann::json::array();
  for (const auto& f : r.faces) faces.push_back(FaceJson(f, with_templates));
  j["faces"] = std::move(faces);
  return j;
}

void PrintImageResultText(std::ostream& out, const vision::ImageResult& r,
                          const vision::TemplateModel* model) {
  const bool with_templates = model != nullptr;
  if (!r.status.ok()) {
    out << r.path << ": error: " << r.status.ToString() << '\n';
    return;
  }
  out << r.path << ": " << r.width << "x" << r.height << ", " << r.faces.size()
      << (r.faces.size() == 1 ? " face" : " faces") << '\n';
  out << std::fixed << std::setprecision(1);
  for (size_t i = 0; i < r.faces.size(); ++i) {
    const auto& f = r.faces[i];
    out << "  face " << i << ": box " << f.box.x << "," << f.box.y << " " << f.box.width << "x"
        << f.box.height << " score " << std::setprecision(3) << f.score << std::setprecision(1)
        << "  eyes " << f.quality.eye_distance_px << " px, yaw " << f.quality.yaw_deg << ", roll "
        << f.quality.roll_deg << ", sharpness " << f.quality.sharpness << " (detail "
        << f.quality.detail << ", noise " << f.quality.noise_sigma << "), enlarged "
        << f.quality.effective_scale << "x";
    if (with_templates && !f.templ.empty()) {
      out << "  template " << f.templ.size() << " floats (" << model->id << ")";
    }
    out << '\n';
  }
  out.unsetf(std::ios::floatfield);
}

std::string FormatRate(double rate) {
  std::ostringstream s;
  if (rate >= 1e-3) {
    s << rate * 100 << "%";
  } else {
    s << rate;
  }
  return s.str();
}

const vision::Face* PickFace(const vision::ImageResult& r, const std::string& rule) {
  const vision::Face* best = nullptr;
  double best_key = -1e300;
  for (const auto& f : r.faces) {
    double key = 0;
    if (rule == "score") {
      key = f.score;
    } else if (rule == "center") {
      const double cx = f.box.x + f.box.width / 2 - r.width / 2.0;
      const double cy = f.box.y + f.box.height / 2 - r.height / 2.0;
      key = -std::hypot(cx, cy);
    } else {
      key = static_cast<double>(f.box.width) * f.box.height;
    }
    if (!best || key > best_key) {
      best = &f;
      best_key = key;
    }
  }
  return best;
}

}  // namespace facetrail::cli
