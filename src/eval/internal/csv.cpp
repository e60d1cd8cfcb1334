#include "eval/internal/csv.h"

#include <algorithm>

#include "common/file.h"

namespace facetrail::eval::internal {
namespace {

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

int CsvTable::ColumnIndex(std::string_view column) const {
  const auto it = std::find(header.begin(), header.end(), column);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

Status CsvTable::RowError(const CsvRow& row, std::string_view column, std::string_view what) const {
  std::string m = name + " line " + std::to_string(row.line);
  if (!column.empty()) m += ", column " + std::string(column);
  return InvalidArgument(m + ": " + std::string(what));
}

Expected<CsvTable> ParseCsv(std::string_view text, std::string name) {
  CsvTable table;
  table.name = std::move(name);
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRow> rows;
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    CsvRow row;
    row.line = line;
    bool row_has_text = false;
    while (true) {  // one field per iteration
      std::string field;
      if (i < text.size() && text[i] == '"') {
        row_has_text = true;
        const int quote_line = line;
        ++i;
        while (true) {
          if (i >= text.size()) {
            return InvalidArgument(table.name + " line " + std::to_string(quote_line) +
                                   ": unterminated quoted field");
          }
          const char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              field += '"';
              ++i;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line;
            field += c;
          }
        }
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return InvalidArgument(table.name + " line " + std::to_string(line) +
                                 ": unexpected text after a closing quote");
        }
      } else {
        const size_t end = text.find_first_of(",\r\n", i);
        const size_t stop = end == std::string_view::npos ? text.size() : end;
        field = Trim(text.substr(i, stop - i));
        if (!field.empty()) row_has_text = true;
        i = stop;
      }
      row.fields.push_back(std::move(field));
      if (i < text.size() && text[i] == ',') {
        ++i;
        row_has_text = true;
        continue;
      }
      if (i < text.size() && text[i] == '\r') ++i;
      if (i < text.size() && text[i] == '\n') ++i;
      ++line;
      break;
    }
    if (row_has_text) rows.push_back(std::move(row));
  }
  if (rows.empty()) return InvalidArgument(table.name + ": empty file (a header line is needed)");
  for (const std::string& h : rows.front().fields) table.header.push_back(Trim(h));
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].fields.size() != table.header.size()) {
      return table.RowError(rows[r], "",
                            "expected " + std::to_string(table.header.size()) +
                                " fields as in the header, got " +
                                std::to_string(rows[r].fields.size()));
    }
    table.rows.push_back(std::move(rows[r]));
  }
  return table;
}

Expected<CsvTable> ReadCsvFile(const std::string& path) {
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadFileBytes(path, size_t{1} << 30));
  return ParseCsv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                  path);
}

Status RequireColumns(const CsvTable& table, const std::vector<std::string_view>& required) {
  for (std::string_view c : required) {
    if (table.ColumnIndex(c) < 0) {
      std::string have;
      for (const std::string& h : table.header) have += (have.empty() ? "" : ",") + h;
      return InvalidArgument(table.name + " line 1: missing column '" + std::string(c) +
                             "' (header is '" + have + "')");
    }
  }
  return Status::Ok();
}

}  // namespace facetrail::eval::internal
