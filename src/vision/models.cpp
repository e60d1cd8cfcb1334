#include "vision/models.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <type_traits>

#include "common/file.h"
#include "common/install_paths.h"
#include "common/sha256.h"

namespace facetrail::vision {

namespace {

using nlohmann::json;

constexpr size_t kMaxManifestBytes = 1 << 20;
constexpr std::string_view kManifestSuffix = ".model.json";

// Reads fields of one JSON object, refusing unknown ones and wrong types with the field's path.
class Fields {
 public:
  Fields(const json& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  Status CheckObject() const {
    if (!obj_.is_object()) return Bad(path_.empty() ? "(top level)" : path_, "expected an object");
    return Status::Ok();
  }
  // Refuses every key not in `known`.
  Status OnlyKnown(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : obj_.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return Bad(Name(key), "unknown field");
      }
    }
    return Status::Ok();
  }
  bool Has(const std::string& key) const { return obj_.contains(key); }

  Status Text(const std::string& key, std::string& out, bool required,
              size_t max_len = 4096) const {
    if (!obj_.contains(key)) return required ? Bad(Name(key), "missing") : Status::Ok();
    const json& v = obj_.at(key);
    if (!v.is_string()) return Bad(Name(key), "expected a string");
    out = v.get<std::string>();
    if (required && out.empty()) return Bad(Name(key), "must not be empty");
    if (out.size() > max_len) return Bad(Name(key), "longer than " + std::to_string(max_len));
    return Status::Ok();
  }
  Status Int(const std::string& key, int64_t& out, int64_t lo, int64_t hi, bool required) const {
    if (!obj_.contains(key)) return required ? Bad(Name(key), "missing") : Status::Ok();
    const json& v = obj_.at(key);
    if (!v.is_number_integer()) return Bad(Name(key), "expected an integer");
    const auto x = v.get<int64_t>();
    if (x < lo || x > hi) {
      return Bad(Name(key), "expected " + std::to_string(lo) + ".." + std::to_string(hi) +
                                ", got " + std::to_string(x));
    }
    out = x;
    return Status::Ok();
  }
  Status Number(const std::string& key, double& out, double lo, double hi, bool required) const {
    if (!obj_.contains(key)) return required ? Bad(Name(key), "missing") : Status::Ok();
    const json& v = obj_.at(key);
    if (!v.is_number()) return Bad(Name(key), "expected a number");
    const auto x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi) {
      return Bad(Name(key), "expected a number in [" + Fmt(lo) + ", " + Fmt(hi) + "]");
    }
    out = x;
    return Status::Ok();
  }
  Fields Child(const std::string& key) const { return {obj_.at(key), Name(key)}; }
  std::string Name(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const json& at(const std::string& key) const { return obj_.at(key); }

  static Status Bad(const std::string& field, const std::string& what) {
    return InvalidArgument(field + ": " + what);
  }
  static std::string Fmt(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  }

 private:
  const json& obj_;
  std::string path_;
};

Status ParseTriple(const Fields& f, const std::string& key, std::array<float, 3>& out, double lo,
                   double hi) {
  if (!f.Has(key)) return Status::Ok();
  const json& v = f.at(key);
  if (!v.is_array() || v.size() != 3) return Fields::Bad(f.Name(key), "expected 3 numbers");
  for (size_t i = 0; i < 3; ++i) {
    if (!v[i].is_number()) return Fields::Bad(f.Name(key), "expected 3 numbers");
    const auto x = v[i].get<double>();
    if (!std::isfinite(x) || x < lo || x > hi) {
      return Fields::Bad(f.Name(key) + "[" + std::to_string(i) + "]", "out of range");
    }
    out[i] = static_cast<float>(x);
  }
  return Status::Ok();
}

Status ParseThreshold(const Fields& parent, const std::string& key, CalibratedThreshold& t) {
  if (!parent.Has(key)) return Fields::Bad(parent.Name(key), "missing");
  Fields f = parent.Child(key);
  FT_RETURN_IF_ERROR(f.CheckObject());
  FT_RETURN_IF_ERROR(f.OnlyKnown({"score", "false_rate", "miss_rate", "gallery_size"}));
  FT_RETURN_IF_ERROR(f.Number("score", t.score, -1, 1, true));
  FT_RETURN_IF_ERROR(f.Number("false_rate", t.false_rate, 0, 1, true));
  FT_RETURN_IF_ERROR(f.Number("miss_rate", t.miss_rate, 0, 1, true));
  return f.Int("gallery_size", t.gallery_size, 0, int64_t{1} << 40, false);
}

constexpr size_t kMaxBinEdges = 32;

// An axis of the expected-FNIR table: from 0, strictly increasing, finite, 1..kMaxBinEdges.
Status ParseEdges(const Fields& f, const std::string& key, double hi, std::vector<double>& out) {
  if (!f.Has(key)) return Fields::Bad(f.Name(key), "missing");
  const json& v = f.at(key);
  if (!v.is_array() || v.empty() || v.size() > kMaxBinEdges) {
    return Fields::Bad(f.Name(key),
                       "expected 1.." + std::to_string(kMaxBinEdges) + " increasing numbers");
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string name = f.Name(key) + "[" + std::to_string(i) + "]";
    if (!v[i].is_number()) return Fields::Bad(name, "expected a number");
    const auto x = v[i].get<double>();
    if (!std::isfinite(x) || x < 0 || x > hi) return Fields::Bad(name, "out of range");
    if (i == 0 && x != 0) return Fields::Bad(name, "the first edge must be 0");
    if (i > 0 && !(x > out.back())) return Fields::Bad(name, "edges must increase");
    out.push_back(x);
  }
  return Status::Ok();
}

// A rows × cols matrix of numbers in [lo, hi] (nullable: null allowed, as nullopt).
template <typename T>
Status ParseMatrix(const Fields& f, const std::string& key, size_t rows, size_t cols, double lo,
                   double hi, bool nullable, std::vector<std::vector<T>>& out) {
  if (!f.Has(key)) return Fields::Bad(f.Name(key), "missing");
  const json& v = f.at(key);
  const std::string shape = std::to_string(rows) + " rows of " + std::to_string(cols);
  if (!v.is_array() || v.size() != rows) {
    return Fields::Bad(f.Name(key), "expected " + shape + " (one row per eye-distance bin)");
  }
  out.assign(rows, {});
  for (size_t r = 0; r < rows; ++r) {
    const std::string row = f.Name(key) + "[" + std::to_string(r) + "]";
    if (!v[r].is_array() || v[r].size() != cols) {
      return Fields::Bad(row, "expected " + std::to_string(cols) + " entries (one per detail bin)");
    }
    for (size_t c = 0; c < cols; ++c) {
      const json& x = v[r][c];
      const std::string name = row + "[" + std::to_string(c) + "]";
      if (x.is_null() && nullable) {
        out[r].push_back(T{});
        continue;
      }
      if (!x.is_number())
        return Fields::Bad(name, nullable ? "expected a number or null" : "expected a number");
      const auto d = x.get<double>();
      if (!std::isfinite(d) || d < lo || d > hi) return Fields::Bad(name, "out of range");
      if constexpr (std::is_same_v<T, int64_t>) {
        if (!x.is_number_integer()) return Fields::Bad(name, "expected an integer");
        out[r].push_back(x.get<int64_t>());
      } else {
        out[r].push_back(d);
      }
    }
  }
  return Status::Ok();
}

Status ParseExpectedFnir(const Fields& f, ExpectedFnirTable& t) {
  FT_RETURN_IF_ERROR(f.CheckObject());
  FT_RETURN_IF_ERROR(
      f.OnlyKnown({"source", "threshold", "effective_eye_distance_px", "detail", "fnir", "mated"}));
  FT_RETURN_IF_ERROR(f.Text("source", t.source, true));
  FT_RETURN_IF_ERROR(f.Number("threshold", t.threshold, -1, 1, true));
  FT_RETURN_IF_ERROR(ParseEdges(f, "effective_eye_distance_px", 1000, t.eye_distance_edges));
  FT_RETURN_IF_ERROR(ParseEdges(f, "detail", 1e6, t.detail_edges));
  const size_t rows = t.eye_distance_edges.size(), cols = t.detail_edges.size();
  FT_RETURN_IF_ERROR(ParseMatrix(f, "fnir", rows, cols, 0, 1, true, t.fnir));
  return ParseMatrix(f, "mated", rows, cols, 0, 1e12, false, t.mated);
}

Status ParseCalibration(const Fields& f, Calibration& c) {
  FT_RETURN_IF_ERROR(f.CheckObject());
  FT_RETURN_IF_ERROR(
      f.OnlyKnown({"source", "command", "created", "candidate", "compare", "min_eye_distance_px",
                   "min_sharpness", "quality_basis", "expected_fnir"}));
  FT_RETURN_IF_ERROR(f.Text("source", c.source, true));
  FT_RETURN_IF_ERROR(f.Text("command", c.command, false));
  FT_RETURN_IF_ERROR(f.Text("created", c.created, false, 64));
  FT_RETURN_IF_ERROR(ParseThreshold(f, "candidate", c.candidate));
  FT_RETURN_IF_ERROR(ParseThreshold(f, "compare", c.compare));
  double eye = 0, sharp = 0;
  FT_RETURN_IF_ERROR(f.Number("min_eye_distance_px", eye, 0, 1000, true));
  FT_RETURN_IF_ERROR(f.Number("min_sharpness", sharp, 0, 1e6, true));
  c.min_eye_distance_px = static_cast<float>(eye);
  c.min_sharpness = static_cast<float>(sharp);
  FT_RETURN_IF_ERROR(f.Text("quality_basis", c.quality_basis, false));
  if (f.Has("expected_fnir")) {
    ExpectedFnirTable t;
    FT_RETURN_IF_ERROR(ParseExpectedFnir(f.Child("expected_fnir"), t));
    // A table read at another threshold would state the wrong FNIR for every search.
    if (std::fabs(t.threshold - c.candidate.score) > 1e-9) {
      return Fields::Bad(f.Name("expected_fnir.threshold"),
                         "differs from candidate.score (" + Fields::Fmt(c.candidate.score) +
                             "): the table must be measured at the shipped threshold");
    }
    c.expected_fnir = std::move(t);
  }
  return Status::Ok();
}

Status CheckModelName(const std::string& field, const std::string& name) {
  for (char ch : name) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.')) {
      return Fields::Bad(field, "only letters, digits, '_', '-' and '.' are allowed");
    }
  }
  return Status::Ok();
}

// `file` (a name beside the manifest) and its pinned `sha256`, of the object `f` reads.
Status ParsePinnedFile(const Fields& f, std::string& file, std::string& sha256) {
  FT_RETURN_IF_ERROR(f.Text("file", file, true, 255));
  if (file.find('/') != std::string::npos || file == "." || file == "..") {
    return Fields::Bad(f.Name("file"), "a file name beside the manifest (no folders)");
  }
  FT_RETURN_IF_ERROR(f.Text("sha256", sha256, true, 64));
  if (sha256.size() != 64 || !std::all_of(sha256.begin(), sha256.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return Fields::Bad(f.Name("sha256"), "expected 64 lower-case hex digits");
  }
  return Status::Ok();
}

Status ParseProjection(const Fields& parent, ModelManifest& m) {
  if (!parent.Has("projection")) return Status::Ok();
  if (m.kind == ModelKind::kFusion) {
    return Fields::Bad("projection", "not for fusion models (give it to a member)");
  }
  Fields f = parent.Child("projection");
  FT_RETURN_IF_ERROR(f.CheckObject());
  FT_RETURN_IF_ERROR(f.OnlyKnown({"file", "sha256", "fitted"}));
  ModelProjection p;
  FT_RETURN_IF_ERROR(ParsePinnedFile(f, p.file, p.sha256));
  if (p.file == m.file) return Fields::Bad("projection.file", "is the weights file");
  FT_RETURN_IF_ERROR(f.Text("fitted", p.fitted, true));
  m.projection = std::move(p);
  return Status::Ok();
}

// A fusion names its members; it has no weights, input or alignment of its own.
Status ParseMembers(const Fields& f, ModelManifest& m) {
  for (const char* own : {"file", "sha256", "input", "alignment"}) {
    if (f.Has(own)) return Fields::Bad(own, "a fusion model has none of its own (its members do)");
  }
  if (!f.Has("members")) return Fields::Bad("members", "missing (a fusion model needs them)");
  const json& a = f.at("members");
  if (!a.is_array() || a.size() < 2 || a.size() > 4) {
    return Fields::Bad("members", "expected 2 to 4 model names");
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string field = "members[" + std::to_string(i) + "]";
    if (!a[i].is_string() || a[i].get<std::string>().empty() ||
        a[i].get<std::string>().size() > 64) {
      return Fields::Bad(field, "expected a model name");
    }
    const std::string name = a[i].get<std::string>();
    FT_RETURN_IF_ERROR(CheckModelName(field, name));
    if (name == m.name) return Fields::Bad(field, "a fusion cannot contain itself");
    if (std::find(m.members.begin(), m.members.end(), name) != m.members.end()) {
      return Fields::Bad(field, "'" + name + "' is named twice");
    }
    m.members.push_back(name);
  }
  return Status::Ok();
}

Status ParseInput(const Fields& f, ModelManifest& m) {
  if (m.kind == ModelKind::kOnnx) {
    if (!f.Has("input")) return Fields::Bad("input", "missing (an onnx model needs it)");
    Fields in = f.Child("input");
    FT_RETURN_IF_ERROR(in.CheckObject());
    FT_RETURN_IF_ERROR(in.OnlyKnown({"width", "height", "color", "mean", "scale"}));
    int64_t w = 0, h = 0;
    FT_RETURN_IF_ERROR(in.Int("width", w, 16, 1024, true));
    FT_RETURN_IF_ERROR(in.Int("height", h, 16, 1024, true));
    if (w != h) return Fields::Bad("input", "only square inputs are supported (width = height)");
    m.input.width = static_cast<int>(w);
    m.input.height = static_cast<int>(h);
    std::string color;
    FT_RETURN_IF_ERROR(in.Text("color", color, true));
    if (color == "rgb") {
      m.input.color = ColorOrder::kRgb;
    } else if (color == "bgr") {
      m.input.color = ColorOrder::kBgr;
    } else {
      return Fields::Bad("input.color", "expected \"rgb\" or \"bgr\", got \"" + color + "\"");
    }
    FT_RETURN_IF_ERROR(ParseTriple(in, "mean", m.input.mean, -1000, 1000));
    FT_RETURN_IF_ERROR(ParseTriple(in, "scale", m.input.scale, -1000, 1000));
    if (!f.Has("alignment")) return Fields::Bad("alignment", "missing (an onnx model needs it)");
    const json& a = f.at("alignment");
    if (!a.is_array() || a.size() != 5) {
      return Fields::Bad("alignment", "expected 5 points [x, y] in input pixels");
    }
    for (size_t i = 0; i < 5; ++i) {
      if (!a[i].is_array() || a[i].size() != 2 || !a[i][0].is_number() || !a[i][1].is_number()) {
        return Fields::Bad("alignment[" + std::to_string(i) + "]", "expected [x, y]");
      }
      const double x = a[i][0].get<double>(), y = a[i][1].get<double>();
      if (!(x >= 0 && x <= m.input.width && y >= 0 && y <= m.input.height)) {
        return Fields::Bad("alignment[" + std::to_string(i) + "]", "outside the input");
      }
      m.alignment.points[i] = {x, y};
    }
    const auto& p = m.alignment.points;
    if (!(p[0][0] < p[1][0] && p[3][0] < p[4][0])) {
      return Fields::Bad("alignment", "eyes and mouth corners must be given image-left first");
    }
  } else if (m.kind == ModelKind::kFaceApiResnet29 && (f.Has("input") || f.Has("alignment"))) {
    return Fields::Bad(f.Has("input") ? "input" : "alignment",
                       "only for onnx models (faceapi-resnet29 has its own geometry)");
  }
  return Status::Ok();
}

Status ParseManifestObject(const json& doc, ModelManifest& m) {
  Fields f(doc, "");
  FT_RETURN_IF_ERROR(f.CheckObject());
  FT_RETURN_IF_ERROR(f.OnlyKnown({"name", "id", "version", "dim", "kind", "file", "sha256",
                                  "members", "projection", "input", "alignment", "calibration",
                                  "source", "licence", "training_data", "card"}));
  FT_RETURN_IF_ERROR(f.Text("name", m.name, true, 64));
  FT_RETURN_IF_ERROR(CheckModelName("name", m.name));
  FT_RETURN_IF_ERROR(f.Text("id", m.id, true, 100));
  int64_t version = 1, dim = 0;
  FT_RETURN_IF_ERROR(f.Int("version", version, 1, 1 << 20, true));
  FT_RETURN_IF_ERROR(f.Int("dim", dim, 16, 4096, true));
  if (dim % 16 != 0) return Fields::Bad("dim", "must be a multiple of 16");
  m.version = static_cast<int>(version);
  m.dim = static_cast<int>(dim);
  std::string kind;
  FT_RETURN_IF_ERROR(f.Text("kind", kind, true));
  if (kind == "onnx") {
    m.kind = ModelKind::kOnnx;
  } else if (kind == "faceapi-resnet29") {
    m.kind = ModelKind::kFaceApiResnet29;
    if (m.dim != 128) return Fields::Bad("dim", "a faceapi-resnet29 model has 128");
  } else if (kind == "fusion") {
    m.kind = ModelKind::kFusion;
  } else {
    return Fields::Bad(
        "kind", "expected \"onnx\", \"faceapi-resnet29\" or \"fusion\", got \"" + kind + "\"");
  }
  if (m.kind == ModelKind::kFusion) {
    FT_RETURN_IF_ERROR(ParseMembers(f, m));
  } else if (f.Has("members")) {
    return Fields::Bad("members", "only for fusion models");
  } else {
    FT_RETURN_IF_ERROR(ParsePinnedFile(f, m.file, m.sha256));
  }
  FT_RETURN_IF_ERROR(ParseProjection(f, m));
  FT_RETURN_IF_ERROR(ParseInput(f, m));
  if (f.Has("calibration")) {
    Calibration c;
    FT_RETURN_IF_ERROR(ParseCalibration(f.Child("calibration"), c));
    m.calibration = std::move(c);
  }
  FT_RETURN_IF_ERROR(f.Text("source", m.source, false));
  FT_RETURN_IF_ERROR(f.Text("licence", m.licence, false));
  FT_RETURN_IF_ERROR(f.Text("training_data", m.training_data, false));
  return f.Text("card", m.card, false);
}

using ordered_json = nlohmann::ordered_json;

ordered_json ThresholdJson(const CalibratedThreshold& t) {
  ordered_json j = {{"score", t.score}, {"false_rate", t.false_rate}, {"miss_rate", t.miss_rate}};
  if (t.gallery_size > 0) j["gallery_size"] = t.gallery_size;
  return j;
}

}  // namespace

std::string_view ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kOnnx: return "onnx";
    case ModelKind::kFaceApiResnet29: return "faceapi-resnet29";
    case ModelKind::kFusion: return "fusion";
  }
  return "unknown";
}

std::string ModelManifest::dir() const {
  const std::filesystem::path p(manifest_path);
  return p.has_parent_path() ? p.parent_path().string() : std::string(".");
}

Expected<ModelManifest> ParseModelManifest(std::string_view text, const std::string& origin) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(origin + ": not valid JSON");
  ModelManifest m;
  Status s = ParseManifestObject(doc, m);
  if (!s.ok()) return s.WithContext(origin);
  return m;
}

std::string ModelManifestJson(const ModelManifest& m) {
  ordered_json j;  // fields in the documented order (docs/MODELS.md)
  j["name"] = m.name;
  j["id"] = m.id;
  j["version"] = m.version;
  j["dim"] = m.dim;
  j["kind"] = std::string(ModelKindName(m.kind));
  if (m.kind == ModelKind::kFusion) {
    j["members"] = m.members;
  } else {
    j["file"] = m.file;
    j["sha256"] = m.sha256;
  }
  if (m.projection) {
    j["projection"] = {{"file", m.projection->file},
                       {"sha256", m.projection->sha256},
                       {"fitted", m.projection->fitted}};
  }
  if (m.kind == ModelKind::kOnnx) {
    j["input"] = {{"width", m.input.width},
                  {"height", m.input.height},
                  {"color", m.input.color == ColorOrder::kBgr ? "bgr" : "rgb"},
                  {"mean", m.input.mean},
                  {"scale", m.input.scale}};
    ordered_json pts = ordered_json::array();
    for (const auto& p : m.alignment.points) pts.push_back({p[0], p[1]});
    j["alignment"] = pts;
  }
  if (m.calibration) {
    const Calibration& c = *m.calibration;
    j["calibration"] = {{"source", c.source},
                        {"command", c.command},
                        {"created", c.created},
                        {"candidate", ThresholdJson(c.candidate)},
                        {"compare", ThresholdJson(c.compare)},
                        {"min_eye_distance_px", c.min_eye_distance_px},
                        {"min_sharpness", c.min_sharpness},
                        {"quality_basis", c.quality_basis}};
    if (c.expected_fnir) {
      const ExpectedFnirTable& t = *c.expected_fnir;
      ordered_json fnir = ordered_json::array();
      for (const auto& row : t.fnir) {
        ordered_json r = ordered_json::array();
        for (const std::optional<double>& v : row) {
          // Four decimals: finer than the measurement's noise, and short.
          r.push_back(v ? ordered_json(std::round(*v * 1e4) / 1e4) : ordered_json(nullptr));
        }
        fnir.push_back(std::move(r));
      }
      j["calibration"]["expected_fnir"] = {{"source", t.source},
                                           {"threshold", t.threshold},
                                           {"effective_eye_distance_px", t.eye_distance_edges},
                                           {"detail", t.detail_edges},
                                           {"fnir", std::move(fnir)},
                                           {"mated", t.mated}};
    }
  }
  j["source"] = m.source;
  j["licence"] = m.licence;
  j["training_data"] = m.training_data;
  j["card"] = m.card;
  return j.dump(2) + "\n";
}

std::optional<ExpectedFnir> LookupExpectedFnir(const ExpectedFnirTable& table,
                                               double effective_eye_distance_px, double detail) {
  if (!(effective_eye_distance_px >= 0) || !(detail >= 0) || table.eye_distance_edges.empty() ||
      table.detail_edges.empty()) {
    return std::nullopt;
  }
  const auto bin = [](const std::vector<double>& e, double v) {
    return static_cast<size_t>(std::upper_bound(e.begin(), e.end(), v) - e.begin() - 1);
  };
  const auto upper = [](const std::vector<double>& e, size_t i) {
    return i + 1 < e.size() ? e[i + 1] : std::numeric_limits<double>::infinity();
  };
  const size_t r = bin(table.eye_distance_edges, effective_eye_distance_px);
  const size_t c = bin(table.detail_edges, detail);
  ExpectedFnir out;
  out.fnir = table.fnir.at(r).at(c);
  out.mated = table.mated.at(r).at(c);
  out.eye_lo = table.eye_distance_edges[r];
  out.eye_hi = upper(table.eye_distance_edges, r);
  out.detail_lo = table.detail_edges[c];
  out.detail_hi = upper(table.detail_edges, c);
  out.threshold = table.threshold;
  return out;
}

Expected<ModelManifest> LoadModelManifest(const std::string& path) {
  FT_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path, kMaxManifestBytes));
  FT_ASSIGN_OR_RETURN(
      auto m,
      ParseModelManifest(
          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path));
  m.manifest_path = path;
  return m;
}

Expected<std::string> ResolveModelsDir(const std::string& models_dir) {
  return FindDataDir("models", models_dir, "", "--models or FACETRAIL_MODELS");
}

Expected<std::vector<ModelManifest>> ListModels(const std::string& given_dir) {
  FT_ASSIGN_OR_RETURN(const std::string models_dir, ResolveModelsDir(given_dir));
  std::error_code ec;
  if (!std::filesystem::is_directory(models_dir, ec)) {
    return NotFound("models folder " + models_dir +
                    " does not exist (run scripts/fetch-models, or give --models)");
  }
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(models_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > kManifestSuffix.size() && name.ends_with(kManifestSuffix)) {
      paths.push_back(e.path().string());
    }
  }
  if (ec) return IoError(models_dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  std::vector<ModelManifest> out;
  std::set<std::string> names, ids;
  for (const auto& p : paths) {
    FT_ASSIGN_OR_RETURN(auto m, LoadModelManifest(p));
    if (!names.insert(m.name).second || !ids.insert(m.id).second) {
      std::string message = p;
      message += ": a second model named '" + m.name + "' or with id '" + m.id + "' in ";
      message += models_dir;
      return InvalidArgument(message);
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const ModelManifest& a, const ModelManifest& b) { return a.name < b.name; });
  return out;
}

Expected<ModelManifest> FindModel(const std::string& given_dir, std::string_view name_or_id) {
  FT_ASSIGN_OR_RETURN(const std::string models_dir, ResolveModelsDir(given_dir));
  FT_ASSIGN_OR_RETURN(auto models, ListModels(models_dir));
  std::string known;
  for (auto& m : models) {
    if (m.name == name_or_id || m.id == name_or_id) return std::move(m);
    known += (known.empty() ? "" : ", ") + m.name;
  }
  return NotFound("no model '" + std::string(name_or_id) + "' in " + models_dir +
                  (known.empty() ? " (no *.model.json there)" : " (models: " + known + ")"));
}

namespace {

// `path` exists and hashes to `sha256`; errors say it is `what`.
Status VerifyPinnedFile(const std::string& path, const std::string& sha256,
                        const std::string& what) {
  auto hash = Sha256FileHex(path);
  if (!hash.ok()) {
    if (hash.status().code() == StatusCode::kNotFound) {
      return NotFound(path + ": " + what +
                      " is missing (run scripts/fetch-models, or copy it beside its manifest)");
    }
    return hash.status();
  }
  if (*hash != sha256) {
    return DataLoss(path + ": SHA-256 " + *hash + " is not the " + sha256 +
                    " its manifest pins (a different or damaged file; fetch it again)");
  }
  return Status::Ok();
}

}  // namespace

Status VerifyModelFile(const ModelManifest& m) {
  if (m.kind == ModelKind::kFusion) {
    FT_ASSIGN_OR_RETURN(const std::vector<ModelManifest> members, FusionMembers(m));
    for (const ModelManifest& member : members) FT_RETURN_IF_ERROR(VerifyModelFile(member));
    return Status::Ok();
  }
  FT_RETURN_IF_ERROR(VerifyPinnedFile(m.file_path(), m.sha256, "model file of '" + m.name + "'"));
  if (!m.projection) return Status::Ok();
  return VerifyPinnedFile(m.projection_path(), m.projection->sha256,
                          "projection file of '" + m.name + "'");
}

Expected<std::vector<float>> LoadProjection(const ModelManifest& m) {
  if (!m.projection) return InvalidArgument("model '" + m.name + "' has no projection");
  const std::string path = m.projection_path();
  const size_t want = static_cast<size_t>(m.dim) * static_cast<size_t>(m.dim);
  FT_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes,
                      ReadFileBytes(path, want * sizeof(float) + 1));
  if (bytes.size() != want * sizeof(float)) {
    return DataLoss(path + ": " + std::to_string(bytes.size()) + " bytes, expected " +
                    std::to_string(want * sizeof(float)) + " (" + std::to_string(m.dim) + " × " +
                    std::to_string(m.dim) + " float32)");
  }
  std::vector<float> p(want);
  for (size_t i = 0; i < want; ++i) {
    uint32_t u = 0;
    for (int b = 3; b >= 0; --b) u = (u << 8) | bytes[i * 4 + static_cast<size_t>(b)];
    p[i] = std::bit_cast<float>(u);
    if (!std::isfinite(p[i])) {
      return DataLoss(path + ": value " + std::to_string(i) + " (row " +
                      std::to_string(i / static_cast<size_t>(m.dim)) + ") is not finite");
    }
  }
  return p;
}

Expected<std::vector<ModelManifest>> FusionMembers(const ModelManifest& m) {
  if (m.kind != ModelKind::kFusion) {
    return InvalidArgument("model '" + m.name + "' is not a fusion model");
  }
  std::vector<ModelManifest> members;
  int dims = 0;
  for (const std::string& name : m.members) {
    auto member = FindModel(m.dir(), name);
    if (!member.ok()) {
      return member.status().WithContext("fusion model '" + m.name + "', member '" + name + "'");
    }
    if (member->name != name) {
      return InvalidArgument("fusion model '" + m.name + "': member '" + name +
                             "' must be named by its name, not its id ('" + member->name + "')");
    }
    if (member->kind == ModelKind::kFusion) {
      return InvalidArgument("fusion model '" + m.name + "': member '" + name +
                             "' is itself a fusion (members must be networks)");
    }
    dims += member->dim;
    members.push_back(std::move(*member));
  }
  if (dims != m.dim) {
    return InvalidArgument("fusion model '" + m.name + "': its members give " +
                           std::to_string(dims) + " numbers, its manifest says dim " +
                           std::to_string(m.dim));
  }
  return members;
}

}  // namespace facetrail::vision
