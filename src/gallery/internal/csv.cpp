#include "gallery/internal/csv.h"

#include "common/file.h"

namespace facetrail::gallery::internal {

Expected<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path) {
  FT_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path));
  return FromString(std::string(bytes.begin(), bytes.end()));
}

std::unique_ptr<CsvReader> CsvReader::FromString(std::string text) {
  auto r = std::unique_ptr<CsvReader>(new CsvReader(std::move(text)));
  if (r->text_.starts_with("\xEF\xBB\xBF")) r->pos_ = 3;
  return r;
}

Expected<bool> CsvReader::Next(std::vector<std::string>* fields, int* line) {
  fields->clear();
  const std::string& t = text_;
  const size_t n = t.size();
  // Skip blank lines.
  while (pos_ < n && (t[pos_] == '\n' || t[pos_] == '\r')) {
    if (t[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= n) return false;
  *line = line_;
  const int first_line = line_;
  auto fail_rest_of_line = [&](const std::string& why) -> Status {
    while (pos_ < n && t[pos_] != '\n') ++pos_;
    return InvalidArgument("line " + std::to_string(first_line) + ": " + why);
  };
  std::string field;
  for (;;) {
    const size_t column = fields->size() + 1;
    field.clear();
    if (pos_ < n && t[pos_] == '"') {
      ++pos_;
      const int quote_line = line_;
      for (;;) {
        if (pos_ >= n) {
          return InvalidArgument("line " + std::to_string(quote_line) + ", field " +
                                 std::to_string(column) + ": quote never closed");
        }
        char c = t[pos_++];
        if (c == '"') {
          if (pos_ < n && t[pos_] == '"') {
            field += '"';
            ++pos_;
            continue;
          }
          break;
        }
        if (c == '\n') ++line_;
        field += c;
      }
      if (pos_ < n && t[pos_] != ',' && t[pos_] != '\n' && t[pos_] != '\r') {
        return fail_rest_of_line("field " + std::to_string(column) + ": text after closing quote");
      }
    } else {
      while (pos_ < n && t[pos_] != ',' && t[pos_] != '\n' && t[pos_] != '\r') {
        if (t[pos_] == '"') {
          return fail_rest_of_line("field " + std::to_string(column) +
                                   ": quote inside an unquoted field");
        }
        field += t[pos_++];
      }
    }
    fields->push_back(field);
    if (pos_ >= n) return true;
    if (t[pos_] == ',') {
      ++pos_;
      continue;
    }
    if (t[pos_] == '\r') ++pos_;
    if (pos_ < n && t[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
    return true;
  }
}

}  // namespace facetrail::gallery::internal
