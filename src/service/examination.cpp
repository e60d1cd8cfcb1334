// The examination record's vocabulary and its JSON form (service/review.h): FISWG components,
// feature marks, viewing settings, and the checks every front end's input goes through.
#include <algorithm>
#include <cmath>
#include <set>

#include "common/text.h"
#include "service/review.h"

namespace facetrail::service {

namespace {

struct ComponentInfo {
  Component component;
  std::string_view name, label;
};

constexpr std::array<ComponentInfo, kNumComponents> kComponents = {{
    {Component::kFaceOutline, "face_outline", "Face/head outline"},
    {Component::kHairHairline, "hair_hairline", "Hair and hairline"},
    {Component::kForehead, "forehead", "Forehead"},
    {Component::kEyebrows, "eyebrows", "Eyebrows"},
    {Component::kEyes, "eyes", "Eyes"},
    {Component::kCheeks, "cheeks", "Cheeks"},
    {Component::kNose, "nose", "Nose"},
    {Component::kEars, "ears", "Ears"},
    {Component::kMouth, "mouth", "Mouth"},
    {Component::kChinJaw, "chin_jaw", "Chin and jawline"},
    {Component::kNeck, "neck", "Neck"},
    {Component::kFacialHair, "facial_hair", "Facial hair"},
    {Component::kLinesCreases, "lines_creases", "Facial lines and creases"},
    {Component::kMarksScars, "marks_scars", "Marks and scars"},
    {Component::kTattoosPiercings, "tattoos_piercings", "Tattoos and piercings"},
    {Component::kOther, "other", "Other"},
}};

constexpr std::array<std::string_view, 5> kViews = {"side_by_side", "aligned", "overlay", "wipe",
                                                    "landmarks"};

Status BadField(const std::string& field, const std::string& what) {
  return InvalidArgument(field + ": " + what);
}

Expected<std::string> Text(const nlohmann::json& j, const char* key, const std::string& field,
                           size_t max_bytes) {
  if (!j.contains(key) || j[key].is_null()) return std::string();
  if (!j[key].is_string()) return BadField(field, "must be a string");
  std::string s = j[key].get<std::string>();
  FT_RETURN_IF_ERROR(ValidateText(field, s, max_bytes, {.multiline = true}));
  return s;
}

Expected<double> Number(const nlohmann::json& j, const char* key, const std::string& field,
                        double fallback, double lo, double hi) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) return BadField(field, "must be a number");
  const double v = j[key].get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return BadField(field, "must be between " + nlohmann::json(lo).dump() + " and " +
                               nlohmann::json(hi).dump());
  }
  return v;
}

Expected<ViewingSettings> ParseViewing(const nlohmann::json& j, const std::string& field) {
  if (!j.is_object()) return BadField(field, "must be an object");
  ViewingSettings v;
  FT_ASSIGN_OR_RETURN(v.brightness, Number(j, "brightness", field + ".brightness", 0, -1, 1));
  FT_ASSIGN_OR_RETURN(v.contrast, Number(j, "contrast", field + ".contrast", 1, 0, 4));
  FT_ASSIGN_OR_RETURN(v.gamma, Number(j, "gamma", field + ".gamma", 1, 0.1, 5));
  FT_ASSIGN_OR_RETURN(v.zoom, Number(j, "zoom", field + ".zoom", 1, 0.1, 64));
  FT_ASSIGN_OR_RETURN(v.overlay_opacity,
                      Number(j, "overlay_opacity", field + ".overlay_opacity", 0.5, 0, 1));
  FT_ASSIGN_OR_RETURN(v.wipe_position,
                      Number(j, "wipe_position", field + ".wipe_position", 0.5, 0, 1));
  if (j.contains("views") && !j["views"].is_null()) {
    if (!j["views"].is_array()) return BadField(field + ".views", "must be an array");
    std::set<std::string> seen;
    for (size_t i = 0; i < j["views"].size(); ++i) {
      const nlohmann::json& view = j["views"][i];
      const std::string f = field + ".views[" + std::to_string(i) + "]";
      if (!view.is_string()) return BadField(f, "must be a string");
      const std::string name = view.get<std::string>();
      if (std::find(kViews.begin(), kViews.end(), name) == kViews.end()) {
        return BadField(f, "unknown view (side_by_side, aligned, overlay, wipe, landmarks)");
      }
      if (seen.insert(name).second) v.views.push_back(name);
    }
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const std::set<std::string> kKeys = {"brightness",      "contrast",      "gamma", "zoom",
                                                "overlay_opacity", "wipe_position", "views"};
    if (!kKeys.count(it.key())) return BadField(field + "." + it.key(), "unknown setting");
  }
  return v;
}

Expected<CandidateExamination> ParseCandidate(const nlohmann::json& j, const std::string& field) {
  if (!j.is_object()) return BadField(field, "must be an object");
  CandidateExamination c;
  if (!j.contains("rank") || !j["rank"].is_number_integer()) {
    return BadField(field + ".rank", "must be the candidate's rank (an integer)");
  }
  c.rank = j["rank"].get<int>();
  FT_ASSIGN_OR_RETURN(std::string conclusion, Text(j, "conclusion", field + ".conclusion", 64));
  c.conclusion = conclusion.empty() ? std::string(kNotExamined) : conclusion;
  FT_ASSIGN_OR_RETURN(c.notes, Text(j, "notes", field + ".notes", kMaxNotesBytes));
  if (j.contains("components") && !j["components"].is_null()) {
    if (!j["components"].is_array()) return BadField(field + ".components", "must be an array");
    std::set<Component> seen;
    for (size_t i = 0; i < j["components"].size(); ++i) {
      const nlohmann::json& m = j["components"][i];
      const std::string f = field + ".components[" + std::to_string(i) + "]";
      if (!m.is_object()) return BadField(f, "must be an object");
      ComponentMark cm;
      auto component = ParseComponent(m.value("component", ""));
      if (!component.ok()) return BadField(f + ".component", component.status().message());
      cm.component = *component;
      auto mark = ParseFeatureMark(m.value("mark", ""));
      if (!mark.ok()) return BadField(f + ".mark", mark.status().message());
      cm.mark = *mark;
      FT_ASSIGN_OR_RETURN(cm.note, Text(m, "note", f + ".note", kMaxNoteBytes));
      if (!seen.insert(cm.component).second) return BadField(f + ".component", "given twice");
      if (cm.mark != FeatureMark::kNotExamined || !cm.note.empty()) {
        c.components.push_back(std::move(cm));
      }
    }
  }
  if (j.contains("viewing") && !j["viewing"].is_null()) {
    FT_ASSIGN_OR_RETURN(c.viewing, ParseViewing(j["viewing"], field + ".viewing"));
  }
  return c;
}

nlohmann::json ViewingJson(const ViewingSettings& v) {
  return {{"brightness", v.brightness},
          {"contrast", v.contrast},
          {"gamma", v.gamma},
          {"zoom", v.zoom},
          {"overlay_opacity", v.overlay_opacity},
          {"wipe_position", v.wipe_position},
          {"views", v.views}};
}

}  // namespace

const std::array<Component, kNumComponents>& AllComponents() {
  static const std::array<Component, kNumComponents> kAll = [] {
    std::array<Component, kNumComponents> out{};
    for (size_t i = 0; i < kNumComponents; ++i) out[i] = kComponents[i].component;
    return out;
  }();
  return kAll;
}

std::string_view ComponentName(Component c) {
  return kComponents[static_cast<size_t>(c)].name;
}

std::string_view ComponentLabel(Component c) {
  return kComponents[static_cast<size_t>(c)].label;
}

Expected<Component> ParseComponent(std::string_view name) {
  for (const ComponentInfo& info : kComponents) {
    if (info.name == name) return info.component;
  }
  return InvalidArgument("unknown facial component '" + std::string(name) +
                         "' (face_outline, hair_hairline, forehead, eyebrows, eyes, cheeks, nose, "
                         "ears, mouth, chin_jaw, neck, facial_hair, lines_creases, marks_scars, "
                         "tattoos_piercings, other)");
}

std::string_view FeatureMarkName(FeatureMark m) {
  switch (m) {
    case FeatureMark::kSimilar: return "similar";
    case FeatureMark::kDissimilar: return "dissimilar";
    case FeatureMark::kNotVisible: return "not_visible";
    case FeatureMark::kNotExamined: return "not_examined";
  }
  return "not_examined";
}

Expected<FeatureMark> ParseFeatureMark(std::string_view name) {
  for (FeatureMark m : {FeatureMark::kSimilar, FeatureMark::kDissimilar, FeatureMark::kNotVisible,
                        FeatureMark::kNotExamined}) {
    if (FeatureMarkName(m) == name) return m;
  }
  return InvalidArgument("unknown mark '" + std::string(name) +
                         "' (similar, dissimilar, not_visible, not_examined)");
}

Expected<std::vector<CandidateExamination>> ParseExamination(const nlohmann::json& body) {
  if (!body.is_object()) return BadField("body", "must be a JSON object");
  if (!body.contains("candidates") || !body["candidates"].is_array()) {
    return BadField("candidates", "must be an array with one entry per candidate examined");
  }
  std::vector<CandidateExamination> out;
  for (size_t i = 0; i < body["candidates"].size(); ++i) {
    FT_ASSIGN_OR_RETURN(
        CandidateExamination c,
        ParseCandidate(body["candidates"][i], "candidates[" + std::to_string(i) + "]"));
    out.push_back(std::move(c));
  }
  return out;
}

nlohmann::json ExaminationJson(const std::vector<CandidateExamination>& candidates) {
  nlohmann::json out = nlohmann::json::array();
  for (const CandidateExamination& c : candidates) {
    nlohmann::json components = nlohmann::json::array();
    for (Component k : AllComponents()) {
      ComponentMark m{k, FeatureMark::kNotExamined, ""};
      for (const ComponentMark& x : c.components) {
        if (x.component == k) m = x;
      }
      components.push_back({{"component", ComponentName(k)},
                            {"label", ComponentLabel(k)},
                            {"mark", FeatureMarkName(m.mark)},
                            {"note", m.note}});
    }
    out.push_back({{"rank", c.rank},
                   {"conclusion", c.conclusion},
                   {"notes", c.notes},
                   {"components", components},
                   {"viewing", c.viewing ? ViewingJson(*c.viewing) : nlohmann::json(nullptr)}});
  }
  return out;
}

}  // namespace facetrail::service
