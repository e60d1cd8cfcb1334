// CSV reader and manifest rows: quoting, line numbers, malformed input.
#include "gallery/internal/csv.h"

#include <gtest/gtest.h>

#include "common/text.h"
#include "gallery/internal/manifest.h"

namespace facetrail::gallery::internal {
namespace {

std::vector<std::vector<std::string>> ReadAll(const std::string& text, std::vector<int>* lines,
                                              std::vector<std::string>* errors) {
  auto csv = CsvReader::FromString(text);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> fields;
  int line = 0;
  for (;;) {
    auto r = csv->Next(&fields, &line);
    if (!r.ok()) {
      errors->push_back(r.status().message());
      continue;
    }
    if (!*r) break;
    out.push_back(fields);
    lines->push_back(line);
  }
  return out;
}

TEST(Csv, QuotesCommasNewlinesAndCrlf) {
  std::vector<int> lines;
  std::vector<std::string> errors;
  auto rows = ReadAll(
      "\xEF\xBB\xBF"
      "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\n,,\nlast,row,end",
      &lines, &errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x, y", "say \"hi\"", "two\nlines"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"last", "row", "end"}));
  EXPECT_EQ(lines, (std::vector<int>{1, 2, 5, 6}));
}

TEST(Csv, MalformedRecordsAreReportedWithTheirLineAndSkipped) {
  std::vector<int> lines;
  std::vector<std::string> errors;
  auto rows = ReadAll("h1,h2\nab\"c,d\n\"x\"y,z\nok,1\n\"never closed,2\n", &lines, &errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find("line 2"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("quote inside"), std::string::npos);
  EXPECT_NE(errors[1].find("line 3"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("line 5"), std::string::npos) << errors[2];
  EXPECT_NE(errors[2].find("never closed"), std::string::npos);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"ok", "1"}));
  EXPECT_EQ(lines[1], 4);
}

TEST(Csv, WrittenCellsRoundTripAndFormulasAreNeutralised) {
  for (std::string s : {"plain", "a,b", "q\"uote", "new\nline", ""}) {
    std::vector<int> lines;
    std::vector<std::string> errors;
    auto rows = ReadAll(CsvCell(s) + ",x\n", &lines, &errors);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], s);
  }
  // Issue 14 §4: a cell a spreadsheet would run reads back with a leading quote.
  for (std::string s : {"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    std::vector<int> lines;
    std::vector<std::string> errors;
    auto rows = ReadAll(CsvCell(s) + ",x\n", &lines, &errors);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "'" + s);
  }
}

TEST(Manifest, Dates) {
  EXPECT_TRUE(IsIsoDate("2024-02-29"));
  EXPECT_FALSE(IsIsoDate("2023-02-29"));
  EXPECT_FALSE(IsIsoDate("1990-02-31"));
  EXPECT_FALSE(IsIsoDate("31/02/1990"));
  EXPECT_FALSE(IsIsoDate("2020-13-01"));
  EXPECT_TRUE(IsIsoDate("2000-02-29"));
  EXPECT_FALSE(IsIsoDate("1900-02-29"));
}

TEST(Manifest, HeaderMustNameKnownColumns) {
  EXPECT_FALSE(ManifestReader::Open(CsvReader::FromString("booking_number,name\n"), "m").ok());
  auto typo = ManifestReader::Open(CsvReader::FromString("booking_number,photo,nmae\n"), "m.csv");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("unknown column 'nmae'"), std::string::npos);
  EXPECT_FALSE(ManifestReader::Open(CsvReader::FromString(""), "m").ok());
  EXPECT_TRUE(
      ManifestReader::Open(CsvReader::FromString("Booking_Number, Photo_Path ,RACE\n"), "m").ok());
}

// Issue 14 §4: text that is not UTF-8, has control characters or is too long never becomes a
// booking record; the rejects row names the line and the column and holds no invalid byte.
TEST(Manifest, FieldsAreUtf8WithoutControlsAndBounded) {
  auto m = ManifestReader::Open(CsvReader::FromString("booking_number,photo,name,charge\n"
                                                      "B-1,a.jpg,Jos\xe9,theft\n"
                                                      "B-2,b.jpg,Ann,\"rob\x1b[31mbery\"\n"
                                                      "B\xff-3,c.jpg,Bo,x\n"
                                                      "B-4,d.jpg," +
                                                      std::string(2000, 'n') +
                                                      ",x\n"
                                                      "B-5,e.jpg,Zo\xc3\xab,=cmd|' /C calc'!A0\n"),
                                "m.csv");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ManifestRow row;
  std::optional<ManifestError> err;
  const std::pair<int, std::string> expected[] = {
      {2, "column name: not valid UTF-8 (byte 4)"},
      {3, "column charge: control character U+001B at byte 4"},
      {4, "column booking_number: not valid UTF-8 (byte 2)"},
      {5, "column name: longer than 1024 bytes (2000)"}};
  for (const auto& [line, reason] : expected) {
    ASSERT_TRUE(*m->Next(&row, &err));
    ASSERT_TRUE(err);
    EXPECT_EQ(err->line, line);
    EXPECT_EQ(err->reason, "malformed field: " + reason);
    EXPECT_TRUE(IsValidUtf8(err->booking_number));
  }
  EXPECT_EQ(err->booking_number, "B-4");
  // A charge that looks like a formula is stored as written (it is text); only CSV output is
  // neutralised (CsvCell).
  ASSERT_TRUE(*m->Next(&row, &err));
  ASSERT_FALSE(err);
  EXPECT_EQ(row.booking.name, "Zo\xc3\xab");
  EXPECT_EQ(row.booking.charge, "=cmd|' /C calc'!A0");
}

TEST(Manifest, RowsAndMalformedFields) {
  auto m =
      ManifestReader::Open(CsvReader::FromString("booking_number,photo,name,dob,booking_date\n"
                                                 "B-1,a.jpg,\"Doe, John\",1990-01-02,2024-05-06\n"
                                                 "B-2,b.jpg,Jane,31/02/1990,\n"
                                                 "B-3,c.jpg,too,few\n"
                                                 ",d.jpg,x,,\n"),
                           "m.csv");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ManifestRow row;
  std::optional<ManifestError> err;
  ASSERT_TRUE(*m->Next(&row, &err));
  ASSERT_FALSE(err);
  EXPECT_EQ(row.line, 2);
  EXPECT_EQ(row.booking.name, "Doe, John");
  EXPECT_EQ(row.booking.dob, "1990-01-02");
  EXPECT_FALSE(row.booking.sex.has_value());
  ASSERT_TRUE(*m->Next(&row, &err));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->line, 3);
  EXPECT_EQ(err->booking_number, "B-2");
  EXPECT_EQ(err->reason, "malformed field: column dob: '31/02/1990' is not a date (YYYY-MM-DD)");
  ASSERT_TRUE(*m->Next(&row, &err));
  ASSERT_TRUE(err);
  EXPECT_NE(err->reason.find("4 fields, the header has 5"), std::string::npos);
  ASSERT_TRUE(*m->Next(&row, &err));
  ASSERT_TRUE(err);
  EXPECT_NE(err->reason.find("booking_number: empty"), std::string::npos);
  EXPECT_FALSE(*m->Next(&row, &err));
}

}  // namespace
}  // namespace facetrail::gallery::internal
