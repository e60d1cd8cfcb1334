#include "common/file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/sha256.h"

namespace facetrail {
namespace {

TEST(FileTest, MissingFileIsNotFoundWithPath) {
  auto r = ReadFileBytes("/nonexistent/facetrail/x.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/facetrail/x.jpg"), std::string::npos);
}

TEST(FileTest, AtomicWriteThenReadRoundTrips) {
  auto dir = std::filesystem::temp_directory_path() / "facetrail_file_test";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "a.bin").string();
  std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  ASSERT_TRUE(WriteFileAtomically(path, data).ok());
  auto r = ReadFileBytes(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, data);
  auto small = ReadFileBytes(path, 4);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.status().code(), StatusCode::kResourceExhausted);
  std::filesystem::remove_all(dir);
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(Sha256Hex(std::string_view("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::string_view("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace facetrail
