// The one check of text at the edge (issue 14 §4), what "blank" means, and the CSV cell writer.
#include "common/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/json_text.h"

namespace facetrail {
namespace {

TEST(TextTest, ValidUtf8IsAcceptedAndInvalidBytesAreNamed) {
  EXPECT_TRUE(ValidateText("case", "MPD-2026-0042", 64).ok());
  EXPECT_TRUE(ValidateText("name", "Zoë Łukasz 山田 🙂", 64).ok());
  struct Bad {
    const char* what;
    std::string bytes;
  };
  for (const Bad& bad : {Bad{"lone continuation", "MPD-\x80"}, Bad{"truncated", "ab\xE2\x82"},
                         Bad{"overlong slash", "\xC0\xAF"}, Bad{"surrogate", "\xED\xA0\x80"},
                         Bad{"above U+10FFFF", "\xF4\x90\x80\x80"}, Bad{"latin-1", "Jos\xE9"}}) {
    SCOPED_TRACE(bad.what);
    EXPECT_FALSE(IsValidUtf8(bad.bytes));
    Status s = ValidateText("case", bad.bytes, 64);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("case: not valid UTF-8"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find(bad.bytes), std::string::npos) << "never echoes the bytes";
  }
}

TEST(TextTest, BothSidesOfTheLengthLimit) {
  EXPECT_TRUE(ValidateText("name", std::string(64, 'a'), 64).ok());
  Status s = ValidateText("name", std::string(65, 'a'), 64);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "name: longer than 64 bytes (65)");
  // A 9 MB value is refused by its length, and the message stays short.
  EXPECT_LT(ValidateText("name", std::string(9 << 20, 'x'), 64).message().size(), 100u);
}

TEST(TextTest, ControlAndBidiCharactersAreRefused) {
  EXPECT_FALSE(ValidateText("offense", std::string("rob\0bery", 8), 64).ok());
  EXPECT_FALSE(ValidateText("offense", "rob\x1b[31mbery", 64).ok());
  EXPECT_FALSE(ValidateText("offense", "line\nbreak", 64).ok());
  EXPECT_TRUE(
      ValidateText("justification", "line\r\nbreak\tand tab", 64, {.multiline = true}).ok());
  EXPECT_FALSE(ValidateText("justification", "a\x7f", 64, {.multiline = true}).ok());
  EXPECT_FALSE(ValidateText("offense", "a\xC2\x85", 64).ok());  // C1 NEL
  EXPECT_FALSE(ValidateText("offense",
                            "abc\xE2\x80\xAE"
                            "fed",
                            64)
                   .ok());  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(ValidateText("offense", std::string("a\0", 2), 64).message(),
            "offense: control character U+0000 at byte 2");
}

TEST(TextTest, BlankMeansBlankInUnicode) {
  for (const char* blank :
       {"", " ", "\t\n", "\xC2\xA0",               // NBSP
        "\xE2\x80\x8B",                            // ZERO WIDTH SPACE
        "\xE2\x80\x8C\xE2\x80\x8D",                // ZWNJ, ZWJ
        "\xEF\xBB\xBF",                            // BOM
        "\xE3\x80\x80",                            // IDEOGRAPHIC SPACE
        "\xE2\x80\xAF\xE2\x81\xA0",                // NARROW NBSP, WORD JOINER
        "\xC2\xAD",                                // SOFT HYPHEN
        ".", " . ", "-", "...", "\xE2\x80\xA6",    // ELLIPSIS
        "?!", "$", "\xE3\x80\x82", "\xCC\x81"}) {  // IDEOGRAPHIC FULL STOP, combining acute alone
    SCOPED_TRACE(blank);
    EXPECT_TRUE(IsBlank(blank));
    Status s = ValidateText("justification", blank, 64, {.multiline = true, .required = true});
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  }
  for (const char* text :
       {"x", " CCTV still ", "7", "\xE5\xB1\xB1", "\xC3\xA9", "n/a", "\xC2\xA9"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(IsBlank(text));
    EXPECT_TRUE(ValidateText("offense", text, 64, {.required = true}).ok());
  }
}

TEST(TextTest, CsvCellsCannotBecomeFormulas) {
  EXPECT_EQ(CsvCell("plain"), "plain");
  EXPECT_EQ(CsvCell(""), "");
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvCell("+1"), "'+1");
  EXPECT_EQ(CsvCell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvCell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(CsvCell("\tx"), "'\tx");
  EXPECT_EQ(CsvCell("\rx"), "\"'\rx\"");
  EXPECT_EQ(CsvCell("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvCell("x=1"), "x=1");
}

TEST(TextTest, StoredInvalidBytesNeverBreakJsonOutput) {
  const std::string bad = "MPD-\xff-1";
  nlohmann::json j{{"subject", "case:" + bad}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);
  EXPECT_EQ(JsonText(j), "{\"subject\":\"case:MPD-\xEF\xBF\xBD-1\"}");
  EXPECT_EQ(SanitizeUtf8(bad), "MPD-\xEF\xBF\xBD-1");
  EXPECT_EQ(SanitizeUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
}

}  // namespace
}  // namespace facetrail
