// Fail the Nth store write (SQLite "How SQLite Is Tested" style): for N = 1, 2, …, an import
// whose Nth AddPhoto fails stops with that error; re-running it then gives exactly the gallery
// of an import that never failed.
#include <gtest/gtest.h>

#include "gallery/enroll.h"
#include "gallery/fake_extractor.h"
#include "gallery/gallery_test_util.h"

namespace facetrail::gallery {
namespace {

// Forwards to a real store; the Nth AddPhoto (1-based) fails with kIoError before writing.
class FailingStore final : public GalleryStore {
 public:
  FailingStore(GalleryStore& inner, int fail_at) : inner_(inner), fail_at_(fail_at) {}
  const std::string& gallery_id() const override { return inner_.gallery_id(); }
  std::string path() const override { return inner_.path(); }
  Expected<AddPhotoResult> AddPhoto(const BookingRecord& b, const NewPhoto& p, const ModelRef& m,
                                    std::span<const NewTemplate> t) override {
    if (++calls_ == fail_at_) return IoError("injected failure of write " + std::to_string(calls_));
    return inner_.AddPhoto(b, p, m, t);
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
  int calls() const { return calls_; }

 private:
  GalleryStore& inner_;
  int fail_at_;
  int calls_ = 0;
};

TEST(EnrollFaults, FailingTheNthWriteThenRerunningEqualsACleanImport) {
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
  {
    auto clean = GalleryStore::Open(dir / "clean.db");
    ASSERT_TRUE(clean.ok());
    o.rejects_path = dir / "clean_rejects.csv";
    ASSERT_TRUE(Enroll(**clean, testing::FakeFactory(), o).ok());
  }
  const std::string want = testing::DumpGallery(dir / "clean.db");
  o.rejects_path = dir / "rejects.csv";
  for (int n = 1; n <= 13; ++n) {
    SCOPED_TRACE(n);
    const std::string db = dir / (std::string("f") + std::to_string(n) + ".db");
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
    EXPECT_EQ(testing::DumpGallery(db), want);
    EXPECT_EQ(testing::ReadText(dir / "rejects.csv"), testing::ReadText(dir / "clean_rejects.csv"));
  }
}

}  // namespace
}  // namespace facetrail::gallery
