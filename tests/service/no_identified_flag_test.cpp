// "There is no 'identified' flag anywhere" (issue 4): no source file declares a field, key or
// column named identified / is_identified / positive_id. A candidate is a lead, never an
// identification.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

TEST(NoIdentifiedFlagTest, NoSourceDeclaresOne) {
  const std::regex kFlag(
      R"((\bbool\s+(is_)?identified\b)|("(is_)?identified")|(\b(is_)?identified\s*(=|INTEGER|BOOLEAN))|(positive_id))",
      std::regex::icase);
  int files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(FACETRAIL_SOURCE_DIR "/src")) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    ++files;
    EXPECT_FALSE(std::regex_search(text.str(), kFlag)) << entry.path();
  }
  EXPECT_GT(files, 20);
}

}  // namespace
