// Fail the Nth store write (SQLite "How SQLite Is Tested" style): for N = 1, 2, …, an import
// whose Nth AddPhoto fails stops with that error; re-running it then gives exactly the gallery
// of an import that never failed. On both engines; compared by content
// (testing::DumpGalleryContent) on both, and on SQLite by ids too (testing::DumpGallery).
#include <gtest/gtest.h>

#include "gallery/enroll.h"
#include "gallery/fake_extractor.h"
#include "gallery/gallery_test_util.h"
#include "gallery/retemplate.h"

namespace facetrail::gallery {
namespace {

// Forwards to a real store; the Nth AddPhoto or AddTemplates (1-based) fails with kIoError
// before writing.
class FailingStore final : public GalleryStore {
 public:
  FailingStore(GalleryStore& inner, int fail_at) : inner_(inner), fail_at_(fail_at) {}
  const std::string& gallery_id() const override { return inner_.gallery_id(); }
  std::string snapshot_prefix() const override { return inner_.snapshot_prefix(); }
  Expected<AddPhotoResult> AddPhoto(const BookingRecord& b, const NewPhoto& p, const ModelRef& m,
                                    std::span<const NewTemplate> t) override {
    if (++calls_ == fail_at_) return IoError("injected failure of write " + std::to_string(calls_));
    return inner_.AddPhoto(b, p, m, t);
  }
  Expected<std::vector<Expected<AddPhotoResult>>> AddPhotos(
      const ModelRef& m, std::span<const PhotoToAdd> photos) override {
    if (++calls_ == fail_at_) return IoError("injected failure of write " + std::to_string(calls_));
    return inner_.AddPhotos(m, photos);
  }
  Expected<std::optional<PhotoInfo>> FindPhoto(std::string_view sha) override {
    return inner_.FindPhoto(sha);
  }
  Expected<BookingRecord> GetBooking(std::string_view n) override { return inner_.GetBooking(n); }
  Expected<std::vector<PhotoInfo>> ListPhotos(std::string_view n) override {
    return inner_.ListPhotos(n);
  }
  Expected<std::vector<uint8_t>> ReadPhoto(int64_t id) override { return inner_.ReadPhoto(id); }
  Status SetStatus(std::string_view n, RecordStatus s) override { return inner_.SetStatus(n, s); }
  Status Expunge(std::string_view n) override { return inner_.Expunge(n); }
  Expected<GalleryStats> Stats() override { return inner_.Stats(); }
  Expected<int64_t> ChangeCounter() override { return inner_.ChangeCounter(); }
  Status ScanTemplates(
      const ModelRef& m, const std::function<Status(int64_t, int64_t)>& begin,
      const std::function<Status(int64_t, bool, std::span<const float>)>& row) override {
    return inner_.ScanTemplates(m, begin, row);
  }
  Status ReadTemplates(
      const ModelRef& m, std::span<const int64_t> ids,
      const std::function<Status(int64_t, bool, std::span<const float>)>& row) override {
    return inner_.ReadTemplates(m, ids, row);
  }
  Expected<std::vector<TemplateChange>> ChangesSince(const ModelRef& m, int64_t c) override {
    return inner_.ChangesSince(m, c);
  }
  Expected<std::vector<TemplateOwner>> DescribeTemplates(std::span<const int64_t> ids) override {
    return inner_.DescribeTemplates(ids);
  }
  Expected<std::optional<ModelRef>> ActiveModel() override { return inner_.ActiveModel(); }
  Status SetActiveModel(const ModelRef& m) override { return inner_.SetActiveModel(m); }
  Expected<int64_t> CountPhotosWithout(const ModelRef& m) override {
    return inner_.CountPhotosWithout(m);
  }
  Expected<std::vector<PhotoToRetemplate>> PhotosWithout(const ModelRef& m, int64_t after,
                                                         int limit) override {
    return inner_.PhotosWithout(m, after, limit);
  }
  Expected<AddPhotoResult> AddTemplates(int64_t photo, const ModelRef& m,
                                        std::span<const NewTemplate> t) override {
    if (++calls_ == fail_at_) return IoError("injected failure of write " + std::to_string(calls_));
    return inner_.AddTemplates(photo, m, t);
  }
  Expected<int64_t> DeleteModelTemplates(const ModelRef& m, int64_t limit) override {
    return inner_.DeleteModelTemplates(m, limit);
  }
  int calls() const { return calls_; }

 private:
  GalleryStore& inner_;
  int fail_at_;
  int calls_ = 0;
};

class EnrollFaults : public ::testing::TestWithParam<testing::Backend> {
 protected:
  // A new gallery database: `file` in `dir` (SQLite) or a fresh PostgreSQL database.
  std::string NewDb(const testing::TempDir& dir, const std::string& file) {
    std::string uri;
    [&] { FT_GALLERY_DB_OR_SKIP(GetParam(), dir / file, uri); }();
    return uri;
  }
  bool sqlite() const { return GetParam() == testing::Backend::kSqlite; }
};

TEST_P(EnrollFaults, FailingTheNthWriteThenRerunningEqualsACleanImport) {
  testing::TempDir dir("enroll_fault");
  std::string manifest = "booking_number,photo,name\n";
  for (int i = 0; i < 12; ++i) {
    dir.Write(std::string("p") + std::to_string(i) + ".txt",
              "FACES\n10 10 100 100 0 " + std::to_string(500 + i) + "\n");
    manifest += "B-" + std::to_string(i / 3) + ",p" + std::to_string(i) + ".txt,Person " +
                std::to_string(i / 3) + "\n";
  }
  manifest += "B-9,missing.txt,Nobody\n";
  dir.Write("manifest.csv", manifest);
  EnrollOptions o;
  o.manifest_path = dir / "manifest.csv";
  o.num_workers = 2;
  const std::string clean_db = NewDb(dir, "clean.db");
  if (IsSkipped() || HasFatalFailure()) return;
  {
    auto clean = GalleryStore::Open(clean_db);
    ASSERT_TRUE(clean.ok());
    o.rejects_path = dir / "clean_rejects.csv";
    ASSERT_TRUE(Enroll(**clean, testing::FakeFactory(), o).ok());
  }
  const std::string want = testing::DumpGallery(clean_db);
  const std::string want_content = testing::DumpGalleryContent(clean_db);
  o.rejects_path = dir / "rejects.csv";
  for (int n = 1; n <= 13; ++n) {
    SCOPED_TRACE(n);
    const std::string db = NewDb(dir, std::string("f") + std::to_string(n) + ".db");
    ASSERT_FALSE(HasFatalFailure());
    {
      auto store = GalleryStore::Open(db);
      ASSERT_TRUE(store.ok());
      FailingStore failing(**store, n);
      auto r = Enroll(failing, testing::FakeFactory(), o);
      if (n <= 12) {
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status().code(), StatusCode::kIoError);
        EXPECT_NE(r.status().message().find("injected failure of write " + std::to_string(n)),
                  std::string::npos)
            << r.status().message();
        // Everything before the failed row is stored, nothing after it.
        EXPECT_EQ((*store)->Stats()->photos, n - 1);
      } else {
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
      ASSERT_TRUE(Enroll(**store, testing::FakeFactory(), o).ok());
    }
    EXPECT_EQ(testing::DumpGalleryContent(db), want_content);
    if (sqlite()) {
      EXPECT_EQ(testing::DumpGallery(db), want);
    }
    EXPECT_EQ(testing::PhotoIdsAsHashes(testing::ReadText(dir / "rejects.csv"), db),
              testing::PhotoIdsAsHashes(testing::ReadText(dir / "clean_rejects.csv"), clean_db));
  }
}

// The same for a migration: the Nth template write of a retemplate run fails; running it again
// ends with exactly the gallery of a run that never failed.
TEST_P(EnrollFaults, FailingARetemplateWriteThenRerunningEqualsACleanRun) {
  testing::TempDir dir("retemplate_fault");
  std::string manifest = "booking_number,photo,name\n";
  for (int i = 0; i < 6; ++i) {
    dir.Write(std::string("p") + std::to_string(i) + ".txt",
              "FACES\n10 10 100 100 0 " + std::to_string(700 + i) + "\n");
    manifest += "B-" + std::to_string(i) + ",p" + std::to_string(i) + ".txt,Person\n";
  }
  dir.Write("manifest.csv", manifest);
  EnrollOptions o;
  o.manifest_path = dir / "manifest.csv";
  o.rejects_path = dir / "rejects.csv";
  const ModelRef next{"fake-model-two", 1, 256};
  RetemplateOptions ro;
  ro.batch = 2;
  auto make = [&](const std::string& uri) {
    auto store = GalleryStore::Open(uri);
    EXPECT_TRUE(store.ok());
    EXPECT_TRUE(Enroll(**store, testing::FakeFactory(), o).ok());
    return std::move(*store);
  };
  const std::string clean_db = NewDb(dir, "clean.db");
  if (IsSkipped() || HasFatalFailure()) return;
  {
    auto clean = make(clean_db);
    ASSERT_TRUE(Retemplate(*clean, testing::FakeFactory(0, next), next, ro).ok());
  }
  const std::string want = testing::DumpGallery(clean_db);
  const std::string want_content = testing::DumpGalleryContent(clean_db);
  for (int n = 1; n <= 6; ++n) {
    SCOPED_TRACE(n);
    const std::string db = NewDb(dir, std::string("r") + std::to_string(n) + ".db");
    ASSERT_FALSE(HasFatalFailure());
    {
      auto store = make(db);
      FailingStore failing(*store, n);
      auto r = Retemplate(failing, testing::FakeFactory(0, next), next, ro);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), StatusCode::kIoError);
      auto again = Retemplate(*store, testing::FakeFactory(0, next), next, ro);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_EQ(again->remaining, 0);
    }
    EXPECT_EQ(testing::DumpGalleryContent(db), want_content);
    if (sqlite()) {
      EXPECT_EQ(testing::DumpGallery(db), want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, EnrollFaults, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace facetrail::gallery
