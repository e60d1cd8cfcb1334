// NIST's sample transactions through the real face pipeline: every Type-10 face is found and
// enrolled, the transactions without one are refused with the reason, and an imported booking
// is found by a search with its own photo. Needs the models (scripts/fetch-models); skipped
// without them.
#include <gtest/gtest.h>

#include <filesystem>

#include "gallery/face_search.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_test_util.h"
#include "interop/import.h"

namespace facetrail::interop {
namespace {

const std::string kSamples = FACETRAIL_SHARED_DIR "/data/ansi-nist-samples";

TEST(AnsiNistPipeline, SampleFolderFacesFoundAndSearchable) {
  if (!std::filesystem::exists(FACETRAIL_MODELS_DIR "/face_recognition_model.bin")) {
    GTEST_SKIP() << "models missing";
  }
  gallery::testing::TempDir dir("ansi_nist_pipeline");
  auto store = gallery::GalleryStore::Open(dir / "g.db");
  ASSERT_TRUE(store.ok());
  vision::PipelineOptions po;
  po.models_dir = FACETRAIL_MODELS_DIR;
  auto files = ListTransactionFiles({kSamples});
  ASSERT_TRUE(files.ok());
  auto source = MakeAnsiNistSource(*files, DefaultEbtsMapping());
  gallery::EnrollOptions o;
  o.rejects_path = dir / "rejects.csv";
  o.num_workers = 2;
  auto s = gallery::EnrollPrepared(**store, gallery::PipelineExtractorFactory(po), *source, o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const std::string rejects = gallery::testing::ReadText(dir / "rejects.csv");
  // Every face record's face is found: nothing is rejected but the six transactions without one
  // and the XML package's two Type-10 records (a placeholder image, a tattoo).
  EXPECT_EQ(s->rejected, 8) << rejects;
  EXPECT_EQ(s->rejected_by_reason["no face record"], 6) << rejects;
  EXPECT_EQ(s->enrolled + s->already_enrolled, 4) << rejects;
  EXPECT_EQ(rejects.find("no face\n"), std::string::npos) << rejects;

  // The booking of face_jpb is found by its own photo at rank 1.
  auto photos = (*store)->ListPhotos("MDNISTIG-face1");
  ASSERT_TRUE(photos.ok());
  ASSERT_EQ(photos->size(), 1u);
  EXPECT_EQ((*photos)[0].num_templates, 1);
  auto bytes = (*store)->ReadPhoto((*photos)[0].id);
  ASSERT_TRUE(bytes.ok());
  auto pipeline = vision::FacePipeline::Create(po);
  ASSERT_TRUE(pipeline.ok());
  auto index = gallery::GalleryIndex::Open(**store, gallery::ModelOf(**pipeline));
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  auto hits = gallery::SearchProbe(**pipeline, **index, *bytes, {});
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_FALSE(hits->candidates.empty());
  EXPECT_EQ(hits->candidates[0].owner.booking_number, "MDNISTIG-face1");
}

}  // namespace
}  // namespace facetrail::interop
