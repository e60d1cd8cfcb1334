// GalleryStore against a trivially correct in-memory model (LevelDB table_test style): the
// same random operations drive both; results and full state must agree at every step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "common/db.h"
#include "common/sha256.h"
#include "gallery/fake_extractor.h"
#include "gallery/gallery_store.h"
#include "gallery/gallery_test_util.h"

namespace facetrail::gallery {
namespace {

struct ModelPhoto {
  std::string sha, source;
  std::vector<std::vector<float>> templates;
};
struct ModelBooking {
  BookingRecord record;
  std::vector<ModelPhoto> photos;
};
struct ModelTemplate {
  std::string booking;
  std::vector<float> templ;
};

class Model {
 public:
  StatusCode AddPhoto(const BookingRecord& b, const std::string& sha, const std::string& source,
                      const std::vector<std::vector<float>>& templates, AddPhotoResult* result) {
    if (expunged_hashes_.count(sha)) return StatusCode::kFailedPrecondition;
    for (auto& [num, mb] : bookings_) {
      for (auto& p : mb.photos) {
        if (p.sha != sha) continue;
        if (num == b.booking_number && p.source == source) {
          *result = AddPhotoResult::kAlreadyPresent;
          return StatusCode::kOk;
        }
        return StatusCode::kAlreadyExists;
      }
    }
    auto it = bookings_.find(b.booking_number);
    if (it != bookings_.end()) {
      if (it->second.record.status == RecordStatus::kExpunged)
        return StatusCode::kFailedPrecondition;
      BookingRecord cmp = b;
      cmp.status = it->second.record.status;
      if (!(cmp == it->second.record)) return StatusCode::kInvalidArgument;
    } else {
      BookingRecord r = b;
      r.status = RecordStatus::kActive;
      it = bookings_.emplace(b.booking_number, ModelBooking{r, {}}).first;
    }
    it->second.photos.push_back({sha, source, templates});
    for (auto& t : templates) all_templates_.push_back({b.booking_number, t});
    *result = AddPhotoResult::kAdded;
    return StatusCode::kOk;
  }
  StatusCode SetStatus(const std::string& num, RecordStatus s) {
    auto it = bookings_.find(num);
    if (it == bookings_.end()) return StatusCode::kNotFound;
    if (it->second.record.status == RecordStatus::kExpunged) return StatusCode::kFailedPrecondition;
    it->second.record.status = s;
    return StatusCode::kOk;
  }
  StatusCode Expunge(const std::string& num) {
    auto it = bookings_.find(num);
    if (it == bookings_.end()) return StatusCode::kNotFound;
    if (it->second.record.status == RecordStatus::kExpunged) return StatusCode::kOk;
    for (auto& p : it->second.photos) expunged_hashes_.insert(p.sha);
    it->second.photos.clear();
    it->second.record = BookingRecord{num, "", {}, {}, {}, {}, {}, {}, RecordStatus::kExpunged};
    std::erase_if(all_templates_, [&](const ModelTemplate& t) { return t.booking == num; });
    return StatusCode::kOk;
  }
  std::map<std::string, ModelBooking> bookings_;
  std::vector<ModelTemplate> all_templates_;  // in insertion (= id) order
  std::set<std::string> expunged_hashes_;
};

BookingRecord RecordFor(int b, bool variant) {
  BookingRecord r;
  r.booking_number = "B-" + std::to_string(b);
  r.name = variant ? "Other Name" : "Person " + std::to_string(b);
  if (b % 2) r.dob = "1980-01-0" + std::to_string(1 + b % 9);
  r.sex = b % 3 ? std::optional<std::string>("F") : std::nullopt;
  r.race_ethnicity = "recorded-" + std::to_string(b % 4);
  r.booking_date = "2024-03-1" + std::to_string(b % 10);
  r.agency = "County SO";
  r.charge = "PC 459";
  return r;
}

void ExpectSameState(GalleryStore& store, const Model& model) {
  for (const auto& [num, mb] : model.bookings_) {
    auto got = store.GetBooking(num);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, mb.record) << num;
    auto photos = store.ListPhotos(num);
    ASSERT_TRUE(photos.ok());
    ASSERT_EQ(photos->size(), mb.photos.size()) << num;
    for (size_t i = 0; i < mb.photos.size(); ++i) {
      EXPECT_EQ((*photos)[i].sha256, mb.photos[i].sha);
      EXPECT_EQ((*photos)[i].source, mb.photos[i].source);
      EXPECT_EQ((*photos)[i].num_templates, static_cast<int>(mb.photos[i].templates.size()));
    }
  }
  std::vector<std::pair<std::vector<float>, bool>> scanned;
  int64_t prev_id = 0;
  ASSERT_TRUE(store
                  .ScanTemplates(
                      testing::FakeModel(), [](int64_t, int64_t) { return Status::Ok(); },
                      [&](int64_t id, bool active, std::span<const float> t) {
                        EXPECT_GT(id, prev_id);
                        prev_id = id;
                        scanned.push_back({{t.begin(), t.end()}, active});
                        return Status::Ok();
                      })
                  .ok());
  ASSERT_EQ(scanned.size(), model.all_templates_.size());
  int64_t searchable = 0;
  for (size_t i = 0; i < scanned.size(); ++i) {
    const auto& mt = model.all_templates_[i];
    EXPECT_EQ(scanned[i].first, mt.templ);
    bool active = model.bookings_.at(mt.booking).record.status == RecordStatus::kActive;
    EXPECT_EQ(scanned[i].second, active);
    searchable += active;
  }
  auto stats = store.Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->templates, static_cast<int64_t>(model.all_templates_.size()));
  EXPECT_EQ(stats->searchable_templates, searchable);
}

// Every case runs on SQLite (in memory) and on PostgreSQL (a fresh database on the test cluster).
class GalleryStoreTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override { FT_GALLERY_DB_OR_SKIP(GetParam(), ":memory:", uri_); }
  Expected<std::unique_ptr<GalleryStore>> Open() { return GalleryStore::Open(uri_); }
  std::string uri_;
};

TEST_P(GalleryStoreTest, AgreesWithAnInMemoryModel) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    if (seed > 1) {  // a fresh gallery per seed
      SetUp();
      if (IsSkipped()) return;
    }
    auto store = Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    Model model;
    std::mt19937_64 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
    for (int step = 0; step < 300; ++step) {
      const int op = pick(10);
      const std::string num = "B-" + std::to_string(pick(8));
      if (op < 7) {
        const int b = std::stoi(num.substr(2));
        BookingRecord rec = RecordFor(b, pick(20) == 0);
        const int photo = pick(40);
        std::string bytes_text = "photo-" + std::to_string(photo);
        std::vector<uint8_t> bytes(bytes_text.begin(), bytes_text.end());
        std::string source = "p" + std::to_string(photo % 3) + ".jpg";
        std::vector<std::vector<float>> tmpl;
        std::vector<NewTemplate> nts;
        for (int f = 0; f < pick(3); ++f) {
          tmpl.push_back(testing::SeedTemplate(rng()));
          nts.push_back({f, {1, 2, 3, 4}, {}, tmpl.back()});
        }
        AddPhotoResult want_r{}, got_r{};
        StatusCode want = model.AddPhoto(rec, Sha256Hex(bytes), source, tmpl, &want_r);
        auto got = (*store)->AddPhoto(rec, {bytes, std::nullopt, source, "", true, ""},
                                      testing::FakeModel(), nts);
        ASSERT_EQ(got.status().code(), want) << "step " << step << ": " << got.status().ToString();
        if (got.ok()) {
          got_r = *got;
          EXPECT_EQ(got_r, want_r);
        }
      } else if (op < 9) {
        RecordStatus s = pick(2) ? RecordStatus::kSealed : RecordStatus::kActive;
        ASSERT_EQ((*store)->SetStatus(num, s).code(), model.SetStatus(num, s)) << "step " << step;
      } else {
        ASSERT_EQ((*store)->Expunge(num).code(), model.Expunge(num)) << "step " << step;
      }
      if (step % 25 == 0) ExpectSameState(**store, model);
    }
    ExpectSameState(**store, model);
  }
}

TEST_P(GalleryStoreTest, RejectsBadTemplatesAndChangesNothing) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  std::vector<float> nan(128, std::nanf(""));
  std::vector<NewTemplate> t = {{0, {}, {}, nan}};
  std::vector<uint8_t> bytes = {1, 2, 3};
  auto r =
      (*store)->AddPhoto(RecordFor(1, false), {bytes, {}, "a", "", true, ""}, {"m", 1, 128}, t);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->GetBooking("B-1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*store)->ChangeCounter().value(), 0);
}

TEST_P(GalleryStoreTest, ExpungeKeepsOnlyNumberAndHashes) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  std::vector<uint8_t> bytes = {9, 9, 9};
  std::vector<NewTemplate> t = {{0, {}, {}, testing::SeedTemplate(1)}};
  ASSERT_TRUE((*store)
                  ->AddPhoto(RecordFor(1, false), {bytes, {}, "a", "", true, ""}, {"m", 1, 128}, t)
                  .ok());
  const int64_t before = (*store)->ChangeCounter().value();
  ASSERT_TRUE((*store)->Expunge("B-1").ok());
  EXPECT_GT((*store)->ChangeCounter().value(), before);
  auto b = (*store)->GetBooking("B-1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->status, RecordStatus::kExpunged);
  EXPECT_EQ(b->name, "");
  EXPECT_FALSE(b->dob || b->race_ethnicity || b->agency);
  EXPECT_TRUE((*store)->ListPhotos("B-1")->empty());
  EXPECT_EQ((*store)->Stats()->templates, 0);
  // The same photo can never be enrolled again, under any booking.
  auto again =
      (*store)->AddPhoto(RecordFor(2, false), {bytes, {}, "a", "", true, ""}, {"m", 1, 128}, t);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->SetStatus("B-1", RecordStatus::kActive).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*store)->Expunge("B-1").ok());  // idempotent
}

TEST(GalleryStore, OpenByUri) {
  // A password on the command line is refused before any connection is tried.
  EXPECT_EQ(GalleryStore::Open("postgresql://u:secret@db/gallery").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(GalleryStore::Open("postgresql://u@db/gallery?password=x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      GalleryStore::Open("/nonexistent-dir/x.db", {.create_if_missing = false, .snapshot_dir = {}})
          .status()
          .code(),
      StatusCode::kNotFound);
  EXPECT_TRUE(GalleryStore::Open("sqlite::memory:").ok());
}

// ScanTemplates reads in pages of 20,000 rows (keyset on the id, sql_store.cpp): a gallery of
// 20,501 templates (made with set-based SQL, not 20,501 enrolments) spans two pages plus one
// row; every template comes once, in id order, with its booking's status.
TEST_P(GalleryStoreTest, ScanReadsAGalleryOfSeveralPagesOnceInOrder) {
  auto db = Db::Open(uri_);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto store = GalleryStore::OpenOn(*db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::vector<float> templ(128, 1.f / std::sqrt(128.f));  // unit length
  std::vector<NewTemplate> t = {{0, {}, {}, templ}};
  const std::vector<uint8_t> bytes = {1, 2, 3};
  ASSERT_TRUE((*store)
                  ->AddPhoto(RecordFor(1, false), {bytes, {}, "a", "", true, ""}, {"m", 1, 128}, t)
                  .ok());
  constexpr int kMore = 20500;
  for (const std::string& sql : std::vector<std::string>{
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
               std::to_string(kMore) +
               ") INSERT INTO bookings(booking_number, status) SELECT 'PAGE-' || i, CASE WHEN "
               "i % 7 = 0 THEN 'sealed' ELSE 'active' END FROM n",
           std::string("INSERT INTO photos(booking_id, sha256, size_bytes, source, image) "
                       "SELECT b.id, 'sha-' || b.booking_number, 1, 'page', p0.image "
                       "FROM bookings b, photos p0 WHERE b.booking_number LIKE 'PAGE-%' "
                       "AND p0.id = (SELECT min(id) FROM photos)"),
           std::string("INSERT INTO templates(photo_id, face_index, model_id, model_version, "
                       "templ, dim) SELECT p.id, 0, t0.model_id, t0.model_version, t0.templ, "
                       "t0.dim FROM photos p, templates t0 WHERE p.source = 'page' "
                       "AND t0.id = (SELECT min(id) FROM templates)")}) {
    ASSERT_TRUE(db->Exec(sql).ok()) << db->Exec(sql).ToString();
  }
  auto sealed = db->Prepare(
      "SELECT t.id FROM templates t JOIN photos p ON p.id = t.photo_id JOIN bookings b ON "
      "b.id = p.booking_id WHERE b.status = 'sealed'");
  ASSERT_TRUE(sealed.ok());
  std::set<int64_t> inactive;
  for (auto row = sealed->Step(); row.ok() && *row; row = sealed->Step()) {
    inactive.insert(sealed->Int(0));
  }
  ASSERT_EQ(inactive.size(), static_cast<size_t>(kMore / 7));

  int64_t announced = -1, rows = 0, prev_id = 0, wrong = 0;
  ASSERT_TRUE((*store)
                  ->ScanTemplates(
                      {"m", 1, 128},
                      [&](int64_t count, int64_t) {
                        announced = count;
                        return Status::Ok();
                      },
                      [&](int64_t id, bool active, std::span<const float> got) {
                        if (id <= prev_id || active == inactive.contains(id) ||
                            !std::equal(got.begin(), got.end(), templ.begin())) {
                          ++wrong;
                        }
                        prev_id = id;
                        ++rows;
                        return Status::Ok();
                      })
                  .ok());
  EXPECT_EQ(announced, kMore + 1);
  EXPECT_EQ(rows, kMore + 1);
  EXPECT_EQ(wrong, 0);
}

// A random photo of the AgreesWithAnInMemoryModel kind: booking B-0..B-7 (now and then with
// fields that contradict the booking), one of 40 photos from one of 3 sources, 0-2 faces.
PhotoToAdd RandomPhoto(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  PhotoToAdd p;
  p.booking = RecordFor(pick(8), pick(20) == 0);
  const int photo = pick(40);
  const std::string text = "photo-" + std::to_string(photo);
  p.photo = {{text.begin(), text.end()},
             std::nullopt,
             "p" + std::to_string(photo % 3) + ".jpg",
             "",
             true,
             ""};
  for (int f = 0; f < pick(3); ++f) {
    p.templates.push_back({f, {1, 2, 3, 4}, {}, testing::SeedTemplate(rng())});
  }
  return p;
}

// AddPhotos in random batches (duplicates within a batch and across, contradicting bookings,
// sealed and expunged bookings between batches) against the model fed one photo at a time.
TEST_P(GalleryStoreTest, AddPhotosAgreesWithAnInMemoryModelFedOneAtATime) {
  auto store = Open();
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Model model;
  std::mt19937_64 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  for (int step = 0; step < 60; ++step) {
    const std::string num = "B-" + std::to_string(pick(8));
    const int op = pick(10);
    if (op < 7) {
      std::vector<PhotoToAdd> batch(static_cast<size_t>(1 + pick(12)));
      for (PhotoToAdd& p : batch) p = RandomPhoto(rng);
      auto got = (*store)->AddPhotos(testing::FakeModel(), batch);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), batch.size());
      for (size_t i = 0; i < batch.size(); ++i) {
        std::vector<std::vector<float>> tmpl;
        for (const NewTemplate& t : batch[i].templates) tmpl.push_back(t.templ);
        AddPhotoResult want_r{};
        const StatusCode want = model.AddPhoto(batch[i].booking, Sha256Hex(batch[i].photo.bytes),
                                               batch[i].photo.source, tmpl, &want_r);
        ASSERT_EQ((*got)[i].status().code(), want)
            << "step " << step << " element " << i << ": " << (*got)[i].status().ToString();
        if (want == StatusCode::kOk) {
          EXPECT_EQ(*(*got)[i], want_r);
        }
      }
    } else if (op < 9) {
      RecordStatus s = pick(2) ? RecordStatus::kSealed : RecordStatus::kActive;
      ASSERT_EQ((*store)->SetStatus(num, s).code(), model.SetStatus(num, s)) << "step " << step;
    } else {
      ASSERT_EQ((*store)->Expunge(num).code(), model.Expunge(num)) << "step " << step;
    }
    if (step % 10 == 0) ExpectSameState(**store, model);
  }
  ExpectSameState(**store, model);
}

// One AddPhotos of 700 elements (three statements' worth of rows, kBulkRows = 256) leaves the
// very gallery — every row, every id, the change log in its order — and the very results,
// messages included, of 700 AddPhoto calls in the same order, from the same starting gallery
// (a sealed booking, an expunged one, a non-searchable photo, bad templates, duplicates).
TEST_P(GalleryStoreTest, AddPhotosLeavesTheGalleryOfAddPhotoCallsInOrder) {
  testing::TempDir dir("add_photos");
  std::string one_uri, batch_uri;
  FT_GALLERY_DB_OR_SKIP(GetParam(), dir / "one.db", one_uri);
  FT_GALLERY_DB_OR_SKIP(GetParam(), dir / "batch.db", batch_uri);
  std::mt19937_64 rng(11);
  std::vector<PhotoToAdd> photos;
  for (int i = 0; i < 700; ++i) {
    PhotoToAdd p;
    p.booking = RecordFor(i % 90, i % 97 == 5);  // now and then a contradicting field
    const int photo = i < 650 ? i : i - 630;     // the last 50 repeat photos of the same bookings
    const std::string text = i == 123 ? "start-2" : "bulk-" + std::to_string(photo);
    p.photo = {
        {text.begin(), text.end()},     "2024-01-02", i == 663 ? "s1" : "s0", "note", i % 13 != 0,
        i % 17 == 0 ? R"({"x":1})" : ""};
    for (int f = 0; f < 1 + i % 3; ++f) {
      p.templates.push_back(
          {f, {1.f * f, 2, 3, 4}, {0.9f, 30, 5, 1, 2, 3}, testing::SeedTemplate(rng())});
    }
    if (i % 101 == 50) p.templates[0].templ[3] = std::nanf("");  // refused alone
    if (i == 400) p.booking.booking_number.clear();
    photos.push_back(std::move(p));
  }
  std::vector<std::vector<std::string>> results(2);
  for (const std::string& uri : {one_uri, batch_uri}) {
    auto store = GalleryStore::Open(uri);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // The same start: B-1 sealed, B-2 expunged (with its photo), B-0 with a photo.
    for (int b : {0, 1, 2}) {
      const std::string text = "start-" + std::to_string(b);
      ASSERT_TRUE((*store)
                      ->AddPhoto(RecordFor(b, false),
                                 {{text.begin(), text.end()}, {}, "s0", "", true, ""},
                                 testing::FakeModel(),
                                 std::vector<NewTemplate>{{0, {}, {}, testing::SeedTemplate(b)}})
                      .ok());
    }
    ASSERT_TRUE((*store)->SetStatus("B-1", RecordStatus::kSealed).ok());
    ASSERT_TRUE((*store)->Expunge("B-2").ok());
    std::vector<std::string>& got = results[uri == batch_uri];
    if (uri == one_uri) {
      for (const PhotoToAdd& p : photos) {
        auto r = (*store)->AddPhoto(p.booking, p.photo, testing::FakeModel(), p.templates);
        got.push_back(r.ok() ? std::to_string(static_cast<int>(*r)) : r.status().ToString());
      }
    } else {
      auto r = (*store)->AddPhotos(testing::FakeModel(), photos);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      for (const auto& e : *r) {
        got.push_back(e.ok() ? std::to_string(static_cast<int>(*e)) : e.status().ToString());
      }
    }
  }
  ASSERT_EQ(results[0].size(), photos.size());
  int refused = 0, present = 0;
  for (size_t i = 0; i < photos.size(); ++i) {
    EXPECT_EQ(results[1][i], results[0][i]) << "element " << i;
    refused += results[0][i].size() > 1;
    present += results[0][i] == "1";
  }
  EXPECT_GT(refused, 20);  // the cases above happened
  EXPECT_GT(present, 0);
  const std::string one = testing::DumpGallery(one_uri);
  EXPECT_GT(one.size(), 100000u);
  EXPECT_EQ(testing::DumpGallery(batch_uri), one);
}

// The call's own errors store nothing: another model than the active one, a model without a
// dimension.
TEST_P(GalleryStoreTest, AddPhotosWithTheWrongModelStoresNothing) {
  auto store = Open();
  ASSERT_TRUE(store.ok());
  std::mt19937_64 rng(3);
  std::vector<PhotoToAdd> batch = {RandomPhoto(rng)};
  batch[0].templates = {{0, {}, {}, testing::SeedTemplate(1)}};
  ASSERT_TRUE((*store)->AddPhotos(testing::FakeModel(), batch).ok());
  ASSERT_EQ((*store)->ActiveModel()->value(), testing::FakeModel());
  const int64_t counter = (*store)->ChangeCounter().value();
  std::vector<PhotoToAdd> more = {RandomPhoto(rng), RandomPhoto(rng)};
  ModelRef other = testing::FakeModel();
  other.id = "another";
  EXPECT_EQ((*store)->AddPhotos(other, more).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*store)->AddPhotos({"m", 1, 0}, more).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->ChangeCounter().value(), counter);
  EXPECT_EQ((*store)->Stats()->photos, 1);
  // An empty batch is no change.
  auto none = (*store)->AddPhotos(testing::FakeModel(), {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ((*store)->ChangeCounter().value(), counter);
}

INSTANTIATE_TEST_SUITE_P(Backends, GalleryStoreTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace facetrail::gallery
