// Readers for the face-api.js reference's results (run.mjs JSON lines, pair distance CSV).
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/evaluation.h"
#include "eval/internal/csv.h"

namespace facetrail::eval {
namespace {

namespace fs = std::filesystem;

// face-api.js's usual same-person threshold on Euclidean distance (run.mjs --threshold default).
constexpr double kFaceApiThreshold = 0.6;

std::string Canonical(const fs::path& p) {
  std::error_code ec;
  const fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal().string() : c.string();
}

// Maps a path written by another program to a dataset image index, trying it as written, then
// resolved against the current folder, `base_dir` and the dataset root.
class PathMatcher {
 public:
  PathMatcher(const Dataset& d, std::string base_dir) : d_(d), base_dir_(std::move(base_dir)) {
    for (size_t i = 0; i < d.images.size(); ++i) by_absolute_[Canonical(d.AbsolutePath(i))] = i;
  }
  std::optional<size_t> Find(const std::string& p) const {
    if (const auto it = d_.index_by_path.find(p); it != d_.index_by_path.end()) return it->second;
    const fs::path path(p);
    std::vector<fs::path> tries;
    if (path.is_absolute()) {
      tries.push_back(path);
    } else {
      tries = {fs::current_path() / path, fs::path(base_dir_) / path, fs::path(d_.root) / path};
    }
    for (const fs::path& t : tries) {
      if (const auto it = by_absolute_.find(Canonical(t)); it != by_absolute_.end()) {
        return it->second;
      }
    }
    return std::nullopt;
  }

 private:
  const Dataset& d_;
  std::string base_dir_;
  std::map<std::string, size_t> by_absolute_;
};

std::string ParentDir(const std::string& path) {
  return fs::path(Canonical(path)).parent_path().string();
}

}  // namespace

double CompareVectors(const std::vector<double>& a, const std::vector<double>& b, ScoreKind kind) {
  if (a.empty() || b.empty() || a.size() != b.size()) return kMissingScore;
  double acc = 0;
  if (kind == ScoreKind::kDotProduct) {
    for (size_t i = 0; i < a.size(); ++i) acc += a[i] * b[i];
    return acc;
  }
  // Summed in index order like run.mjs's l2(), so distances agree to the last bit.
  for (size_t i = 0; i < a.size(); ++i) acc += (a[i] - b[i]) * (a[i] - b[i]);
  return -std::sqrt(acc);
}

Expected<SystemResults> ReadFaceApiJsonl(const std::string& path, const Dataset& dataset) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": cannot open the reference results");
  SystemResults r;
  r.name = "face-api.js (reference)";
  r.description = "run.mjs JSON lines " + path + "; face = faces[0] (highest detector score)";
  r.kind = ScoreKind::kNegativeEuclidean;
  r.fixed_threshold = -kFaceApiThreshold;
  r.image_vectors.assign(dataset.images.size(), {});
  const PathMatcher matcher(dataset, ParentDir(path));
  std::string line;
  int line_no = 0;
  size_t num_image_lines = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + " line " + std::to_string(line_no);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return InvalidArgument(where + ": not a JSON object");
    if (j.value("type", "") != "image") continue;
    ++num_image_lines;
    if (!j.contains("path") || !j["path"].is_string()) {
      return InvalidArgument(where + ": an image line needs a string \"path\"");
    }
    if (j.contains("error")) continue;  // run.mjs ignores failed images too
    const std::optional<size_t> index = matcher.Find(j["path"].get<std::string>());
    if (!index) continue;  // results may cover more images than the dataset
    std::vector<double>& v = r.image_vectors[*index];
    v.clear();
    if (!j.contains("faces") || !j["faces"].is_array()) {
      return InvalidArgument(where + ": an image line needs a \"faces\" array");
    }
    if (j["faces"].empty()) continue;
    const nlohmann::json& face = j["faces"][0];
    if (!face.is_object() || !face.contains("descriptor")) continue;  // --no-descriptor output
    const nlohmann::json& d = face["descriptor"];
    if (!d.is_array() || d.empty()) {
      return InvalidArgument(where + ", faces[0].descriptor: not a non-empty array");
    }
    for (const nlohmann::json& x : d) {
      if (!x.is_number()) {
        return InvalidArgument(where + ", faces[0].descriptor: element is not a number");
      }
      v.push_back(x.get<double>());
    }
  }
  if (num_image_lines == 0) return InvalidArgument(path + ": no \"type\":\"image\" lines");
  return r;
}

Expected<SystemResults> ReadPairDistancesCsv(const std::string& path, const Dataset& dataset) {
  FT_ASSIGN_OR_RETURN(internal::CsvTable t, internal::ReadCsvFile(path));
  FT_RETURN_IF_ERROR(internal::RequireColumns(t, {"path_a", "path_b", "same", "distance"}));
  std::map<std::pair<size_t, size_t>, size_t> pair_index;
  for (size_t k = 0; k < dataset.pairs.size(); ++k) {
    pair_index[{dataset.pairs[k].a, dataset.pairs[k].b}] = k;
  }
  SystemResults r;
  r.name = "face-api.js (reference)";
  r.description = "pair distances " + path;
  r.kind = ScoreKind::kNegativeEuclidean;
  r.fixed_threshold = -kFaceApiThreshold;
  r.pair_scores.assign(dataset.pairs.size(), kMissingScore);
  const PathMatcher matcher(dataset, ParentDir(path));
  const auto ac = static_cast<size_t>(t.ColumnIndex("path_a"));
  const auto bc = static_cast<size_t>(t.ColumnIndex("path_b"));
  const auto sc = static_cast<size_t>(t.ColumnIndex("same"));
  const auto dc = static_cast<size_t>(t.ColumnIndex("distance"));
  for (const internal::CsvRow& row : t.rows) {
    const std::optional<size_t> a = matcher.Find(row.fields[ac]);
    const std::optional<size_t> b = matcher.Find(row.fields[bc]);
    if (!a) return t.RowError(row, "path_a", "'" + row.fields[ac] + "' is not in the dataset");
    if (!b) return t.RowError(row, "path_b", "'" + row.fields[bc] + "' is not in the dataset");
    const auto it = pair_index.find({*a, *b});
    if (it == pair_index.end()) return t.RowError(row, "", "this pair is not in pairs.csv");
    const std::string& same = row.fields[sc];
    const bool genuine = same == "1" || same == "true";
    if (genuine != dataset.pairs[it->second].genuine) {
      return t.RowError(row, "same", "'" + same + "' disagrees with pairs.csv");
    }
    const std::string& ds = row.fields[dc];
    if (ds.empty()) continue;  // no face in one of the images
    double dist = 0;
    const auto [end, ec] = std::from_chars(ds.data(), ds.data() + ds.size(), dist);
    if (ec != std::errc() || end != ds.data() + ds.size() || !std::isfinite(dist) || dist < 0) {
      return t.RowError(row, "distance", "'" + ds + "' is not a non-negative number");
    }
    r.pair_scores[it->second] = -dist;
  }
  return r;
}

}  // namespace facetrail::eval
