// A small RFC 4180 CSV reader for the evaluation inputs (identities, pairs, folds, groups,
// reference distances). Errors carry the file name, the line number and the column.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail::eval::internal {

struct CsvRow {
  int line = 0;  // 1-based line number where the row starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::string name;                 // file name used in error messages
  std::vector<std::string> header;  // the first row, fields trimmed
  std::vector<CsvRow> rows;         // every later non-empty row

  // Index of the header column `column` (case-sensitive), or -1.
  int ColumnIndex(std::string_view column) const;
  // "<name> line <n>, column <column>: <what>" as an InvalidArgument status.
  Status RowError(const CsvRow& row, std::string_view column, std::string_view what) const;
};

// Parses `text`: comma-separated, fields optionally in double quotes ("" is a quote inside one),
// LF or CRLF line ends, a UTF-8 byte-order mark ignored, blank lines skipped, unquoted fields
// trimmed of spaces. Every row must have as many fields as the header. Fails with
// kInvalidArgument naming `name` and the line: empty file, unterminated quote, text after a
// closing quote, wrong number of fields.
Expected<CsvTable> ParseCsv(std::string_view text, std::string name);
// Reads and parses a file (kNotFound / kIoError name the path).
Expected<CsvTable> ReadCsvFile(const std::string& path);

// Checks that `table` has the columns in `required` (in any order), naming the missing one.
Status RequireColumns(const CsvTable& table, const std::vector<std::string_view>& required);

}  // namespace facetrail::eval::internal
