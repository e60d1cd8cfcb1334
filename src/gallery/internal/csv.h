// A small RFC 4180 CSV reader (cells are written with common/text.h's CsvCell): quoted fields with
// embedded commas, quotes ("") and newlines, CRLF or LF line ends, a UTF-8 byte-order mark at the
// start ignored.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace facetrail::gallery::internal {

class CsvReader {
 public:
  // kNotFound / kIoError with the path.
  static Expected<std::unique_ptr<CsvReader>> Open(const std::string& path);
  // Parses from memory (tests).
  static std::unique_ptr<CsvReader> FromString(std::string text);

  // Reads the next record into *fields and its first line number (1-based) into *line.
  // Returns false at end of input. A malformed record (a quote inside an unquoted field, text
  // after a closing quote, a quote never closed) gives kInvalidArgument naming the line and
  // column; reading continues with the next line after it.
  Expected<bool> Next(std::vector<std::string>* fields, int* line);

 private:
  explicit CsvReader(std::string text) : text_(std::move(text)) {}
  std::string text_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace facetrail::gallery::internal
