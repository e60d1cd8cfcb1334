// Booking manifests: a CSV file whose header names its columns.
//   required: booking_number, photo (alias photo_path, image)
//   optional: name, dob, sex, race_ethnicity (alias race), booking_date, agency, charge,
//             capture_date
// Column names are case-insensitive; an unknown column fails the whole manifest (a typo would
// otherwise silently drop a field). Dates are YYYY-MM-DD and must exist on the calendar.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "gallery/gallery_store.h"
#include "gallery/internal/csv.h"

namespace facetrail::gallery::internal {

struct ManifestRow {
  int line = 0;
  BookingRecord booking;
  std::string photo;  // as written in the manifest
  std::optional<std::string> capture_date;
};

// A manifest line that could not be turned into a row.
struct ManifestError {
  int line = 0;
  std::string booking_number;  // when it could be read
  std::string photo;
  std::string reason;  // "malformed field: column dob: '1990-02-31' is not a date"
};

class ManifestReader {
 public:
  // Reads and checks the header. kInvalidArgument names the bad or missing column.
  static Expected<ManifestReader> Open(std::unique_ptr<CsvReader> csv, const std::string& name);
  // Next row, or an error for that line (then call again), or false at the end.
  // Exactly one of *row / *error is filled when true is returned.
  Expected<bool> Next(ManifestRow* row, std::optional<ManifestError>* error);

 private:
  ManifestReader() = default;
  std::unique_ptr<CsvReader> csv_;
  std::string name_;
  std::vector<int> column_of_field_;  // csv column → field id
  size_t num_columns_ = 0;
};

// Checks an ISO date "YYYY-MM-DD" that exists on the calendar.
bool IsIsoDate(const std::string& s);

}  // namespace facetrail::gallery::internal
