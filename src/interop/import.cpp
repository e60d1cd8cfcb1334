#include "interop/import.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "common/file.h"
#include "common/json_text.h"
#include "common/text.h"
#include "interop/niem_xml.h"

namespace facetrail::interop {
namespace {

const std::vector<std::string>& MappingKeys() {
  static const std::vector<std::string> kKeys = {
      "booking_number", "name", "dob", "sex", "race_ethnicity", "booking_date", "agency", "charge"};
  return kKeys;
}

std::string SourceName(const FieldSource& s) {
  if (!s.element.empty()) return "xml:" + s.element;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d.%03d", s.type, s.number);
  std::string out = buf;
  if (s.item > 0) out += "#" + std::to_string(s.item);
  return out;
}

// "2.018", "2.47", "2.047#2" → FieldSource.
// "xml:A/B" → an element source (path steps: XML names, no empty step).
std::optional<FieldSource> ParseFieldSource(const std::string& text) {
  FieldSource s;
  if (text.rfind("xml:", 0) == 0) {
    s.element = text.substr(4);
    if (s.element.empty() || s.element.size() > 256 || s.element.front() == '/' ||
        s.element.back() == '/' || s.element.find("//") != std::string::npos) {
      return std::nullopt;
    }
    for (char c : s.element) {
      const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                      c == '.' || c == '/';
      if (!ok) return std::nullopt;
    }
    return s;
  }
  const size_t dot = text.find('.');
  const size_t hash = text.find('#');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  auto number = [](std::string_view v, int max) -> std::optional<int> {
    if (v.empty() || v.size() > 3) return std::nullopt;
    int n = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n > max) return std::nullopt;
    return n;
  };
  const std::string_view all(text);
  auto type = number(all.substr(0, dot), 99);
  auto field = number(
      all.substr(dot + 1, hash == std::string::npos ? std::string::npos : hash - dot - 1), 998);
  if (!type || !field || (*type != 1 && *type != 2)) return std::nullopt;
  s.type = *type;
  s.number = *field;
  if (hash != std::string::npos) {
    auto item = number(all.substr(hash + 1), 99);
    if (!item) return std::nullopt;
    s.item = *item;
  }
  return s;
}

// The value a source gives in `record`, separators rendered readably; "" when absent.
std::string ValueOf(const Record& record, const FieldSource& s) {
  const TaggedField* f = record.Find(s.number);
  if (!f) return {};
  std::string out;
  for (const auto& sub : f->Subfields()) {
    std::string part;
    if (s.item > 0) {
      if (static_cast<size_t>(s.item) <= sub.size()) part = std::string(sub[s.item - 1]);
    } else {
      for (size_t i = 0; i < sub.size(); ++i) {
        if (i) part += ' ';
        part += sub[i];
      }
    }
    if (part.empty()) continue;
    if (!out.empty()) out += "; ";
    out += part;
  }
  return out;
}

std::optional<std::string> IsoFromYyyymmdd(const std::string& v) {
  if (v.size() != 8 ||
      !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const int y = std::stoi(v.substr(0, 4)), m = std::stoi(v.substr(4, 2)),
            d = std::stoi(v.substr(6, 2));
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1800 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return std::nullopt;
  return v.substr(0, 4) + "-" + v.substr(4, 2) + "-" + v.substr(6, 2);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const BookingMapping& DefaultEbtsMapping() {
  static const BookingMapping kMapping = [] {
    BookingMapping m;
    m.fields["booking_number"] = {{2, 9, 0, ""}};  // OCA: originating agency case number
    // NAM, DOB, SEX, RAC; in NIEM XML, the NIEM core elements of the person.
    m.fields["name"] = {{2, 18, 0, ""}, {2, 0, 0, "PersonName/PersonFullName"}};
    m.fields["dob"] = {{2, 22, 0, ""}, {2, 0, 0, "PersonBirthDate/Date"}};
    m.fields["sex"] = {{2, 24, 0, ""}, {2, 0, 0, "PersonSexCode"}};
    m.fields["race_ethnicity"] = {{2, 25, 0, ""}, {2, 0, 0, "PersonRaceCode"}};
    m.fields["booking_date"] = {{2, 45, 0, ""}};           // DOA: date of arrest
    m.fields["agency"] = {{2, 73, 0, ""}, {1, 8, 0, ""}};  // CRI, else ORI
    m.fields["charge"] = {{2, 47, 2, ""}};                 // ASL: arrest offense literal
    return m;
  }();
  return kMapping;
}

Expected<BookingMapping> ParseBookingMapping(const std::string& json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("booking mapping: not a JSON object");
  }
  BookingMapping m;
  for (const auto& [key, value] : j.items()) {
    if (key == "booking_number_from_control_number") {
      if (!value.is_boolean()) {
        return InvalidArgument(
            "booking mapping: booking_number_from_control_number: not a boolean");
      }
      m.booking_number_from_control_number = value.get<bool>();
    } else if (key == "fields") {
      if (!value.is_object()) return InvalidArgument("booking mapping: fields: not an object");
      for (const auto& [name, sources] : value.items()) {
        const auto& keys = MappingKeys();
        if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
          return InvalidArgument("booking mapping: fields: unknown booking field '" +
                                 SanitizeUtf8(name) + "'");
        }
        if (!sources.is_array()) {
          return InvalidArgument("booking mapping: fields." + name +
                                 ": not a list of field numbers");
        }
        std::vector<FieldSource> list;
        for (const auto& s : sources) {
          auto parsed = s.is_string() ? ParseFieldSource(s.get<std::string>()) : std::nullopt;
          if (!parsed) {
            return InvalidArgument(
                "booking mapping: fields." + name + ": '" +
                SanitizeUtf8(s.is_string() ? s.get<std::string>() : s.dump()) +
                "' is not a Type-1 or Type-2 field (\"2.018\", \"2.047#2\") or an XML "
                "element (\"xml:PersonName/PersonFullName\")");
          }
          list.push_back(*parsed);
        }
        m.fields[name] = std::move(list);
      }
    } else {
      return InvalidArgument("booking mapping: unknown key '" + SanitizeUtf8(key) + "'");
    }
  }
  return m;
}

Expected<BookingMapping> LoadBookingMapping(const std::string& path) {
  FT_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path, size_t{1} << 20));
  auto m = ParseBookingMapping(std::string(bytes.begin(), bytes.end()));
  if (!m.ok()) return m.status().WithContext(path);
  return m;
}

Expected<MappedBooking> MapBooking(
    const Transaction& t, const BookingMapping& mapping,
    const std::vector<std::pair<std::string, std::string>>& elements) {
  const Record* type2 = nullptr;
  for (const Record& r : t.records) {
    if (r.type == 2 && !type2) type2 = &r;
  }
  std::set<std::pair<int, int>> used;  // (record index, field number)
  std::set<size_t> used_elements;      // positions in `elements`
  std::map<std::string, std::string> values;
  for (const auto& [key, sources] : mapping.fields) {
    for (const FieldSource& s : sources) {
      if (!s.element.empty()) {
        // An XML element of the Type-2 record: its path ends with the source's steps.
        std::string v;
        for (size_t i = 0; i < elements.size(); ++i) {
          const std::string& path = elements[i].first;
          const bool match =
              path == s.element ||
              (path.size() > s.element.size() &&
               path.compare(path.size() - s.element.size(), std::string::npos, s.element) == 0 &&
               path[path.size() - s.element.size() - 1] == '/');
          if (!match || elements[i].second.empty()) continue;
          used_elements.insert(i);
          if (!v.empty()) v += "; ";
          v += elements[i].second;
        }
        if (v.empty() || values.count(key)) continue;
        const std::string where = "NIEM XML Type-2 element " + SourceName(s);
        if (key == "dob" || key == "booking_date") {
          std::string compact = v;
          if (v.size() == 10 && v[4] == '-' && v[7] == '-') {
            compact = v.substr(0, 4) + v.substr(5, 2) + v.substr(8, 2);
          }
          auto iso = IsoFromYyyymmdd(compact);
          if (!iso) {
            std::string message = where;
            message.append(" (").append(key).append("): '").append(SanitizeUtf8(v));
            return InvalidArgument(message.append("' is not a date"));
          }
          v = *iso;
        }
        Status valid = ValidateText(key, v, kMaxShortTextBytes);
        if (!valid.ok()) return valid.WithContext(where);
        values[key] = std::move(v);
        continue;
      }
      const Record* r = s.type == 1 ? &t.records[0] : type2;
      if (!r) continue;
      std::string v = ValueOf(*r, s);
      // A field mapped whole is not repeated in the origin; one mapped by an item is, so that
      // its other items are not lost.
      if (!v.empty() && s.item == 0) used.insert({r->index, s.number});
      if (v.empty() || values.count(key)) continue;
      if (key == "dob" || key == "booking_date") {
        auto iso = IsoFromYyyymmdd(v);
        if (!iso) {
          return InvalidArgument(r->Name() + " field " + SourceName(s) + " (" + key + "): '" +
                                 SanitizeUtf8(v) + "' is not a YYYYMMDD date");
        }
        v = *iso;
      }
      Status valid = ValidateText(key, v, kMaxShortTextBytes);
      if (!valid.ok()) return valid.WithContext(r->Name() + " field " + SourceName(s));
      values[key] = std::move(v);
    }
  }
  MappedBooking out;
  gallery::BookingRecord& b = out.booking;
  auto opt = [&](const char* key) -> std::optional<std::string> {
    auto it = values.find(key);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
  b.booking_number = opt("booking_number").value_or("");
  if (b.booking_number.empty()) {
    if (!mapping.booking_number_from_control_number) {
      return InvalidArgument("no booking number: none of its mapped fields is set");
    }
    if (t.control_number.empty()) {
      return InvalidArgument(
          "no booking number: no mapped field is set and the transaction has no control number "
          "(1.009)");
    }
    b.booking_number = t.originating_agency + "-" + t.control_number;
    Status valid = ValidateText("booking_number", b.booking_number, kMaxShortTextBytes);
    if (!valid.ok()) return valid.WithContext("record 0 (Type-1) fields 1.008 and 1.009");
  }
  b.name = opt("name").value_or("");
  b.dob = opt("dob");
  b.sex = opt("sex");
  b.race_ethnicity = opt("race_ethnicity");
  b.booking_date = opt("booking_date");
  b.agency = opt("agency");
  b.charge = opt("charge");
  for (const Record& r : t.records) {
    if (r.type != 2) continue;
    for (const TaggedField& f : r.fields) {
      if (f.number <= 2 || used.count({r.index, f.number})) continue;  // length and IDC
      char key[32];
      std::snprintf(key, sizeof key, "2.%03d", f.number);
      std::string name;
      if (&r != type2) name.append("record ").append(std::to_string(r.index)).append(" ");
      name += key;
      out.unmapped[name] = std::string(f.value);
    }
  }
  for (size_t i = 0; i < elements.size(); ++i) {
    if (used_elements.count(i)) continue;
    std::string& kept = out.unmapped["xml:" + elements[i].first];
    if (!kept.empty()) kept += "; ";
    kept += elements[i].second;
  }
  return out;
}

std::vector<gallery::PreparedPhoto> TransactionPhotos(const std::string& label,
                                                      std::span<const uint8_t> bytes,
                                                      const BookingMapping& mapping) {
  std::vector<gallery::PreparedPhoto> out;
  auto refuse = [&](const std::string& reason) {
    gallery::PreparedPhoto p;
    p.label = label;
    p.reject_reason = reason;
    out.push_back(std::move(p));
    return out;
  };
  // The NIEM XML form is rewritten as the equivalent traditional transaction (niem_xml.h), which
  // then takes exactly the traditional path; its Type-2 content comes as elements.
  std::optional<NiemPackage> xml;
  if (LooksLikeXml(bytes)) {
    auto package = ReadNiemXml(bytes);
    if (!package.ok()) return refuse("malformed transaction: " + package.status().message());
    xml = std::move(*package);
    bytes = xml->traditional;
  }
  const std::vector<std::pair<std::string, std::string>> no_elements;
  const auto& elements = xml ? xml->type2_elements : no_elements;
  auto parsed = ParseTransaction(bytes);
  if (!parsed.ok()) return refuse("malformed transaction: " + parsed.status().message());
  const Transaction& t = *parsed;
  std::vector<const Record*> faces;
  for (const Record& r : t.records) {
    if (r.type == 10) faces.push_back(&r);
  }
  if (faces.empty()) {
    return refuse("no face record: the transaction has no Type-10 record");
  }
  auto mapped = MapBooking(t, mapping, elements);
  if (!mapped.ok()) return refuse("malformed field: " + mapped.status().message());
  nlohmann::json transaction{{"version", t.version},
                             {"type_of_transaction", t.type_of_transaction},
                             {"date", t.date},
                             {"originating_agency", t.originating_agency},
                             {"destination_agency", t.destination_agency},
                             {"control_number", t.control_number}};
  for (const Record* r : faces) {
    gallery::PreparedPhoto p;
    p.label = label + " " + r->Name();
    if (xml && static_cast<size_t>(r->index) < xml->xml_positions.size()) {
      p.label += " = NIEM XML record " + std::to_string(xml->xml_positions[r->index]);
    }
    p.booking = mapped->booking;
    auto face = ReadFaceRecord(*r);
    if (!face.ok()) {
      // An SMT image (scar, mark, tattoo) is not a face: say so in its own words.
      const TaggedField* imt = r->Find(3);
      const bool smt = imt && imt->value != "FACE" && !imt->value.empty();
      p.reject_reason =
          (smt ? "not a face image: " : "malformed face record: ") + face.status().message();
      out.push_back(std::move(p));
      continue;
    }
    p.photo.bytes.assign(face->image.begin(), face->image.end());
    p.photo.capture_date = face->capture_date;
    p.photo.source = "ansi-nist:" + t.originating_agency + "/" + t.control_number + "/10." +
                     std::to_string(face->idc);
    p.photo.searchable = face->searchable();
    if (!p.photo.searchable) {
      std::string pose(PoseName(face->pose));
      if (face->pose_offset_deg) pose += " " + std::to_string(*face->pose_offset_deg) + " deg";
      p.photo.note = "not searched: " + pose + " view (10.020)";
    }
    nlohmann::json face_json{{"record", face->record_index},
                             {"idc", face->idc},
                             {"image_type", face->image_type},
                             {"source_agency", face->source_agency},
                             {"compression", face->compression},
                             {"colour_space", face->colour_space},
                             {"pose", PoseName(face->pose)},
                             {"width", face->width},
                             {"height", face->height}};
    if (face->sap) face_json["sap"] = *face->sap;
    if (face->pose_offset_deg) face_json["pose_offset_deg"] = *face->pose_offset_deg;
    nlohmann::json origin{{"format", xml ? "ANSI/NIST-ITL NIEM XML" : "ANSI/NIST-ITL"},
                          {"file", label},
                          {"transaction", transaction},
                          {"face", face_json},
                          {"unmapped", mapped->unmapped}};
    p.photo.origin = JsonText(origin);
    out.push_back(std::move(p));
  }
  return out;
}

Expected<std::vector<std::string>> ListTransactionFiles(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  static const std::set<std::string> kExtensions = {".an2",  ".eft", ".ebts",
                                                    ".nist", ".int", ".xml"};
  std::vector<std::string> out;
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) return NotFound(path + ": no such file or folder");
    if (!fs::is_directory(st)) {
      out.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_ec;
      if (!it->is_regular_file(type_ec)) continue;
      if (kExtensions.count(Lower(it->path().extension().string()))) {
        found.push_back(it->path().string());
      }
    }
    if (ec) return IoError(path + ": cannot list the folder: " + ec.message());
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

namespace {

class AnsiNistSource final : public gallery::PhotoSource {
 public:
  AnsiNistSource(std::vector<std::string> files, BookingMapping mapping, SourceOptions options)
      : files_(std::move(files)), mapping_(std::move(mapping)), options_(options) {}

  Expected<bool> Next(gallery::PreparedPhoto* photo) override {
    while (pending_.empty()) {
      if (next_file_ >= files_.size()) return false;
      Load(files_[next_file_++], &pending_);
      std::reverse(pending_.begin(), pending_.end());
    }
    *photo = std::move(pending_.back());
    pending_.pop_back();
    return true;
  }

  int64_t Total() override {
    if (!total_) {
      int64_t n = 0;
      for (const std::string& f : files_) {
        std::vector<gallery::PreparedPhoto> photos;
        Load(f, &photos);
        n += static_cast<int64_t>(photos.size());
      }
      total_ = n;
    }
    return *total_;
  }

  std::string Name() const override {
    return files_.size() == 1
               ? files_[0]
               : "ANSI/NIST-ITL import of " + std::to_string(files_.size()) + " files";
  }

 private:
  void Load(const std::string& path, std::vector<gallery::PreparedPhoto>* out) const {
    auto bytes = ReadFileBytes(path, options_.max_file_bytes);
    if (!bytes.ok()) {
      gallery::PreparedPhoto p;
      p.label = path;
      p.reject_reason = "unreadable file: " + bytes.status().message();
      out->push_back(std::move(p));
      return;
    }
    *out = TransactionPhotos(path, *bytes, mapping_);
  }

  const std::vector<std::string> files_;
  const BookingMapping mapping_;
  const SourceOptions options_;
  size_t next_file_ = 0;
  std::vector<gallery::PreparedPhoto> pending_;  // reversed: next at the back
  std::optional<int64_t> total_;
};

}  // namespace

std::unique_ptr<gallery::PhotoSource> MakeAnsiNistSource(std::vector<std::string> files,
                                                         BookingMapping mapping,
                                                         SourceOptions options) {
  return std::make_unique<AnsiNistSource>(std::move(files), std::move(mapping), options);
}

// ---- Export ------------------------------------------------------------------------------------

namespace {

std::string Yyyymmdd(const std::string& iso) {
  std::string out;
  for (char c : iso) {
    if (c != '-') out += c;
  }
  return out;
}

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int> JsonInt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

std::string PoseLetter(const std::string& name) {
  for (const auto& [pose, letter] :
       std::vector<std::pair<Pose, std::string>>{{Pose::kFrontal, "F"},
                                                 {Pose::kRightProfile, "R"},
                                                 {Pose::kLeftProfile, "L"},
                                                 {Pose::kAngled, "A"},
                                                 {Pose::kDetermined3d, "D"}}) {
    if (PoseName(pose) == name) return letter;
  }
  return "";
}

}  // namespace

Expected<std::vector<uint8_t>> ExportTransaction(const gallery::BookingRecord& booking,
                                                 const std::vector<PhotoToExport>& photos,
                                                 const BookingMapping& mapping) {
  if (photos.empty()) {
    return InvalidArgument("booking " + booking.booking_number + ": no photo to export");
  }
  // The first photo imported from a transaction gives the header and the unmapped fields.
  nlohmann::json first;
  for (const PhotoToExport& p : photos) {
    if (p.info.origin.empty()) continue;
    auto j = nlohmann::json::parse(p.info.origin, nullptr, false);
    if (j.is_object() && j.value("format", "") == "ANSI/NIST-ITL") {
      first = std::move(j);
      break;
    }
  }
  const nlohmann::json transaction = first.is_object()
                                         ? first.value("transaction", nlohmann::json::object())
                                         : nlohmann::json::object();
  std::string version = JsonString(transaction, "version");
  if (version.empty()) version = "0500";
  std::string tot = JsonString(transaction, "type_of_transaction");
  if (tot.empty()) tot = "CAR";
  std::string ori = JsonString(transaction, "originating_agency");
  if (ori.empty()) ori = booking.agency.value_or("UNKNOWN");
  std::string tcn = JsonString(transaction, "control_number");
  if (tcn.empty()) tcn = booking.booking_number;
  std::vector<std::pair<int, std::string>> type1 = {
      {4, tot},
      {5, JsonString(transaction, "date")},
      {7, JsonString(transaction, "destination_agency")},
      {8, ori},
      {9, tcn},
      {11, "00.00"},
      {12, "00.00"}};
  if (type1[1].second.empty()) type1[1].second = "19700101";
  if (type1[2].second.empty()) type1[2].second = ori;

  // Type-2: the unmapped fields as read, then each booking field where the mapping reads it.
  std::map<int, std::string> type2;
  if (first.is_object()) {
    const nlohmann::json unmapped = first.value("unmapped", nlohmann::json::object());
    for (const auto& [key, value] : unmapped.items()) {
      // "2.005"; fields of further Type-2 records ("record 3 2.005") are not written back.
      if (key.size() != 5 || key.compare(0, 2, "2.") != 0 || !value.is_string()) continue;
      const int number = std::stoi(key.substr(2));
      type2[number] = value.get<std::string>();
    }
  }
  auto put = [&](const char* key, const std::optional<std::string>& value) {
    if (!value || value->empty()) return;
    auto it = mapping.fields.find(key);
    if (it == mapping.fields.end()) return;
    for (const FieldSource& s : it->second) {
      if (s.type != 2 || !s.element.empty()) continue;
      if (type2.count(s.number)) return;  // kept whole among the unmapped fields
      std::string v = *value;
      if (std::string(key) == "dob" || std::string(key) == "booking_date") v = Yyyymmdd(v);
      // Item n of one subfield: n-1 empty items before it.
      if (s.item > 0) v.insert(0, static_cast<size_t>(s.item - 1), kUS);
      type2[s.number] = v;
      return;
    }
  };
  put("booking_number", booking.booking_number);
  put("name", booking.name);
  put("dob", booking.dob);
  put("sex", booking.sex);
  put("race_ethnicity", booking.race_ethnicity);
  put("booking_date", booking.booking_date);
  put("agency", booking.agency);
  put("charge", booking.charge);
  std::vector<nlohmann::json> faces;
  for (const PhotoToExport& p : photos) {
    nlohmann::json face;
    if (!p.info.origin.empty()) {
      auto j = nlohmann::json::parse(p.info.origin, nullptr, false);
      if (j.is_object()) face = j.value("face", nlohmann::json::object());
    }
    faces.push_back(std::move(face));
  }
  // Each photo keeps its own IDC when free, so a re-import keys it as the original import did;
  // the Type-2 record takes the smallest IDC left.
  std::set<int> idcs_used;
  std::vector<int> photo_idcs;
  for (const nlohmann::json& face : faces) {
    int idc = JsonInt(face, "idc").value_or(1);
    if (idc < 0 || idc > 99) idc = 1;
    while (idcs_used.count(idc) && idc < 99) ++idc;
    if (idcs_used.count(idc)) return InvalidArgument("more than 99 records to export");
    idcs_used.insert(idc);
    photo_idcs.push_back(idc);
  }
  std::vector<RecordToWrite> records;
  RecordToWrite r2;
  r2.type = 2;
  while (idcs_used.count(r2.idc)) ++r2.idc;
  r2.fields.assign(type2.begin(), type2.end());
  records.push_back(std::move(r2));

  for (size_t i = 0; i < photos.size(); ++i) {
    const PhotoToExport& p = photos[i];
    const nlohmann::json& face = faces[i];
    RecordToWrite r;
    r.type = 10;
    r.idc = photo_idcs[i];
    std::string cga = JsonString(face, "compression");
    const std::span<const uint8_t> b(p.bytes);
    if (cga.empty()) {
      if (b.size() > 3 && b[0] == 0xFF && b[1] == 0xD8) {
        cga = "JPEGB";
      } else if (b.size() > 4 && b[0] == 0x89 && b[1] == 'P') {
        cga = "PNG";
      } else {
        return InvalidArgument("photo " + std::to_string(p.info.id) +
                               ": neither JPEG nor PNG; not exported");
      }
    }
    auto add = [&](int n, const std::string& v) {
      if (!v.empty()) r.fields.emplace_back(n, v);
    };
    add(3, "FACE");
    add(4, JsonString(face, "source_agency").empty() ? ori : JsonString(face, "source_agency"));
    add(5, Yyyymmdd(p.info.capture_date.value_or("")));
    const auto width = JsonInt(face, "width").value_or(0);
    const auto height = JsonInt(face, "height").value_or(0);
    add(6, width > 0 ? std::to_string(width) : "");
    add(7, height > 0 ? std::to_string(height) : "");
    add(11, cga);
    add(12, JsonString(face, "colour_space"));
    if (auto sap = JsonInt(face, "sap")) add(13, std::to_string(*sap));
    add(20, PoseLetter(JsonString(face, "pose")));
    if (auto poa = JsonInt(face, "pose_offset_deg")) add(21, std::to_string(*poa));
    if (face.is_null() && !p.info.searchable) add(20, "R");  // a profile view without attributes
    r.image = p.bytes;
    records.push_back(std::move(r));
  }
  return WriteTransaction(version, type1, records);
}

}  // namespace facetrail::interop
