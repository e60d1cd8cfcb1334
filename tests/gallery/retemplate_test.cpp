// Moving a gallery to another model: retemplate is resumable and idempotent and never touches
// what searches use; activation waits for every photo; pruning never takes the active model.
#include "gallery/retemplate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "gallery/fake_extractor.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_test_util.h"

namespace facetrail::gallery {
namespace {

using testing::FakeFactory;
using testing::FakeModel;
using testing::SeedTemplate;
using testing::TempDir;

const ModelRef kNew{"fake-model-two", 1, 256};

// n photos, one per booking B-i, face seed 1000 + i; one photo has two faces (the enrolled one is
// the larger), so retemplate must find the same face again.
void Enroll(const TempDir& dir, GalleryStore& store, int n) {
  std::string m = "booking_number,photo,name\n";
  for (int i = 0; i < n; ++i) {
    std::string faces = "FACES\n10 10 100 100 0 " + std::to_string(1000 + i) + "\n";
    if (i == 3) faces += "300 10 40 40 0 77\n";
    dir.Write("img" + std::to_string(i) + ".txt", faces);
    m += "B-" + std::to_string(i) + ",img" + std::to_string(i) + ".txt,Person " +
         std::to_string(i) + "\n";
  }
  dir.Write("manifest.csv", m);
  EnrollOptions o;
  o.manifest_path = dir / "manifest.csv";
  o.rejects_path = dir / "rejects.csv";
  o.num_workers = 2;
  auto s = gallery::Enroll(store, FakeFactory(), o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->enrolled, n);
}

// The new model's template of face seed `seed` (what FakeExtractor makes for kNew).
std::vector<float> NewModelTemplate(uint64_t seed) {
  return SeedTemplate(seed ^ std::hash<std::string>()(kNew.id), kNew.dim);
}

// On SQLite (a file in the test's folder) and on PostgreSQL (a fresh database on the test
// cluster, the snapshots in the test's folder).
class RetemplateTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override { FT_GALLERY_DB_OR_SKIP(GetParam(), "", pg_uri_); }
  std::string Uri(const TempDir& dir) const {
    return GetParam() == testing::Backend::kPostgres ? pg_uri_ : dir / "g.db";
  }
  Expected<std::unique_ptr<GalleryStore>> Open(const TempDir& dir) const {
    return GalleryStore::Open(Uri(dir),
                              {.create_if_missing = true, .snapshot_dir = dir / "snapshots"});
  }
  std::string pg_uri_;
};

TEST_P(RetemplateTest, MigratesWhileSearchesUseTheActiveModel) {
  TempDir dir("retemplate");
  auto store = Open(dir);
  ASSERT_TRUE(store.ok());
  Enroll(dir, **store, 40);
  ASSERT_EQ((*store)->ActiveModel().value(), FakeModel());
  ASSERT_TRUE((*store)->SetStatus("B-5", RecordStatus::kSealed).ok());
  ASSERT_TRUE((*store)->Expunge("B-6").ok());
  auto old_index = GalleryIndex::Open(**store, FakeModel());
  ASSERT_TRUE(old_index.ok());
  const auto before = (*old_index)->Search(SeedTemplate(1007), {3, -1.f});
  ASSERT_TRUE(before.ok());

  // Enrolling with another model than the active one is refused (it would not be searched).
  NewPhoto photo{{'x'}, std::nullopt, "x", "", true, ""};
  std::vector<NewTemplate> t = {{0, {}, {}, NewModelTemplate(5)}};
  BookingRecord record;
  record.booking_number = "B-X";
  EXPECT_EQ((*store)->AddPhoto(record, photo, kNew, t).status().code(),
            StatusCode::kFailedPrecondition);
  // Activation waits for every photo of a booking that is not expunged (39: 40 less B-6).
  ASSERT_EQ((*store)->CountPhotosWithout(kNew).value(), 39);
  EXPECT_EQ((*store)->SetActiveModel(kNew).code(), StatusCode::kFailedPrecondition);

  // A first run stopped after 15 photos, while another thread keeps searching the old model.
  std::atomic<bool> done{false};
  std::atomic<int> searches{0}, mismatches{0};
  std::thread searcher([&] {
    while (!done) {
      auto r = (*old_index)->Search(SeedTemplate(1007), {3, -1.f});
      if (!r.ok() || r->size() != before->size() || (*r)[0].owner.booking_number != "B-7") {
        ++mismatches;
      }
      ++searches;
    }
  });
  RetemplateOptions o;
  o.num_workers = 2;
  o.batch = 4;
  o.max_photos = 15;
  std::vector<RetemplateProgress> progress;
  o.on_progress = [&](const RetemplateProgress& p) { progress.push_back(p); };
  o.progress_interval_s = 0;
  auto first = Retemplate(**store, FakeFactory(1, kNew), kNew, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->stopped);
  EXPECT_EQ(first->added, 15);
  EXPECT_EQ(first->remaining, 24);
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(progress.back().finished);
  EXPECT_EQ(progress.back().photos_total, 39);
  EXPECT_GT(progress.back().photos_per_second, 0);

  // Resumed: the rest, and nothing twice.
  o.max_photos = 0;
  auto second = Retemplate(**store, FakeFactory(0, kNew), kNew, o);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->added, 24);
  EXPECT_EQ(second->remaining, 0);
  EXPECT_TRUE(second->failures.empty());
  auto third = Retemplate(**store, FakeFactory(0, kNew), kNew, o);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->photos, 0);
  done = true;
  searcher.join();
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(mismatches.load(), 0) << "searches of the active model changed during the migration";

  // The same face as enrolled: the two-face photo got the larger face's template.
  auto new_index = GalleryIndex::Open(**store, kNew);
  ASSERT_TRUE(new_index.ok());
  auto hit = (*new_index)->Search(NewModelTemplate(1003), {1, 0.99f});
  ASSERT_TRUE(hit.ok());
  ASSERT_EQ(hit->size(), 1u);
  EXPECT_EQ((*hit)[0].owner.booking_number, "B-3");
  EXPECT_TRUE((*new_index)->Search(NewModelTemplate(77), {1, 0.99f})->empty());
  // The sealed booking has its template too, not searchable until unsealed.
  EXPECT_TRUE((*new_index)->Search(NewModelTemplate(1005), {1, 0.99f})->empty());
  ASSERT_TRUE((*store)->SetStatus("B-5", RecordStatus::kActive).ok());
  EXPECT_EQ((*new_index)->Search(NewModelTemplate(1005), {1, 0.99f})->size(), 1u);

  // The switch, then pruning the old model (never the active one).
  ASSERT_TRUE((*store)->SetActiveModel(kNew).ok());
  EXPECT_EQ((*store)->ActiveModel().value(), kNew);
  EXPECT_EQ((*store)->DeleteModelTemplates(kNew, 100).status().code(),
            StatusCode::kFailedPrecondition);
  int64_t pruned = 0;
  for (;;) {
    auto n = (*store)->DeleteModelTemplates(FakeModel(), 16);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    pruned += *n;
  }
  EXPECT_EQ(pruned, 39);
  // A GalleryIndex of the old model sees the deletions (its delta/snapshot is rebuilt).
  auto gone = (*old_index)->Search(SeedTemplate(1007), {3, -1.f});
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
  // And the stats say which model is active.
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_TRUE(stats->active_model.has_value());
  EXPECT_EQ(*stats->active_model, kNew);
  ASSERT_EQ(stats->templates_per_model.size(), 1u);
  EXPECT_EQ(stats->templates_per_model[0].first, kNew);
}

TEST_P(RetemplateTest, BadPhotosAreListedAndTheRunGoesOn) {
  TempDir dir("retemplate_bad");
  auto store = Open(dir);
  ASSERT_TRUE(store.ok());
  Enroll(dir, **store, 6);
  // Photo 2 now yields no face for the new model's pipeline; photo 4 a face elsewhere.
  auto db = Db::Open(Uri(dir), false);
  ASSERT_TRUE(db.ok());
  for (const auto& [id, text] :
       {std::pair<int64_t, std::string>{2, "FACES\n"},
        std::pair<int64_t, std::string>{4, "FACES\n500 500 50 50 0 9\n"}}) {
    auto up = db->Prepare("UPDATE photos SET image = ? WHERE id = ?");
    ASSERT_TRUE(up.ok());
    up->BindBlob(1, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}).Bind(2, id);
    ASSERT_TRUE(up->Run().ok());
  }
  RetemplateOptions o;
  auto r = Retemplate(**store, FakeFactory(0, kNew), kNew, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->added, 4);
  ASSERT_EQ(r->failures.size(), 2u);
  EXPECT_EQ(r->failures[0].photo_id, 2);
  EXPECT_NE(r->failures[0].reason.find("no face"), std::string::npos);
  EXPECT_EQ(r->failures[1].photo_id, 4);
  EXPECT_NE(r->failures[1].reason.find("not found again"), std::string::npos);
  EXPECT_EQ(r->remaining, 2);
  // Activation names what is missing.
  const Status s = (*store)->SetActiveModel(kNew);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("2 photo"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("B-1"), std::string::npos) << s.message();
}

TEST_P(RetemplateTest, ExtractorOfAnotherModelIsRefused) {
  TempDir dir("retemplate_wrong");
  auto store = Open(dir);
  ASSERT_TRUE(store.ok());
  Enroll(dir, **store, 2);
  auto r = Retemplate(**store, FakeFactory(0, FakeModel()), kNew, {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // A model id the gallery holds with another dimension is refused too.
  const ModelRef twisted{FakeModel().id, FakeModel().version, 256};
  std::vector<NewTemplate> t = {{0, {}, {}, SeedTemplate(1, 256)}};
  EXPECT_EQ((*store)->AddTemplates(1, twisted, t).status().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Backends, RetemplateTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace facetrail::gallery
