// The gallery with the real face pipeline on real LFW photos: enroll one photo per person,
// search with another photo of each, seal one, search again. Needs the models
// (scripts/fetch-models); skipped without them.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/file.h"
#include "gallery/face_search.h"
#include "gallery/gallery_test_util.h"

namespace facetrail::gallery {
namespace {

const std::string kLfw = FACETRAIL_SHARED_DIR "/data/lfw-deepfunneled-dev/images";
const std::vector<std::string> kPeople = {"Colin_Powell",   "Tony_Blair",        "Hugo_Chavez",
                                          "Jacques_Chirac", "Jennifer_Capriati", "Lleyton_Hewitt",
                                          "Laura_Bush",     "Nestor_Kirchner",   "Andre_Agassi",
                                          "Tom_Ridge",      "Silvio_Berlusconi", "Vicente_Fox"};

std::string Photo(const std::string& person, int n) {
  char num[8];
  std::snprintf(num, sizeof num, "%04d", n);
  return person + "/" + person + "_" + num + ".jpg";
}

TEST(RealPipeline, EnrollSearchSealSearch) {
  if (!std::filesystem::exists(FACETRAIL_MODELS_DIR "/face_recognition_model.bin") ||
      !std::filesystem::exists(kLfw)) {
    GTEST_SKIP() << "models or LFW images missing";
  }
  testing::TempDir dir("real_pipeline");
  std::string manifest = "booking_number,photo,name,booking_date\n";
  for (size_t i = 0; i < kPeople.size(); ++i) {
    manifest += "B-" + std::to_string(i) + "," + Photo(kPeople[i], 1) + "," + kPeople[i] +
                ",2024-01-0" + std::to_string(1 + i % 9) + "\n";
  }
  manifest += "B-100,no_such.jpg,Missing,\n";
  dir.Write("manifest.csv", manifest);
  auto store = GalleryStore::Open(dir / "g.db");
  ASSERT_TRUE(store.ok());
  vision::PipelineOptions po;
  po.models_dir = FACETRAIL_MODELS_DIR;
  EnrollOptions o;
  o.manifest_path = dir / "manifest.csv";
  o.images_dir = kLfw;
  o.num_workers = 2;
  auto summary = Enroll(**store, PipelineExtractorFactory(po), o);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->enrolled, static_cast<int64_t>(kPeople.size()));
  EXPECT_EQ(summary->rejected_by_reason["unreadable image"], 1);

  auto pipeline = vision::FacePipeline::Create(po);
  ASSERT_TRUE(pipeline.ok());
  auto index = GalleryIndex::Open(**store, ModelOf(**pipeline));
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_EQ((*index)->size(), kPeople.size());
  int rank1 = 0;
  for (size_t i = 0; i < kPeople.size(); ++i) {
    auto bytes = ReadFileBytes(kLfw + "/" + Photo(kPeople[i], 2));
    ASSERT_TRUE(bytes.ok());
    ProbeSearchOptions so;
    so.search = {5, -1.0f};
    auto r = SearchProbe(**pipeline, **index, *bytes, so);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->candidates.empty());
    rank1 += r->candidates[0].owner.booking_number == "B-" + std::to_string(i);
  }
  EXPECT_GE(rank1, static_cast<int>(kPeople.size()) - 1) << "rank-1 hits on 12 people";

  // Seal Colin Powell: his record leaves the very next search.
  auto probe = ReadFileBytes(kLfw + "/" + Photo(kPeople[0], 2));
  ASSERT_TRUE(probe.ok());
  ProbeSearchOptions so;
  so.search = {20, -1.0f};
  auto before = SearchProbe(**pipeline, **index, *probe, so);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->candidates[0].owner.booking_number, "B-0");
  ASSERT_TRUE((*store)->SetStatus("B-0", RecordStatus::kSealed).ok());
  auto after = SearchProbe(**pipeline, **index, *probe, so);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->candidates.size(), kPeople.size() - 1);
  for (const auto& c : after->candidates) EXPECT_NE(c.owner.booking_number, "B-0");
}

}  // namespace
}  // namespace facetrail::gallery
