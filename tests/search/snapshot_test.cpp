// Snapshot round trip, and what a damaged file must do: be refused with kDataLoss, naming the
// check that fired (LevelDB corruption_test style: flip bytes in a real file).
#include "search/snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "search/test_templates.h"

namespace facetrail::search {
namespace {

namespace fs = std::filesystem;

SnapshotOpenOptions VerifyAll() {
  SnapshotOpenOptions o;
  o.verify_floats = true;
  return o;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ft_snapshot_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    path_ = (dir_ / "gallery.snapshot").string();
    t_ = testing::RandomTemplates(kRows, 11);
    for (size_t r = 0; r < kRows; ++r) {
      ids_.push_back(static_cast<int64_t>(r * 2 + 1));
      active_.push_back(r % 5 == 0 ? 0 : 1);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  SnapshotInfo Info() const {
    return {"test-model/v1", 3, "gallery-uuid-1", 42, static_cast<uint64_t>(kRows)};
  }
  void Write() {
    auto w = SnapshotWriter::Create(path_, Info());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (size_t r = 0; r < kRows; ++r) {
      ASSERT_TRUE((*w)->Append(ids_[r], active_[r] != 0, std::span(&t_[r * kDim], kDim)).ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  void FlipByte(uint64_t offset) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }
  void ExpectRefused(const std::string& words, const SnapshotOpenOptions& o = {}) {
    auto s = OpenSnapshot(path_, o);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(s.status().message().find(words), std::string::npos) << s.status().message();
  }

  static constexpr size_t kRows = 3000;
  fs::path dir_;
  std::string path_;
  std::vector<float> t_;
  std::vector<int64_t> ids_;
  std::vector<uint8_t> active_;
};

TEST_F(SnapshotTest, RoundTripSearchesLikeBuild) {
  Write();
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().string(), path_) << "temporary file left behind";
  }
  auto s = OpenSnapshot(path_, VerifyAll());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->info.model_id, "test-model/v1");
  EXPECT_EQ(s->info.model_version, 3);
  EXPECT_EQ(s->info.gallery_id, "gallery-uuid-1");
  EXPECT_EQ(s->info.change_counter, 42);
  EXPECT_EQ(s->info.count, kRows);
  EXPECT_EQ(s->index->num_active(), kRows - kRows / 5);
  for (int q = 0; q < 5; ++q) {
    auto probe = testing::NoisyCopy(t_, q * 17, 0.05f, q);
    auto got = s->index->Search(probe, {25, -2});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, testing::BruteForce(ids_, t_, active_, probe, 25, -2));
  }
}

TEST_F(SnapshotTest, EmptySnapshot) {
  auto w = SnapshotWriter::Create(path_, {"m", 1, "g", 0, 0});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Finish().ok());
  auto s = OpenSnapshot(path_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->index->Search(std::span(t_).first(kDim), {5, -2})->empty());
}

TEST_F(SnapshotTest, MissingIsNotFound) {
  EXPECT_EQ(OpenSnapshot(path_).status().code(), StatusCode::kNotFound);
}

TEST_F(SnapshotTest, UnfinishedWriterLeavesNothing) {
  {
    auto w = SnapshotWriter::Create(path_, Info());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(1, true, std::span(t_).first(kDim)).ok());
    EXPECT_FALSE((*w)->Finish().ok());  // too few rows
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SnapshotTest, TruncatedIsRefused) {
  Write();
  const auto size = fs::file_size(path_);
  for (uint64_t keep : {uint64_t{0}, uint64_t{100}, uint64_t{4096}, size / 2, size - 1}) {
    Write();
    fs::resize_file(path_, keep);
    SCOPED_TRACE(keep);
    ExpectRefused(keep < 4096 ? "truncated" : "truncated");
  }
}

TEST_F(SnapshotTest, DamagedHeaderOrHotSectionIsRefused) {
  Write();
  FlipByte(0);
  ExpectRefused("bad magic number");
  Write();
  FlipByte(20);  // count
  ExpectRefused("header checksum mismatch");
  // Sections: ids at 4096, each section aligned to 4096 (docs/SNAPSHOT.md).
  Write();
  FlipByte(4096 + 8 * 10);
  ExpectRefused("ids section checksum mismatch");
  Write();
  FlipByte(fs::file_size(path_) - kRows * kDim * 4 - 4096 - 5);  // inside codes (aligned end)
  auto s = OpenSnapshot(path_);
  EXPECT_FALSE(s.ok());
}

TEST_F(SnapshotTest, DamagedFloatRowFailsFullVerifyAndTheSearchThatReadsIt) {
  Write();
  const uint64_t floats_offset = fs::file_size(path_) - kRows * kDim * 4;
  const size_t row = 7;  // active (7 % 5 != 0)
  FlipByte(floats_offset + row * kDim * 4 + 9);
  ExpectRefused("floats section checksum mismatch", VerifyAll());
  auto s = OpenSnapshot(path_);
  ASSERT_TRUE(s.ok());
  auto probe = std::vector<float>(t_.begin() + row * kDim, t_.begin() + (row + 1) * kDim);
  auto got = s->index->Search(probe, {5, -2});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
}

TEST_F(SnapshotTest, WriterRejectsBadRows) {
  auto w = SnapshotWriter::Create(path_, Info());
  ASSERT_TRUE(w.ok());
  std::vector<float> nan(kDim, std::nanf(""));
  EXPECT_EQ((*w)->Append(1, true, nan).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE((*w)->Finish().ok());
}

}  // namespace
}  // namespace facetrail::search
