// A ServerTest whose database holds a small gallery enrolled from real LFW photos through the
// real pipeline (four bookings, LFW-0001 = Abdullah Gul), and helpers to make a search request
// and count audit entries.
#pragma once

#include <fstream>
#include <map>

#include "common/file.h"
#include "gallery/enroll.h"
#include "gallery/face_search.h"
#include "gallery/gallery_store.h"
#include "server_test_util.h"

namespace facetrail::server::testing {

inline const std::string kLfwImages =
    std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev/images";

inline std::string ReadWholeFile(const std::string& path) {
  auto bytes = ReadFileBytes(path, size_t{64} << 20);
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

class GalleryServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    EnrollGallery();
  }

  void EnrollGallery() {
    std::string manifest = dir_ + "/manifest.csv";
    std::ofstream out(manifest);
    out << "booking_number,photo,name\n"
        << "LFW-0001,Abdullah_Gul/Abdullah_Gul_0001.jpg,Abdullah Gul\n"
        << "LFW-0002,Abdoulaye_Wade/Abdoulaye_Wade_0001.jpg,Abdoulaye Wade\n"
        << "LFW-0003,Abel_Pacheco/Abel_Pacheco_0001.jpg,Abel Pacheco\n"
        << "LFW-0004,Aaron_Sorkin/Aaron_Sorkin_0001.jpg,Aaron Sorkin\n";
    out.close();
    auto store = gallery::GalleryStore::Open(db_path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    vision::PipelineOptions po;
    po.models_dir = FACETRAIL_MODELS_DIR;
    gallery::EnrollOptions eo;
    eo.manifest_path = manifest;
    eo.images_dir = kLfwImages;
    eo.num_workers = 1;
    auto summary = gallery::Enroll(**store, gallery::PipelineExtractorFactory(po), eo);
    ASSERT_TRUE(summary.ok()) << summary.status().ToString();
    ASSERT_EQ(summary->enrolled, 4);
  }

  static std::map<std::string, std::string> SearchFields() {
    return {{"case", kCase},
            {"purpose", "criminal investigation"},
            {"offense", "robbery"},
            {"justification", "CCTV still from the bank robbery of 2026-11-02"},
            {"agency", kAgency}};
  }

  // Number of audit entries with this action (read straight from the database).
  int64_t CountAudit(const std::string& action) {
    auto db = Db::Open(db_path_, /*create=*/false);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return -1;
    auto stmt = db->Prepare("SELECT count(*) FROM audit_entries WHERE action = ?");
    EXPECT_TRUE(stmt.ok());
    if (!stmt.ok()) return -1;
    stmt->Bind(1, action);
    auto row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row);
    return stmt->Int(0);
  }
};

}  // namespace facetrail::server::testing
