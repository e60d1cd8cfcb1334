// GalleryIndex: never stale (patch on seal/unseal/expunge, rebuild on enrolment), refuses and
// rebuilds damaged or foreign snapshots.
#include "gallery/gallery_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gallery/fake_extractor.h"
#include "gallery/gallery_test_util.h"
#include "search/snapshot.h"

namespace facetrail::gallery {
namespace {

using testing::SeedTemplate;

const ModelRef kModel{"fake-model", 1};

void AddBooking(GalleryStore& store, int b, int num_photos) {
  BookingRecord r;
  r.booking_number = "B-" + std::to_string(b);
  r.name = "Person " + std::to_string(b);
  r.booking_date = "2024-01-01";
  for (int p = 0; p < num_photos; ++p) {
    std::string text = "photo " + std::to_string(b) + "/" + std::to_string(p);
    std::vector<NewTemplate> t = {{0, {}, {}, SeedTemplate(static_cast<uint64_t>(b * 100 + p))}};
    auto added = store.AddPhoto(r, {{text.begin(), text.end()}, {}, text, ""}, kModel, t);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }
}

class GalleryIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = GalleryStore::Open(dir_ / "gallery.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    for (int b = 1; b <= 30; ++b) AddBooking(*store_, b, 2);
  }
  std::unique_ptr<GalleryIndex> MustOpen() {
    auto g = GalleryIndex::Open(*store_, kModel);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(g).value() : nullptr;
  }
  std::vector<Candidate> MustSearch(GalleryIndex& g, uint64_t seed, int k = 5) {
    auto r = g.Search(SeedTemplate(seed), {k, 0.5f});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Candidate>{};
  }

  testing::TempDir dir_{"gallery_index"};
  std::unique_ptr<GalleryStore> store_;
};

TEST_F(GalleryIndexTest, BuildsThenReopensTheSnapshot) {
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_EQ(g->last_sync().reason, "snapshot missing");
  EXPECT_EQ(g->size(), 60u);
  auto hits = MustSearch(*g, 7 * 100 + 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].owner.booking_number, "B-7");
  EXPECT_EQ(hits[0].owner.name, "Person 7");
  EXPECT_EQ(hits[0].rank, 1);
  EXPECT_NEAR(hits[0].score, 1.0f, 1e-6);
  auto again = MustOpen();
  EXPECT_EQ(again->last_sync().action, IndexSync::Action::kOpened);
}

TEST_F(GalleryIndexTest, SealLeavesSearchAtOnceAndUnsealReturns) {
  auto g = MustOpen();
  ASSERT_EQ(MustSearch(*g, 501).size(), 1u);
  ASSERT_TRUE(store_->SetStatus("B-5", RecordStatus::kSealed).ok());
  EXPECT_TRUE(MustSearch(*g, 501).empty());
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kPatched);
  // Another process opening the (older) snapshot patches it too.
  auto other = MustOpen();
  EXPECT_TRUE(MustSearch(*other, 501).empty());
  ASSERT_TRUE(store_->SetStatus("B-5", RecordStatus::kActive).ok());
  EXPECT_EQ(MustSearch(*g, 501).size(), 1u);
  ASSERT_TRUE(store_->Expunge("B-5").ok());
  EXPECT_TRUE(MustSearch(*g, 501).empty());
  EXPECT_EQ(g->last_sync().reason, "templates expunged");
  EXPECT_EQ(g->size(), 58u);  // the rewritten snapshot no longer holds B-5's templates
  EXPECT_TRUE(MustSearch(*other, 500).empty());
}

TEST_F(GalleryIndexTest, EnrolmentAfterOpenIsSeenByTheNextSearch) {
  auto g = MustOpen();
  EXPECT_TRUE(MustSearch(*g, 9900).empty());
  AddBooking(*store_, 99, 1);
  auto hits = MustSearch(*g, 9900);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].owner.booking_number, "B-99");
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_EQ(g->last_sync().reason, "templates added");
}

TEST_F(GalleryIndexTest, TruncatedOrCorruptSnapshotIsRefusedAndRebuilt) {
  std::string path = MustOpen()->snapshot_path();
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 100);
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_NE(g->last_sync().reason.find("truncated"), std::string::npos) << g->last_sync().reason;
  EXPECT_EQ(MustSearch(*g, 301).size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(path), size);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 16);
    f.put('\x7f');
  }
  g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_NE(g->last_sync().reason.find("checksum mismatch"), std::string::npos);
  // A damaged float32 row is found by the search that reads it, rebuilt, and answered.
  g.reset();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    // The float32 section is last, page-aligned: 60 rows × 512 bytes padded to 32 KiB.
    f.seekp(static_cast<std::streamoff>(size - 32768 + 3));  // row 0 (booking B-1)
    f.put('\x55');
  }
  g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kOpened);
  for (int b = 1; b <= 30; ++b) {
    auto r = g->Search(SeedTemplate(static_cast<uint64_t>(b * 100)), {1, 0.5f});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].owner.booking_number, "B-" + std::to_string(b));
  }
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_NE(g->last_sync().reason.find("snapshot damaged"), std::string::npos);
}

TEST_F(GalleryIndexTest, ForeignSnapshotIsRebuilt) {
  std::string path = MustOpen()->snapshot_path();
  {
    auto w = search::SnapshotWriter::Create(path, {kModel.id, kModel.version, "other", 999, 0});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Finish().ok());
  }
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().reason, "snapshot of another gallery");
  EXPECT_EQ(g->size(), 60u);
}

TEST(GalleryIndexMemory, InMemoryStoreBuildsInRam) {
  auto store = GalleryStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  AddBooking(**store, 1, 3);
  auto g = GalleryIndex::Open(**store, kModel);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->snapshot_path(), "");
  EXPECT_EQ((*g)->size(), 3u);
  auto empty_model = GalleryIndex::Open(**store, {"other-model", 1});
  ASSERT_TRUE(empty_model.ok());
  EXPECT_EQ((*empty_model)->size(), 0u);
}

}  // namespace
}  // namespace facetrail::gallery

namespace facetrail::gallery {
namespace {

TEST_F(GalleryIndexTest, RemoveSnapshotsDeletesOnlySnapshots) {
  std::string path = MustOpen()->snapshot_path();
  ASSERT_TRUE(std::filesystem::exists(path));
  ASSERT_TRUE(RemoveSnapshots(*store_).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "gallery.db"));
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().reason, "snapshot missing");
}

}  // namespace
}  // namespace facetrail::gallery
