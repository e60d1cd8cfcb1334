// Labelled folders: identities.csv, pairs.csv, folds.csv and group CSVs.
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

#include "eval/evaluation.h"
#include "eval/internal/csv.h"

namespace facetrail::eval {
namespace {

using internal::CsvRow;
using internal::CsvTable;

// "fold3" or "3" → 3; anything else → nullopt.
std::optional<int> ParseFold(std::string_view s) {
  if (s.substr(0, 4) == "fold") s.remove_prefix(4);
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < 0) return std::nullopt;
  return v;
}

std::optional<bool> ParseSame(std::string_view s) {
  if (s == "1" || s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "0" || s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

Status ReadIdentities(const std::string& path, Dataset& d) {
  FT_ASSIGN_OR_RETURN(CsvTable t, internal::ReadCsvFile(path));
  FT_RETURN_IF_ERROR(internal::RequireColumns(t, {"path", "identity"}));
  const auto pc = static_cast<size_t>(t.ColumnIndex("path"));
  const auto ic = static_cast<size_t>(t.ColumnIndex("identity"));
  for (const CsvRow& row : t.rows) {
    const std::string& p = row.fields[pc];
    const std::string& id = row.fields[ic];
    if (p.empty()) return t.RowError(row, "path", "empty");
    if (id.empty()) return t.RowError(row, "identity", "empty");
    if (!d.index_by_path.emplace(p, d.images.size()).second) {
      return t.RowError(row, "path", "'" + p + "' is listed twice");
    }
    d.images.push_back({p, id});
  }
  if (d.images.empty()) return InvalidArgument(path + ": no images listed");
  return Status::Ok();
}

// folds.csv is optional and only lends pairs a fold: rows whose role is not a fold (e.g.
// "distractor") are counted in a warning, and a file that cannot be read at all is ignored with a
// warning. Never an error.
std::map<std::string, int> ReadFolds(const std::string& path, std::vector<std::string>& warnings) {
  std::map<std::string, int> folds;
  Expected<CsvTable> t = internal::ReadCsvFile(path);
  Status columns = t.ok() ? internal::RequireColumns(*t, {"identity", "role"}) : t.status();
  if (!columns.ok()) {
    warnings.push_back(columns.message() + "; folds.csv ignored (pairs get fold 0)");
    return folds;
  }
  const auto ic = static_cast<size_t>(t->ColumnIndex("identity"));
  const auto rc = static_cast<size_t>(t->ColumnIndex("role"));
  std::map<std::string, size_t> other_roles;
  for (const CsvRow& row : t->rows) {
    const std::optional<int> f = ParseFold(row.fields[rc]);
    if (f) {
      folds[row.fields[ic]] = *f;
    } else {
      ++other_roles[row.fields[rc]];
    }
  }
  for (const auto& [role, count] : other_roles) {
    std::string w = path;
    w += ": " + std::to_string(count) + " rows with role '";
    w += role;
    w += "', not a fold (foldN or N): those identities get no fold";
    warnings.push_back(std::move(w));
  }
  return folds;
}

Status ReadPairs(const std::string& path, const std::map<std::string, int>& folds, Dataset& d) {
  FT_ASSIGN_OR_RETURN(CsvTable t, internal::ReadCsvFile(path));
  FT_RETURN_IF_ERROR(internal::RequireColumns(t, {"path_a", "path_b", "same"}));
  const auto ac = static_cast<size_t>(t.ColumnIndex("path_a"));
  const auto bc = static_cast<size_t>(t.ColumnIndex("path_b"));
  const auto sc = static_cast<size_t>(t.ColumnIndex("same"));
  const int fc = t.ColumnIndex("fold");
  for (const CsvRow& row : t.rows) {
    LabelledPair pair;
    for (const auto& [col, name, out] :
         {std::tuple{ac, "path_a", &pair.a}, {bc, "path_b", &pair.b}}) {
      const auto it = d.index_by_path.find(row.fields[col]);
      if (it == d.index_by_path.end()) {
        return t.RowError(row, name, "'" + row.fields[col] + "' is not in identities.csv");
      }
      *out = it->second;
    }
    const std::optional<bool> same = ParseSame(row.fields[sc]);
    if (!same) return t.RowError(row, "same", "'" + row.fields[sc] + "' is not 1/0/true/false");
    pair.genuine = *same;
    const bool labels_agree = (d.images[pair.a].identity == d.images[pair.b].identity) == *same;
    if (!labels_agree) {
      return t.RowError(row, "same",
                        "says " + row.fields[sc] + " but identities.csv gives '" +
                            d.images[pair.a].identity + "' and '" + d.images[pair.b].identity +
                            "'");
    }
    if (fc >= 0) {
      const std::optional<int> f = ParseFold(row.fields[static_cast<size_t>(fc)]);
      if (!f) {
        return t.RowError(row, "fold",
                          "'" + row.fields[static_cast<size_t>(fc)] + "' is not a fold number");
      }
      pair.fold = *f;
    } else if (const auto it = folds.find(d.images[pair.a].identity); it != folds.end()) {
      pair.fold = it->second;
    }
    d.pairs.push_back(pair);
  }
  return Status::Ok();
}

}  // namespace

Expected<Dataset> LoadDataset(const std::string& dir) {
  namespace fs = std::filesystem;
  Dataset d;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::path(dir), ec);
  if (ec || !fs::is_directory(root)) return NotFound(dir + ": not a folder");
  d.root = root.string();
  FT_RETURN_IF_ERROR(ReadIdentities(d.root + "/identities.csv", d));
  std::map<std::string, int> folds;
  if (fs::exists(d.root + "/folds.csv")) {
    folds = ReadFolds(d.root + "/folds.csv", d.warnings);
  }
  if (fs::exists(d.root + "/pairs.csv")) {
    FT_RETURN_IF_ERROR(ReadPairs(d.root + "/pairs.csv", folds, d));
  }
  return d;
}

Status LoadGroups(const std::string& csv_path, Dataset& dataset, size_t* num_unmatched) {
  FT_ASSIGN_OR_RETURN(CsvTable t, internal::ReadCsvFile(csv_path));
  if (t.header.size() < 2 || (t.header[0] != "path" && t.header[0] != "identity")) {
    return InvalidArgument(csv_path +
                           " line 1: the first column must be 'path' or 'identity' and at least "
                           "one group column must follow");
  }
  const bool by_path = t.header[0] == "path";
  std::map<std::string, std::vector<size_t>> by_identity;
  if (!by_path) {
    for (size_t i = 0; i < dataset.images.size(); ++i) {
      by_identity[dataset.images[i].identity].push_back(i);
    }
  }
  // Per column: image → label, then labels → indices.
  const size_t num_columns = t.header.size() - 1;
  std::vector<std::vector<std::string>> labels(num_columns,
                                               std::vector<std::string>(dataset.images.size()));
  size_t unmatched = 0;
  for (const CsvRow& row : t.rows) {
    std::vector<size_t> images;
    if (by_path) {
      if (const auto it = dataset.index_by_path.find(row.fields[0]);
          it != dataset.index_by_path.end()) {
        images.push_back(it->second);
      }
    } else if (const auto it = by_identity.find(row.fields[0]); it != by_identity.end()) {
      images = it->second;
    }
    if (images.empty()) {
      ++unmatched;
      continue;
    }
    for (size_t c = 0; c < num_columns; ++c) {
      for (size_t i : images) labels[c][i] = row.fields[c + 1];
    }
  }
  for (size_t c = 0; c < num_columns; ++c) {
    if (t.header[c + 1].empty()) return InvalidArgument(csv_path + " line 1: empty column name");
    GroupColumn g;
    g.name = t.header[c + 1];
    std::set<std::string> values;
    for (const std::string& l : labels[c]) {
      if (!l.empty()) values.insert(l);
    }
    g.values.assign(values.begin(), values.end());
    g.image_group.resize(dataset.images.size(), -1);
    for (size_t i = 0; i < dataset.images.size(); ++i) {
      if (labels[c][i].empty()) continue;
      g.image_group[i] = static_cast<int>(
          std::lower_bound(g.values.begin(), g.values.end(), labels[c][i]) - g.values.begin());
    }
    dataset.groups.push_back(std::move(g));
  }
  if (num_unmatched) *num_unmatched = unmatched;
  return Status::Ok();
}

}  // namespace facetrail::eval
