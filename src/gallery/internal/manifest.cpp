#include "gallery/internal/manifest.h"

#include <algorithm>
#include <cctype>

#include "common/text.h"

namespace facetrail::gallery::internal {
namespace {

enum Field {
  kBookingNumber,
  kPhoto,
  kName,
  kDob,
  kSex,
  kRace,
  kBookingDate,
  kAgency,
  kCharge,
  kCaptureDate,
  kNumFields
};
constexpr const char* kFieldNames[kNumFields] = {
    "booking_number", "photo",        "name",   "dob",    "sex",
    "race_ethnicity", "booking_date", "agency", "charge", "capture_date"};

int FieldOf(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.front()))) name.erase(0, 1);
  if (name == "photo_path" || name == "image" || name == "photo") return kPhoto;
  if (name == "race") return kRace;
  for (int f = 0; f < kNumFields; ++f) {
    if (name == kFieldNames[f]) return f;
  }
  return -1;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

bool IsIsoDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  const int y = std::stoi(s.substr(0, 4)), m = std::stoi(s.substr(5, 2)),
            d = std::stoi(s.substr(8, 2));
  if (y < 1800 || m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

Expected<ManifestReader> ManifestReader::Open(std::unique_ptr<CsvReader> csv,
                                              const std::string& name) {
  ManifestReader r;
  r.csv_ = std::move(csv);
  r.name_ = name;
  std::vector<std::string> header;
  int line = 0;
  auto got = r.csv_->Next(&header, &line);
  if (!got.ok()) return got.status().WithContext(name + " header");
  if (!*got) return InvalidArgument(name + ": empty manifest (no header line)");
  bool seen[kNumFields] = {};
  for (size_t c = 0; c < header.size(); ++c) {
    int f = FieldOf(header[c]);
    if (f < 0) {
      return InvalidArgument(name + " line " + std::to_string(line) + ", column " +
                             std::to_string(c + 1) + ": unknown column '" + header[c] + "'");
    }
    if (seen[f]) {
      return InvalidArgument(name + " line " + std::to_string(line) + ": column '" +
                             kFieldNames[f] + "' appears twice");
    }
    seen[f] = true;
    r.column_of_field_.push_back(f);
  }
  for (int f : {kBookingNumber, kPhoto}) {
    if (!seen[f]) {
      return InvalidArgument(name + ": the header has no '" + std::string(kFieldNames[f]) +
                             "' column");
    }
  }
  r.num_columns_ = header.size();
  return r;
}

Expected<bool> ManifestReader::Next(ManifestRow* row, std::optional<ManifestError>* error) {
  error->reset();
  std::vector<std::string> fields;
  int line = 0;
  auto got = csv_->Next(&fields, &line);
  if (!got.ok()) {
    // The CSV message starts with "line N"; keep it whole as the reason.
    const std::string& m = got.status().message();
    int at = 0;
    if (m.starts_with("line ")) at = std::atoi(m.c_str() + 5);
    *error = ManifestError{at, "", "", "malformed CSV: " + m};
    return true;
  }
  if (!*got) return false;
  *row = ManifestRow{};
  row->line = line;
  std::string values[kNumFields];
  for (size_t c = 0; c < fields.size() && c < num_columns_; ++c) {
    values[column_of_field_[c]] = Trim(fields[c]);
  }
  auto fail = [&](const std::string& why) {
    // The rejects file shows what was read, made printable: never bytes that are not UTF-8.
    auto shown = [](const std::string& v) {
      return SanitizeUtf8(std::string_view(v).substr(0, kMaxManifestFieldBytes));
    };
    *error = ManifestError{line, shown(values[kBookingNumber]), shown(values[kPhoto]),
                           "malformed field: " + why};
    return true;
  };
  if (fields.size() != num_columns_) {
    return fail(std::to_string(fields.size()) + " fields, the header has " +
                std::to_string(num_columns_));
  }
  for (int f = 0; f < kNumFields; ++f) {
    // UTF-8, no control characters, at most kMaxManifestFieldBytes (common/text.h).
    Status text = ValidateText(kFieldNames[f], values[f], kMaxManifestFieldBytes);
    if (!text.ok()) return fail("column " + text.message());
  }
  if (values[kBookingNumber].empty()) return fail("column booking_number: empty");
  if (values[kPhoto].empty()) return fail("column photo: empty");
  for (int f : {kDob, kBookingDate, kCaptureDate}) {
    if (!values[f].empty() && !IsIsoDate(values[f])) {
      return fail(std::string("column ") + kFieldNames[f] + ": '" + values[f] +
                  "' is not a date (YYYY-MM-DD)");
    }
  }
  auto opt = [&](int f) {
    return values[f].empty() ? std::nullopt : std::optional<std::string>(values[f]);
  };
  row->booking.booking_number = values[kBookingNumber];
  row->booking.name = values[kName];
  row->booking.dob = opt(kDob);
  row->booking.sex = opt(kSex);
  row->booking.race_ethnicity = opt(kRace);
  row->booking.booking_date = opt(kBookingDate);
  row->booking.agency = opt(kAgency);
  row->booking.charge = opt(kCharge);
  row->photo = values[kPhoto];
  row->capture_date = opt(kCaptureDate);
  return true;
}

}  // namespace facetrail::gallery::internal
