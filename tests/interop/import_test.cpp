// From NIST's sample transactions to gallery bookings: the Type-2 mapping (EBTS default and a
// configuration file), the photos of each transaction, and the import through
// gallery::EnrollPrepared (idempotent, resumable, rejects with reasons, profile views kept out of
// searches). Faces come from a stand-in extractor here (one face per JPEG, its template from the
// bytes); pipeline_import_test.cpp runs the real networks.
#include "interop/import.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/sha256.h"
#include "gallery/fake_extractor.h"
#include "gallery/gallery_test_util.h"

namespace facetrail::interop {
namespace {

using gallery::testing::DumpGallery;
using gallery::testing::ReadText;
using gallery::testing::TempDir;

const std::string kSamples = FACETRAIL_SHARED_DIR "/data/ansi-nist-samples";

std::vector<uint8_t> Sample(const std::string& name) {
  auto bytes = ReadFileBytes(kSamples + "/" + name);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

// One centred frontal face per JPEG; its template is seeded by the bytes' hash.
class JpegFaceExtractor : public gallery::FaceExtractor {
 public:
  Expected<std::vector<gallery::ExtractedFace>> Extract(std::span<const uint8_t> b) override {
    if (b.size() < 3 || b[0] != 0xFF || b[1] != 0xD8) return InvalidArgument("not a JPEG");
    gallery::ExtractedFace f;
    f.box = {10, 10, 100, 100};
    const std::string h = Sha256Hex(b);
    f.templ = gallery::testing::SeedTemplate(std::stoull(h.substr(0, 12), nullptr, 16));
    return std::vector<gallery::ExtractedFace>{f};
  }
  gallery::ModelRef model() const override { return gallery::testing::FakeModel(); }
};

gallery::FaceExtractorFactory JpegFactory() {
  return []() -> Expected<std::unique_ptr<gallery::FaceExtractor>> {
    return std::unique_ptr<gallery::FaceExtractor>(new JpegFaceExtractor);
  };
}

TEST(BookingMapping, EbtsDefaultMapsType2) {
  const auto bytes = Sample("valid1.3.an2");
  auto t = ParseTransaction(bytes);
  ASSERT_TRUE(t.ok());
  auto m = MapBooking(*t, DefaultEbtsMapping());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const gallery::BookingRecord& b = m->booking;
  EXPECT_EQ(b.booking_number, "AWRE01730-1234567890");  // no OCA (2.009): ORI-TCN
  EXPECT_EQ(b.name, "brad");
  EXPECT_EQ(b.dob, "1970-03-08");
  EXPECT_EQ(b.sex, "G");
  EXPECT_EQ(b.race_ethnicity, "U");
  EXPECT_EQ(b.booking_date, "2009-09-09");
  EXPECT_EQ(b.agency, "343984");  // CRI (2.073)
  EXPECT_EQ(b.charge, "584584");  // ASL (2.047) item 2: the offense literal
  // Every other Type-2 field is kept as written.
  const std::map<std::string, std::string> unmapped = {
      {"2.005", "Y"},
      {"2.020", "DC"},
      {"2.027", "500"},
      {"2.029", "220"},
      {"2.031", "MAR"},
      {"2.032", "RED"},
      {"2.040", "farmer"},
      // Only an item of 2.047 is mapped (the offense): the whole field is kept too.
      {"2.047",
       "20060204\x1f"
       "584584"}};
  EXPECT_EQ(m->unmapped, unmapped);
}

// The mapping file shipped in docs/ is the built-in default, field for field.
TEST(BookingMapping, ShippedEbtsFileIsTheDefault) {
  auto m = LoadBookingMapping(FACETRAIL_SOURCE_DIR "/docs/interop/ebts-mapping.json");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const BookingMapping& d = DefaultEbtsMapping();
  ASSERT_EQ(m->fields.size(), d.fields.size());
  for (const auto& [key, sources] : d.fields) {
    SCOPED_TRACE(key);
    ASSERT_EQ(m->fields.count(key), 1u);
    const auto& got = m->fields.at(key);
    ASSERT_EQ(got.size(), sources.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].type, sources[i].type);
      EXPECT_EQ(got[i].number, sources[i].number);
      EXPECT_EQ(got[i].item, sources[i].item);
      EXPECT_EQ(got[i].element, sources[i].element);
    }
  }
  EXPECT_EQ(m->booking_number_from_control_number, d.booking_number_from_control_number);
}

TEST(BookingMapping, ConfigurationFile) {
  auto m = ParseBookingMapping(R"({"fields": {"booking_number": ["2.073"], "name": ["2.018"],
                                   "agency": ["1.008"], "charge": ["2.047"]},
                                   "booking_number_from_control_number": false})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto bytes = Sample("valid1.13.an2");
  auto t = ParseTransaction(bytes);
  ASSERT_TRUE(t.ok());
  auto b = MapBooking(*t, *m);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->booking.booking_number, "4398432");
  EXPECT_EQ(b->booking.name, "donald");
  EXPECT_EQ(b->booking.agency, "AWRE01730");
  EXPECT_EQ(b->booking.charge, "20030107 2429484");  // the whole field: items joined
  EXPECT_EQ(b->booking.dob, std::nullopt);           // not mapped here ...
  EXPECT_EQ(b->unmapped.at("2.022"), "19400502");    // ... so kept raw

  for (const std::string bad :
       {R"({"fields": {"nickname": ["2.018"]}})", R"({"fields": {"name": ["18"]}})",
        R"({"fields": {"name": ["2.018#x"]}})", R"({"fields": {"name": "2.018"}})",
        R"({"colour": 1})", R"([1])", "not json"}) {
    auto r = ParseBookingMapping(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  // A mapped date that is not a date refuses the transaction, naming the field.
  auto dob = ParseBookingMapping(R"({"fields": {"dob": ["2.018"]}})");
  ASSERT_TRUE(dob.ok());
  auto refused = MapBooking(*t, *dob);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "record 1 (Type-2) field 2.018 (dob): 'donald' is not a YYYYMMDD date");
}

TEST(TransactionPhotos, EverySampleImportedOrRefusedWithItsReason) {
  struct Want {
    int photos;
    std::string reject;  // "" for imported
  };
  const std::map<std::string, Want> wants = {
      {"face_jpb_DOM_GMT_DCS.an2", {1, ""}},
      {"valid1.3.an2", {1, ""}},
      {"valid1.11.an2", {1, ""}},
      {"valid1.16.an2", {1, ""}},
      {"valid1.1.an2", {0, "no face record: the transaction has no Type-10 record"}},
      {"valid1.2.an2", {0, "no face record: the transaction has no Type-10 record"}},
      {"valid1.13.an2", {0, "no face record: the transaction has no Type-10 record"}},
      {"valid1.14.an2", {0, "no face record: the transaction has no Type-10 record"}},
      {"valid1.15.an2", {0, "no face record: the transaction has no Type-10 record"}},
      {"sign_vec.an2", {0, "no face record: the transaction has no Type-10 record"}},
  };
  for (const auto& [name, want] : wants) {
    SCOPED_TRACE(name);
    const auto bytes = Sample(name);
    auto photos = TransactionPhotos(name, bytes, DefaultEbtsMapping());
    ASSERT_EQ(photos.size(), 1u);
    EXPECT_EQ(photos[0].reject_reason, want.reject);
    if (want.photos == 0) continue;
    const gallery::PreparedPhoto& p = photos[0];
    EXPECT_FALSE(p.photo.bytes.empty());
    EXPECT_FALSE(p.booking.booking_number.empty());
    auto origin = nlohmann::json::parse(p.photo.origin);
    EXPECT_EQ(origin["face"]["image_type"], "FACE");
    EXPECT_EQ(origin["file"], name);
  }
  const auto face = Sample("face_jpb_DOM_GMT_DCS.an2");
  auto p = TransactionPhotos("f", face, DefaultEbtsMapping());
  EXPECT_EQ(p[0].booking.booking_number, "MDNISTIG-face1");  // no Type-2: ORI-TCN
  EXPECT_EQ(p[0].booking.agency, "MDNISTIG");
  EXPECT_EQ(p[0].photo.source, "ansi-nist:MDNISTIG/face1/10.0");
  EXPECT_EQ(p[0].photo.capture_date, "2004-02-29");
  EXPECT_TRUE(p[0].photo.searchable);
  auto origin = nlohmann::json::parse(p[0].photo.origin);
  EXPECT_EQ(origin["face"]["sap"], 40);
  EXPECT_EQ(origin["face"]["pose"], "frontal");
  EXPECT_EQ(origin["face"]["colour_space"], "SRGB");
  EXPECT_EQ(origin["transaction"]["version"], "0400");

  const auto angled = Sample("valid1.11.an2");
  auto a = TransactionPhotos("a", angled, DefaultEbtsMapping());
  EXPECT_FALSE(a[0].photo.searchable);
  EXPECT_EQ(a[0].photo.note, "not searched: angled 120 deg view (10.020)");
  EXPECT_EQ(a[0].booking.name, "smith,tom");

  // A damaged transaction is refused with the parser's named error.
  auto cut = Sample("valid1.3.an2");
  cut.resize(cut.size() - 10);
  auto r = TransactionPhotos("cut.an2", cut, DefaultEbtsMapping());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].reject_reason,
            "malformed transaction: record 2 (Type-10) field 10.001: length 25958 runs past the "
            "end of the file (25948 bytes left)");
}

gallery::EnrollOptions Options(const TempDir& dir) {
  gallery::EnrollOptions o;
  o.rejects_path = dir / "rejects.csv";
  o.num_workers = 2;
  return o;
}

TEST(AnsiNistEnroll, SampleFolderIdempotentWithRejectsAndProfileFlag) {
  TempDir dir("ansi_nist_enroll");
  auto files = ListTransactionFiles({kSamples});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 11u);  // the .an2 files and the XML; SOURCE.md, SHA256SUMS are not
  auto store = gallery::GalleryStore::Open(dir / "g.db");
  ASSERT_TRUE(store.ok());
  auto source = MakeAnsiNistSource(*files, DefaultEbtsMapping());
  EXPECT_EQ(source->Total(), 12);  // 4 photos, 6 refusals, the XML's two Type-10 refusals
  auto s = gallery::EnrollPrepared(**store, JpegFactory(), *source, Options(dir));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rows, 12);
  // valid1.11 and valid1.16 are one transaction (same ORI, TCN, IDC and image) written twice:
  // the second adds nothing.
  EXPECT_EQ(s->enrolled, 3);
  EXPECT_EQ(s->already_enrolled, 1);
  EXPECT_EQ(s->rejected, 8);
  EXPECT_EQ(s->rejected_by_reason["no face record"], 6);
  EXPECT_EQ(s->rejected_by_reason["malformed face record"], 1);  // the XML's placeholder image
  EXPECT_EQ(s->rejected_by_reason["not a face image"], 1);       // the XML's tattoo
  const std::string rejects = ReadText(dir / "rejects.csv");
  EXPECT_NE(rejects.find("valid1.1.an2,rejected,no face record"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("flagged,not searched: angled 120 deg view (10.020)"), std::string::npos)
      << rejects;

  auto photos = (*store)->ListPhotos("NY0303000-1234567890");
  ASSERT_TRUE(photos.ok());
  ASSERT_EQ(photos->size(), 1u);
  EXPECT_FALSE((*photos)[0].searchable);  // enrolled from 1.11 first (sorted names): angled
  EXPECT_EQ((*photos)[0].source, "ansi-nist:NY0303000/1234567890/10.2");
  auto origin = nlohmann::json::parse((*photos)[0].origin);
  EXPECT_EQ(origin["unmapped"]["2.037"], "94588453");
  auto booking = (*store)->GetBooking("AWRE01730-1234567890");
  ASSERT_TRUE(booking.ok());
  EXPECT_EQ(booking->name, "brad");
  auto stats = (*store)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->templates, 3);
  EXPECT_EQ(stats->searchable_templates, 2);  // the angled view is kept, not searched

  // Sealing and unsealing never makes the profile view searchable.
  ASSERT_TRUE((*store)->SetStatus("NY0303000-1234567890", gallery::RecordStatus::kSealed).ok());
  ASSERT_TRUE((*store)->SetStatus("NY0303000-1234567890", gallery::RecordStatus::kActive).ok());
  int active = 0;
  ASSERT_TRUE((*store)
                  ->ScanTemplates(
                      gallery::testing::FakeModel(), [](int64_t, int64_t) { return Status::Ok(); },
                      [&](int64_t, bool is_active, std::span<const float>) {
                        active += is_active ? 1 : 0;
                        return Status::Ok();
                      })
                  .ok());
  EXPECT_EQ(active, 2);

  // The same folder again changes nothing.
  const std::string before = DumpGallery(dir / "g.db");
  auto again = MakeAnsiNistSource(*files, DefaultEbtsMapping());
  auto s2 = gallery::EnrollPrepared(**store, JpegFactory(), *again, Options(dir));
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->enrolled, 0);
  EXPECT_EQ(s2->already_enrolled, 4);
  EXPECT_EQ(DumpGallery(dir / "g.db"), before);
}

TEST(AnsiNistEnroll, ResumesAfterAnInterruptedRun) {
  TempDir dir("ansi_nist_resume");
  auto files = ListTransactionFiles({kSamples});
  ASSERT_TRUE(files.ok());
  // A first run that saw only two files (as if killed after them), then the whole folder.
  {
    auto store = gallery::GalleryStore::Open(dir / "a.db");
    ASSERT_TRUE(store.ok());
    auto part = MakeAnsiNistSource({(*files)[0], (*files)[3]}, DefaultEbtsMapping());
    ASSERT_TRUE(gallery::EnrollPrepared(**store, JpegFactory(), *part, Options(dir)).ok());
    auto all = MakeAnsiNistSource(*files, DefaultEbtsMapping());
    ASSERT_TRUE(gallery::EnrollPrepared(**store, JpegFactory(), *all, Options(dir)).ok());
  }
  {
    auto store = gallery::GalleryStore::Open(dir / "b.db");
    ASSERT_TRUE(store.ok());
    auto all = MakeAnsiNistSource(*files, DefaultEbtsMapping());
    ASSERT_TRUE(gallery::EnrollPrepared(**store, JpegFactory(), *all, Options(dir)).ok());
  }
  EXPECT_EQ(DumpGallery(dir / "a.db"), DumpGallery(dir / "b.db"));
}

TEST(AnsiNistEnroll, DamagedAndMissingFilesAreRejectsNotFailures) {
  TempDir dir("ansi_nist_damaged");
  auto bytes = Sample("valid1.3.an2");
  const std::string text(bytes.begin(), bytes.end());
  bytes[text.find("2.020:") + 1] = '#';  // a field tag of the Type-2 record broken
  ASSERT_TRUE(WriteFileAtomically(dir / "broken.an2", bytes).ok());
  ASSERT_TRUE(WriteFileAtomically(dir / "empty.an2", {}).ok());
  auto files = ListTransactionFiles({dir / "broken.an2", dir / "empty.an2"});
  ASSERT_TRUE(files.ok());
  EXPECT_FALSE(ListTransactionFiles({dir / "nothing-here"}).ok());
  auto store = gallery::GalleryStore::Open(dir / "g.db");
  ASSERT_TRUE(store.ok());
  auto source = MakeAnsiNistSource(*files, DefaultEbtsMapping());
  auto s = gallery::EnrollPrepared(**store, JpegFactory(), *source, Options(dir));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rejected_by_reason["malformed transaction"], 2);
  const std::string rejects = ReadText(dir / "rejects.csv");
  EXPECT_NE(rejects.find("record 1 (Type-2)"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("not an ANSI/NIST-ITL transaction"), std::string::npos) << rejects;
}

}  // namespace
}  // namespace facetrail::interop

namespace facetrail::interop {
namespace {

// Every sample with a face, imported, exported as a Type-10 transaction and read back: the same
// booking, image bytes, Type-10 attributes, transaction header and unmapped Type-2 fields.
TEST(AnsiNistExport, RoundTripKeepsEveryImportedField) {
  for (const std::string name :
       {"face_jpb_DOM_GMT_DCS.an2", "valid1.3.an2", "valid1.11.an2", "valid1.16.an2"}) {
    SCOPED_TRACE(name);
    TempDir dir("ansi_nist_export");
    auto store = gallery::GalleryStore::Open(dir / "g.db");
    ASSERT_TRUE(store.ok());
    auto source = MakeAnsiNistSource({kSamples + "/" + name}, DefaultEbtsMapping());
    auto s = gallery::EnrollPrepared(**store, JpegFactory(), *source, Options(dir));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_EQ(s->enrolled, 1);
    const auto original = TransactionPhotos(name, Sample(name), DefaultEbtsMapping());
    ASSERT_EQ(original.size(), 1u);
    const std::string number = original[0].booking.booking_number;

    auto booking = (*store)->GetBooking(number);
    ASSERT_TRUE(booking.ok());
    auto infos = (*store)->ListPhotos(number);
    ASSERT_TRUE(infos.ok());
    std::vector<PhotoToExport> photos;
    for (const auto& info : *infos) {
      auto bytes = (*store)->ReadPhoto(info.id);
      ASSERT_TRUE(bytes.ok());
      photos.push_back({info, *bytes});
    }
    auto exported = ExportTransaction(*booking, photos, DefaultEbtsMapping());
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    ASSERT_TRUE(ParseTransaction(*exported).ok())
        << ParseTransaction(*exported).status().ToString();

    const auto back = TransactionPhotos(name, *exported, DefaultEbtsMapping());
    ASSERT_EQ(back.size(), 1u);
    ASSERT_EQ(back[0].reject_reason, "");
    EXPECT_EQ(back[0].booking, original[0].booking);
    EXPECT_EQ(back[0].photo.bytes, original[0].photo.bytes);
    EXPECT_EQ(back[0].photo.source, original[0].photo.source);
    EXPECT_EQ(back[0].photo.capture_date, original[0].photo.capture_date);
    EXPECT_EQ(back[0].photo.searchable, original[0].photo.searchable);
    EXPECT_EQ(back[0].photo.note, original[0].photo.note);
    auto a = nlohmann::json::parse(original[0].photo.origin);
    auto b = nlohmann::json::parse(back[0].photo.origin);
    // The record's position is transport, not content: the export puts Type-2 first.
    a["face"].erase("record");
    b["face"].erase("record");
    EXPECT_EQ(b["face"], a["face"]);
    EXPECT_EQ(b["transaction"], a["transaction"]);
    EXPECT_EQ(b["unmapped"], a["unmapped"]);

    // Importing the export into the same gallery changes nothing: same key, same bytes.
    const std::string before = DumpGallery(dir / "g.db");
    ASSERT_TRUE(WriteFileAtomically(dir / "export.an2", *exported).ok());
    auto again = MakeAnsiNistSource({dir / "export.an2"}, DefaultEbtsMapping());
    auto s2 = gallery::EnrollPrepared(**store, JpegFactory(), *again, Options(dir));
    ASSERT_TRUE(s2.ok());
    EXPECT_EQ(s2->already_enrolled, 1);
    EXPECT_EQ(DumpGallery(dir / "g.db"), before);
  }
}

}  // namespace
}  // namespace facetrail::interop
