// Gallery management under accountability: seal, unseal and expunge only by a supervisor with a
// reason, each committed with its audit entry; enrolment audited with the manifest's hash.
#include "service/gallery_admin.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "gallery/face_search.h"
#include "gallery/gallery_index.h"
#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::kModel;
using testing::ServiceTest;

class GalleryAdminTest : public ServiceTest {
 protected:
  gallery::RecordStatus StatusOf(const std::string& booking) {
    auto b = gallery_->GetBooking(booking);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? b->status : gallery::RecordStatus::kActive;
  }
  nlohmann::json LastDetails(const std::string& action) {
    auto entries = Entries(action);
    return entries.empty() ? nlohmann::json() : nlohmann::json::parse(entries.back().details);
  }
  bool FindsBooking(int booking) {
    auto r = Search(
        sam_, Request(Probe(booking, testing::GoodQuality(), "#" + std::to_string(++probe_tag_))));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return false;
    for (const auto& c : r->list.candidates) {
      if (c.booking_number == "B-" + std::to_string(booking)) return true;
    }
    return false;
  }
  // The stored template of booking `booking` (its float32 bytes as the database holds them).
  std::vector<uint8_t> StoredTemplate(const std::string& booking) {
    auto st = db_->Prepare(
        "SELECT t.templ FROM templates t JOIN photos p ON p.id = t.photo_id JOIN bookings b ON "
        "b.id = p.booking_id WHERE b.booking_number = ?");
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return {};
    st->Bind(1, booking);
    auto row = st->Step();
    EXPECT_TRUE(row.ok() && *row) << booking;
    return row.ok() && *row ? st->Blob(0) : std::vector<uint8_t>{};
  }
  int probe_tag_ = 0;
};

TEST_P(GalleryAdminTest, SupervisorSealsUnsealsAndExpungesWithAuditedReason) {
  ASSERT_TRUE(FindsBooking(3));
  auto sealed = ChangeBooking(*ctx_, sue_, "B-3", BookingChange::kSeal, "court order 2026-117");
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->before, gallery::RecordStatus::kActive);
  EXPECT_EQ(sealed->after, gallery::RecordStatus::kSealed);
  EXPECT_EQ(sealed->photos, 1);
  EXPECT_EQ(sealed->templates, 1);
  EXPECT_EQ(StatusOf("B-3"), gallery::RecordStatus::kSealed);
  EXPECT_FALSE(FindsBooking(3));  // a sealed record leaves search at once
  nlohmann::json d = LastDetails("gallery.seal");
  EXPECT_EQ(d["booking"], "B-3");
  EXPECT_EQ(d["reason"], "court order 2026-117");
  EXPECT_EQ(d["before"], "active");
  EXPECT_EQ(d["after"], "sealed");
  EXPECT_EQ(d["gallery_version"], sealed->gallery_version);
  EXPECT_EQ(Entries("gallery.seal").back().actor, "sue");

  ASSERT_TRUE(ChangeBooking(*ctx_, sue_, "B-3", BookingChange::kUnseal, "order lifted").ok());
  EXPECT_TRUE(FindsBooking(3));

  auto expunged = ChangeBooking(*ctx_, sue_, "B-3", BookingChange::kExpunge, "acquitted");
  ASSERT_TRUE(expunged.ok()) << expunged.status().ToString();
  EXPECT_EQ(StatusOf("B-3"), gallery::RecordStatus::kExpunged);
  EXPECT_TRUE(gallery_->ListPhotos("B-3")->empty());
  EXPECT_FALSE(FindsBooking(3));
  d = LastDetails("gallery.expunge");
  EXPECT_EQ(d["reason"], "acquitted");
  EXPECT_EQ(d["photo_sha256"], nlohmann::json::array({Sha256Hex("photo of booking 3")}));
  EXPECT_TRUE(audit::Verify(*db_, Pinned())->ok());
}

// True when the first 32 bytes of `templ` are in one of the snapshot files in `folder` (a
// snapshot holds the float32 rows as the database stores them).
bool SnapshotHolds(const std::string& folder, const std::vector<uint8_t>& templ) {
  EXPECT_GE(templ.size(), 32u);
  const std::vector<uint8_t> needle(templ.begin(),
                                    templ.begin() + std::min<size_t>(32, templ.size()));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec)) {
    if (!e.path().string().ends_with(".snapshot")) continue;
    auto bytes = ReadFileBytes(e.path().string(), size_t{256} << 20);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    if (bytes.ok() &&
        std::search(bytes->begin(), bytes->end(), needle.begin(), needle.end()) != bytes->end()) {
      return true;
    }
  }
  return false;
}

// An expunge through a front end that keeps its snapshots in a folder of its own (--snapshot-dir,
// the only place on PostgreSQL) deletes them there: a deleted booking's template must not
// survive in a file on disk. The next refresh writes a snapshot without it.
TEST_P(GalleryAdminTest, ExpungeDeletesTheTemplateFromThisMachinesSnapshotFolder) {
  const std::vector<uint8_t> b9 = StoredTemplate("B-9"), b10 = StoredTemplate("B-10");
  const std::string folder = dir_ + "/snapshots";
  const gallery::StoreOptions options{.create_if_missing = false, .snapshot_dir = folder};
  auto store = gallery::GalleryStore::Open(db_path_, options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto index = gallery::GalleryIndex::Open(**store, {kModel.id, kModel.version, kModel.dim});
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_TRUE(SnapshotHolds(folder, b9)) << "the snapshot does not hold B-9";
  ASSERT_TRUE(SnapshotHolds(folder, b10));
  // SQLite: the fixture's own index keeps its snapshot beside the file; it goes too.
  if (!postgres()) {
    ASSERT_TRUE(SnapshotHolds(dir_, b9));
  }

  ASSERT_TRUE(
      ChangeBooking(*ctx_, sue_, "B-9", BookingChange::kExpunge, "acquitted", options).ok());
  EXPECT_FALSE(SnapshotHolds(folder, b9));
  EXPECT_FALSE(SnapshotHolds(dir_, b9));
  // The next refresh writes the folder's snapshot again, without the expunged template.
  Status sync = (*index)->Refresh();
  ASSERT_TRUE(sync.ok()) << sync.ToString();
  EXPECT_TRUE(SnapshotHolds(folder, b10));
  EXPECT_FALSE(SnapshotHolds(folder, b9));
  EXPECT_FALSE(FindsBooking(9));
  EXPECT_TRUE(FindsBooking(10));
}

// Without the folder named, an expunge can only reach the snapshots it knows of; the folder's
// own index rewrites its snapshot at its next refresh (what every other server does).
TEST_P(GalleryAdminTest, AnotherProcesssSnapshotFolderIsRewrittenAtItsNextRefresh) {
  const std::vector<uint8_t> b9 = StoredTemplate("B-9"), b10 = StoredTemplate("B-10");
  const std::string folder = dir_ + "/other-server";
  auto store = gallery::GalleryStore::Open(db_path_, {.snapshot_dir = folder});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto index = gallery::GalleryIndex::Open(**store, {kModel.id, kModel.version, kModel.dim});
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_TRUE(SnapshotHolds(folder, b9));
  ASSERT_TRUE(ChangeBooking(*ctx_, sue_, "B-9", BookingChange::kExpunge, "acquitted").ok());
  Status sync = (*index)->Refresh();
  ASSERT_TRUE(sync.ok()) << sync.ToString();
  EXPECT_EQ((*index)->last_sync().action, gallery::IndexSync::Action::kRebuilt)
      << (*index)->last_sync().reason;
  EXPECT_FALSE(SnapshotHolds(folder, b9));
  EXPECT_TRUE(SnapshotHolds(folder, b10));
}

TEST_P(GalleryAdminTest, OtherRolesAreRefusedAuditedAndChangeNothing) {
  for (const Actor* who : {&sam_, &eve_, &al_, &admin_}) {
    SCOPED_TRACE(who->name);
    for (BookingChange change :
         {BookingChange::kSeal, BookingChange::kUnseal, BookingChange::kExpunge}) {
      ExpectRefused(ChangeBooking(*ctx_, *who, "B-5", change, "because").status(), "wrong_role");
    }
  }
  EXPECT_EQ(StatusOf("B-5"), gallery::RecordStatus::kActive);
  EXPECT_EQ(gallery_->ListPhotos("B-5")->size(), 1u);
  auto refusals = Entries("gallery.refused");
  ASSERT_EQ(refusals.size(), 12u);
  EXPECT_EQ(nlohmann::json::parse(refusals.front().details)["attempted"], "gallery.seal");
  EXPECT_TRUE(Entries("gallery.seal").empty());
  EXPECT_TRUE(Entries("gallery.expunge").empty());
}

TEST_P(GalleryAdminTest, BadRequestsFailWithoutChange) {
  EXPECT_EQ(ChangeBooking(*ctx_, sue_, "B-1", BookingChange::kSeal, "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ChangeBooking(*ctx_, sue_, "", BookingChange::kSeal, "r").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ChangeBooking(*ctx_, sue_, "B-999", BookingChange::kSeal, "r").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ChangeBooking(*ctx_, sue_, "B-1", BookingChange::kUnseal, "r").status().code(),
            StatusCode::kFailedPrecondition);  // already active
  ASSERT_TRUE(ChangeBooking(*ctx_, sue_, "B-1", BookingChange::kExpunge, "r").ok());
  for (BookingChange change :
       {BookingChange::kSeal, BookingChange::kUnseal, BookingChange::kExpunge}) {
    EXPECT_EQ(ChangeBooking(*ctx_, sue_, "B-1", change, "r").status().code(),
              StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(Entries("gallery.expunge").size(), 1u);
  EXPECT_TRUE(Entries("gallery.seal").empty());
}

// The change and its audit entry are one transaction: when the entry cannot be written, the
// booking keeps its state and the gallery's change counter does not move.
TEST_P(GalleryAdminTest, NoChangeWithoutItsAuditEntry) {
  auto before = gallery_->ChangeCounter();
  ASSERT_TRUE(before.ok());
  const bool pg = postgres();
  ASSERT_TRUE(db_->Exec(pg ? "CREATE FUNCTION fail_gallery_entries() RETURNS trigger "
                             "LANGUAGE plpgsql AS $$ BEGIN IF NEW.action LIKE 'gallery.%' THEN "
                             "RAISE EXCEPTION 'injected audit failure'; END IF; RETURN NEW; "
                             "END $$; CREATE TRIGGER fail_gallery_entries BEFORE INSERT ON "
                             "audit_entries FOR EACH ROW EXECUTE FUNCTION fail_gallery_entries()"
                           : "CREATE TEMP TRIGGER fail_gallery_entries BEFORE INSERT ON "
                             "audit_entries WHEN NEW.action LIKE 'gallery.%' BEGIN "
                             "SELECT RAISE(ABORT, 'injected audit failure'); END")
                  .ok());
  for (BookingChange change : {BookingChange::kSeal, BookingChange::kExpunge}) {
    Status s = ChangeBooking(*ctx_, sue_, "B-7", change, "court order").status();
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.ToString().find("injected audit failure"), std::string::npos) << s.ToString();
  }
  ASSERT_TRUE(db_->Exec(pg ? "DROP TRIGGER fail_gallery_entries ON audit_entries"
                           : "DROP TRIGGER temp.fail_gallery_entries")
                  .ok());
  EXPECT_EQ(StatusOf("B-7"), gallery::RecordStatus::kActive);
  EXPECT_EQ(gallery_->ListPhotos("B-7")->size(), 1u);
  EXPECT_EQ(*gallery_->ChangeCounter(), *before);
  EXPECT_TRUE(FindsBooking(7));
}

TEST_P(GalleryAdminTest, EnrolmentIsAuditedWithTheManifestHash) {
  const std::filesystem::path images =
      std::filesystem::path(FACETRAIL_SHARED_DIR) / "data/lfw-deepfunneled-dev/images";
  if (!std::filesystem::exists(std::filesystem::path(FACETRAIL_MODELS_DIR) /
                               "face_recognition_model.bin") ||
      !std::filesystem::exists(images / "Aaron_Sorkin")) {
    GTEST_SKIP() << "models or LFW images missing (scripts/fetch-models)";
  }
  const std::string manifest = dir_ + "/manifest.csv";
  std::ofstream(manifest) << "booking_number,photo,name\n"
                          << "L-1,Aaron_Sorkin/Aaron_Sorkin_0001.jpg,Aaron Sorkin\n"
                          << "L-2,Abel_Pacheco/Abel_Pacheco_0001.jpg,Abel Pacheco\n"
                          << "L-3,No_Such_Person/No_Such_Person_0001.jpg,Nobody\n";
  vision::PipelineOptions po;
  po.models_dir = FACETRAIL_MODELS_DIR;
  // The fixture's gallery holds synthetic templates of a test model, which is its active model:
  // photos of the real pipeline's model would be refused (they would not be searched). Empty it,
  // so that this enrolment starts a gallery of the real model.
  ASSERT_TRUE(db_->Exec("DELETE FROM templates; DELETE FROM photos; DELETE FROM bookings; "
                        "DELETE FROM gallery_meta WHERE key LIKE 'active_model%'")
                  .ok());
  gallery::EnrollOptions options;
  options.manifest_path = manifest;
  options.images_dir = images.string();
  options.num_workers = 1;

  auto refused = EnrollBookings(*ctx_, sam_, gallery::PipelineExtractorFactory(po), options);
  ExpectRefused(refused.status(), "wrong_role");
  EXPECT_FALSE(gallery_->GetBooking("L-1").ok());
  EXPECT_TRUE(Entries("gallery.enroll.start").empty());

  auto summary = EnrollBookings(*ctx_, admin_, gallery::PipelineExtractorFactory(po), options);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->enrolled, 2);
  EXPECT_EQ(summary->rejected, 1);
  nlohmann::json start = LastDetails("gallery.enroll.start");
  nlohmann::json end = LastDetails("gallery.enroll");
  auto hash = Sha256FileHex(manifest);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(start["manifest_sha256"], *hash);
  EXPECT_EQ(end["manifest_sha256"], *hash);
  EXPECT_EQ(end["enrolled"], 2);
  EXPECT_EQ(end["rejected"], 1);
  EXPECT_GT(end["gallery_version"].get<int64_t>(), start["gallery_version"].get<int64_t>());
  EXPECT_EQ(Entries("gallery.enroll").back().actor, "admin");
  EXPECT_EQ(gallery_->GetBooking("L-2")->status, gallery::RecordStatus::kActive);

  // A missing manifest: the start entry is not written, the error names the file.
  options.manifest_path = dir_ + "/missing.csv";
  auto missing = EnrollBookings(*ctx_, sue_, gallery::PipelineExtractorFactory(po), options);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().ToString().find("missing.csv"), std::string::npos);
  EXPECT_EQ(Entries("gallery.enroll.start").size(), 1u);
  EXPECT_TRUE(audit::Verify(*db_, Pinned())->ok());
}

FT_INSTANTIATE_BACKENDS(GalleryAdminTest);

}  // namespace
}  // namespace facetrail::service
