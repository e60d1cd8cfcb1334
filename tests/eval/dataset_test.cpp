// Readers (labelled folder, groups, reference results), hostile CSV/JSON, the template cache, and
// the protocols on a small synthetic dataset with hand-checked answers.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "eval/evaluation.h"
#include "eval/internal/csv.h"

namespace facetrail::eval {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("ft_eval_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST(CsvTest, QuotesCrlfBomAndBlankLines) {
  Expected<internal::CsvTable> t = internal::ParseCsv(
      "\xEF\xBB\xBFpath,identity\r\n\"a,b.jpg\",\"O\"\"Brien\"\r\n\r\n c.jpg , X\n", "x.csv");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->header[0], "path");
  EXPECT_EQ(t->rows[0].fields[0], "a,b.jpg");
  EXPECT_EQ(t->rows[0].fields[1], "O\"Brien");
  EXPECT_EQ(t->rows[1].fields[0], "c.jpg");
  EXPECT_EQ(t->rows[1].line, 4);
}

TEST(CsvTest, MalformedInputNamesTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "x.csv: empty file"},
      {"a,b\n1,2\n3\n", "x.csv line 3: expected 2 fields as in the header, got 1"},
      {"a,b\n1,\"2\n", "x.csv line 2: unterminated quoted field"},
      {"a,b\n1,\"2\"x\n", "x.csv line 2: unexpected text after a closing quote"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    Expected<internal::CsvTable> t = internal::ParseCsv(c.text, "x.csv");
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(c.message), std::string::npos) << t.status().message();
  }
}

const char kIdentities[] =
    "path,identity\n"
    "a1.jpg,A\na2.jpg,A\na3.jpg,A\nb1.jpg,B\nb2.jpg,B\nc1.jpg,C\nd1.jpg,D\n";

TEST(DatasetTest, LoadsIdentitiesPairsAndFolds) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  dir.Write("pairs.csv", "path_a,path_b,same\na1.jpg,a2.jpg,1\na1.jpg,b1.jpg,0\nb1.jpg,b2.jpg,1\n");
  dir.Write("folds.csv", "identity,role\nA,fold1\nB,fold2\n");
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->images.size(), 7u);
  ASSERT_EQ(d->pairs.size(), 3u);
  EXPECT_EQ(d->pairs[0].fold, 1);
  EXPECT_EQ(d->pairs[2].fold, 2);  // fold of the first image's identity
  EXPECT_FALSE(d->pairs[1].genuine);
}

// folds.csv is optional: a role that is not a fold (a distractor list, say) or a file without the
// expected columns is reported, never fatal (issue 17: `eval report` stopped on 'distractor').
TEST(DatasetTest, FoldsFileProblemsAreWarningsNotErrors) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  dir.Write("pairs.csv", "path_a,path_b,same\na1.jpg,a2.jpg,1\nb1.jpg,b2.jpg,1\n");
  dir.Write("folds.csv", "identity,role\nA,fold1\nB,distractor\nC,distractor\nD,gallery-only\n");
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->pairs[0].fold, 1);
  EXPECT_EQ(d->pairs[1].fold, 0);  // B has no fold
  ASSERT_EQ(d->warnings.size(), 2u);
  EXPECT_NE(d->warnings[0].find("2 rows with role 'distractor'"), std::string::npos)
      << d->warnings[0];
  EXPECT_NE(d->warnings[1].find("'gallery-only'"), std::string::npos);

  dir.Write("folds.csv", "who,what\nA,1\n");
  d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->warnings.size(), 1u);
  EXPECT_NE(d->warnings[0].find("missing column 'identity'"), std::string::npos) << d->warnings[0];
  EXPECT_NE(d->warnings[0].find("folds.csv ignored"), std::string::npos);
}

TEST(DatasetTest, ErrorsNameFileLineAndColumn) {
  struct Case {
    const char* identities;
    const char* pairs;
    const char* message;
  };
  const Case cases[] = {
      {"path,who\na.jpg,A\n", nullptr, "identities.csv line 1: missing column 'identity'"},
      {"path,identity\na.jpg,A\na.jpg,B\n", nullptr,
       "identities.csv line 3, column path: 'a.jpg' is listed twice"},
      {"path,identity\na.jpg,\n", nullptr, "identities.csv line 2, column identity: empty"},
      {kIdentities, "path_a,path_b,same\na1.jpg,zz.jpg,1\n",
       "pairs.csv line 2, column path_b: 'zz.jpg' is not in identities.csv"},
      {kIdentities, "path_a,path_b,same\na1.jpg,a2.jpg,yes\n",
       "pairs.csv line 2, column same: 'yes' is not 1/0/true/false"},
      {kIdentities, "path_a,path_b,same\na1.jpg,b1.jpg,1\n",
       "pairs.csv line 2, column same: says 1 but identities.csv gives 'A' and 'B'"},
      {kIdentities, "path_a,path_b,same,fold\na1.jpg,a2.jpg,1,x\n",
       "pairs.csv line 2, column fold: 'x' is not a fold number"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    TempDir dir;
    dir.Write("identities.csv", c.identities);
    if (c.pairs) dir.Write("pairs.csv", c.pairs);
    Expected<Dataset> d = LoadDataset(dir.str());
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.status().message().find(c.message), std::string::npos) << d.status().message();
  }
  EXPECT_EQ(LoadDataset("/nonexistent/folder").status().code(), StatusCode::kNotFound);
}

TEST(DatasetTest, GroupsByIdentityOrPath) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok());
  size_t unmatched = 0;
  const std::string g = dir.Write("g.csv", "identity,sex,age\nA,f,30-39\nB,m,\nZ,f,20-29\n");
  ASSERT_TRUE(LoadGroups(g, *d, &unmatched).ok());
  EXPECT_EQ(unmatched, 1u);
  ASSERT_EQ(d->groups.size(), 2u);
  EXPECT_EQ(d->groups[0].values, (std::vector<std::string>{"f", "m"}));
  EXPECT_EQ(d->groups[0].image_group[0], 0);
  EXPECT_EQ(d->groups[0].image_group[3], 1);
  EXPECT_EQ(d->groups[0].image_group[5], -1);  // C: unknown
  EXPECT_EQ(d->groups[1].values, (std::vector<std::string>{"30-39"}));
  const std::string bad = dir.Write("bad.csv", "name,sex\nA,f\n");
  const Status s = LoadGroups(bad, *d);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 1: the first column must be 'path' or 'identity'"),
            std::string::npos);
}

TEST(ReferenceReaderTest, JsonlPicksTheFirstFaceAndReportsBadLines) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok());
  const std::string good = dir.Write(
      "r.jsonl",
      "{\"type\":\"header\"}\n"
      "{\"type\":\"image\",\"path\":\"a1.jpg\",\"faces\":[{\"score\":0.9,\"descriptor\":[1,0]},"
      "{\"score\":0.8,\"descriptor\":[0,1]}]}\n"
      "{\"type\":\"image\",\"path\":\"" +
          dir.str() +
          "/b1.jpg\",\"faces\":[{\"descriptor\":[0,2]}]}\n"
          "{\"type\":\"image\",\"path\":\"c1.jpg\",\"faces\":[]}\n"
          "{\"type\":\"image\",\"path\":\"d1.jpg\",\"error\":\"bad\"}\n"
          "{\"type\":\"image\",\"path\":\"elsewhere.jpg\",\"faces\":[]}\n");
  Expected<SystemResults> r = ReadFaceApiJsonl(good, *d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->image_vectors[0], (std::vector<double>{1, 0}));
  EXPECT_EQ(r->image_vectors[3], (std::vector<double>{0, 2}));
  EXPECT_TRUE(r->image_vectors[5].empty());
  EXPECT_TRUE(r->image_vectors[6].empty());
  EXPECT_DOUBLE_EQ(CompareVectors(r->image_vectors[0], r->image_vectors[3], r->kind),
                   -std::sqrt(5.0));
  EXPECT_TRUE(std::isnan(CompareVectors(r->image_vectors[0], r->image_vectors[5], r->kind)));

  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"{\"type\":\"image\",\"path\":\"a1.jpg\",\"faces\":[]}\nnot json\n",
       "line 2: not a JSON object"},
      {"{\"type\":\"image\",\"faces\":[]}\n", "line 1: an image line needs a string \"path\""},
      {"{\"type\":\"image\",\"path\":\"a1.jpg\",\"faces\":[{\"descriptor\":[1,\"x\"]}]}\n",
       "line 1, faces[0].descriptor: element is not a number"},
      {"{\"type\":\"header\"}\n", "no \"type\":\"image\" lines"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    Expected<SystemResults> bad = ReadFaceApiJsonl(dir.Write("bad.jsonl", c.text), *d);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find(c.message), std::string::npos) << bad.status().message();
  }
}

TEST(ReferenceReaderTest, PairDistances) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  dir.Write("pairs.csv", "path_a,path_b,same\na1.jpg,a2.jpg,1\na1.jpg,b1.jpg,0\n");
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok());
  Expected<SystemResults> r = ReadPairDistancesCsv(
      dir.Write("dist.csv",
                "path_a,path_b,same,distance\na1.jpg,a2.jpg,1,0.25\na1.jpg,b1.jpg,0,\n"),
      *d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_DOUBLE_EQ(r->pair_scores[0], -0.25);
  EXPECT_TRUE(std::isnan(r->pair_scores[1]));
  Expected<SystemResults> bad = ReadPairDistancesCsv(
      dir.Write("bad.csv", "path_a,path_b,same,distance\na1.jpg,a2.jpg,1,-3\n"), *d);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2, column distance: '-3' is not a non-negative"),
            std::string::npos);
  Expected<SystemResults> other = ReadPairDistancesCsv(
      dir.Write("other.csv", "path_a,path_b,same,distance\na2.jpg,a3.jpg,1,0.1\n"), *d);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("line 2: this pair is not in pairs.csv"),
            std::string::npos);
}

// ------------------------------------------------------------------------------- protocols

// Seven images, 2-d unit vectors: A (3 images), B (2), C and D (1 each: distractors).
SystemResults Toy() {
  SystemResults s;
  s.name = "toy";
  auto unit = [](double deg) {
    const double r = deg * 3.14159265358979323846 / 180;
    return std::vector<double>{std::cos(r), std::sin(r)};
  };
  // a1 (gallery A) 0°, a2 10°, a3 200° (no longer like A), b1 (gallery B) 90°, b2 no face,
  // c1 180°, d1 270°.
  s.image_vectors = {unit(0), unit(10), unit(200), unit(90), {}, unit(180), unit(270)};
  return s;
}

TEST(EvaluateTest, IdentificationOnAToyGallery) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok());
  EvalOptions o;
  o.max_rank = 4;
  SystemResults toy = Toy();
  toy.fixed_threshold = 0.9;
  Expected<Report> r = Evaluate(*d, {toy}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SystemReport& s = r->systems[0];
  EXPECT_EQ(s.num_images_without_face, 1u);
  ASSERT_TRUE(s.identification);
  const IdentificationFigures& f = *s.identification;
  EXPECT_EQ(f.gallery_size, 4u);
  // Probes a2, a3, b2: a2 finds A first; a3 (200°) is nearest C (180°), then D (270°), B (90°)
  // and A (0°) last: rank 4; b2 has no face.
  EXPECT_EQ(f.num_mated, 3u);
  EXPECT_EQ(f.probes_without_template, 1u);
  EXPECT_DOUBLE_EQ(f.cmc[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(f.cmc[1], 1.0 / 3);
  EXPECT_DOUBLE_EQ(f.cmc[2], 1.0 / 3);
  EXPECT_DOUBLE_EQ(f.cmc[3], 2.0 / 3);
  // At 0.9: a2 finds its mate (cos 10° = 0.985); a3 without a1 finds C at cos 20° = 0.94, a
  // false positive; b2 returns nothing.
  EXPECT_DOUBLE_EQ(f.fnir_at_fixed, 2.0 / 3);
  EXPECT_DOUBLE_EQ(f.fpir_at_fixed, 1.0 / 3);
  // All pairs: 21 pairs, 4 genuine (a1a2 a1a3 a2a3 b1b2), of which b1b2 is missing.
  ASSERT_TRUE(s.all_pairs);
  EXPECT_EQ(s.all_pairs->num_genuine, 4u);
  EXPECT_EQ(s.all_pairs->num_impostor, 17u);
  EXPECT_EQ(s.all_pairs->num_genuine_missing, 1u);
  EXPECT_EQ(s.all_pairs->num_impostor_missing, 5u);
  EXPECT_FALSE(s.lfw);  // no pairs.csv
}

TEST(EvaluateTest, DistanceScoresRankAndTieAgainstTheMate) {
  TempDir dir;
  dir.Write("identities.csv", "path,identity\na1.jpg,A\na2.jpg,A\nb1.jpg,B\nc1.jpg,C\n");
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok());
  SystemResults s;
  s.name = "distances";
  s.kind = ScoreKind::kNegativeEuclidean;
  // Probe a2 is at distance 1 from its mate a1 and from B (a tie), 3 from C.
  s.image_vectors = {{0, 0}, {1, 0}, {2, 0}, {4, 0}};
  Expected<Report> r = Evaluate(*d, {s}, EvalOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const IdentificationFigures& f = *r->systems[0].identification;
  ASSERT_EQ(f.num_mated, 1u);
  EXPECT_DOUBLE_EQ(f.cmc[0], 0.0);  // the tie with B goes against the mate: rank 2
  EXPECT_DOUBLE_EQ(f.cmc[1], 1.0);
  // The non-mated search (a2 without a1) has B on top at distance 1: score −1.
  EXPECT_DOUBLE_EQ(f.recommendation.point.threshold, std::nextafter(-1.0, 0.0));
}

TEST(EvaluateTest, EmptyGroupAndMismatchedSizes) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok());
  // Group "x" only has D (one image): no pairs, no searches within it → NaN, not 0.
  ASSERT_TRUE(LoadGroups(dir.Write("g.csv", "identity,g\nA,y\nB,y\nC,y\nD,x\n"), *d).ok());
  Expected<Report> r = Evaluate(*d, {Toy()}, EvalOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SystemReport& s = r->systems[0];
  ASSERT_EQ(s.groups.size(), 2u);
  const GroupFigures& x = s.groups[0];
  EXPECT_EQ(x.value, "x");
  EXPECT_EQ(x.num_images, 1u);
  EXPECT_EQ(x.verification->num_genuine + x.verification->num_impostor, 0u);
  EXPECT_TRUE(std::isnan(x.at_global_threshold.fmr));
  EXPECT_EQ(x.identification->num_mated, 0u);
  EXPECT_TRUE(std::isnan(x.fpir_at_global));
  EXPECT_TRUE(std::isnan(x.identification->cmc[0]));
  const GroupFigures& y = s.groups[1];
  EXPECT_EQ(y.num_images, 6u);
  EXPECT_EQ(y.identification->num_mated, 3u);

  SystemResults wrong = Toy();
  wrong.image_vectors.pop_back();
  Expected<Report> bad = Evaluate(*d, {wrong}, EvalOptions{});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("evaluate toy: toy: 6 image vectors for 7 images"),
            std::string::npos)
      << bad.status().message();
}

TEST(EvaluateTest, WritesReportFiles) {
  TempDir dir;
  dir.Write("identities.csv", kIdentities);
  dir.Write("pairs.csv",
            "path_a,path_b,same,fold\na1.jpg,a2.jpg,1,1\na1.jpg,b1.jpg,0,1\nb1.jpg,b2.jpg,1,2\n"
            "a2.jpg,c1.jpg,0,2\n");
  Expected<Dataset> d = LoadDataset(dir.str());
  ASSERT_TRUE(d.ok());
  Expected<Report> r = Evaluate(*d, {Toy()}, EvalOptions{});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->systems[0].lfw);
  const std::string out = dir.str() + "/out";
  ASSERT_TRUE(WriteReport(*r, out).ok());
  for (const char* f : {"report.html", "report.json", "lfw_folds.csv", "operating_points.csv",
                        "roc.csv", "cmc.csv", "groups.csv"}) {
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  }
  EXPECT_NE(TextSummary(*r).find("LFW leave-one-fold-out accuracy"), std::string::npos);
}

// -------------------------------------------------------------------------- template cache

TEST(TemplateCacheTest, RoundTripAndInvalidation) {
  TempDir dir;
  const std::string img = dir.Write("img.jpg", "pretend image");
  const std::string cache_path = dir.str() + "/templates.cache";
  {
    TemplateCache c(cache_path);
    std::string warning;
    c.Open(&warning);
    EXPECT_TRUE(warning.empty());
    EXPECT_FALSE(c.Find(img, "m1").has_value());
    TemplateCache::Entry entry;
    entry.has_face = true;
    entry.eye_distance_px = 41.5f;
    entry.sharpness = 12.25f;
    entry.noise_sigma = 1.5f;
    entry.detail = 7.75f;
    entry.effective_scale = 2.f;
    entry.effective_eye_distance_px = 20.75f;
    entry.blockiness = 1.25f;
    entry.templ = {0.5f, -0.25f};
    entry.landmarks = {10.f, 20.f, 30.f, 40.f};
    c.Put(img, "m1", entry);
    ASSERT_TRUE(c.Save().ok());
  }
  TemplateCache c(cache_path);
  std::string warning;
  c.Open(&warning);
  EXPECT_TRUE(warning.empty()) << warning;
  std::optional<TemplateCache::Entry> e = c.Find(img, "m1");
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->has_face);
  EXPECT_EQ(e->templ, (std::vector<float>{0.5f, -0.25f}));
  EXPECT_EQ(e->eye_distance_px, 41.5f);  // the quality figures travel with the template
  EXPECT_EQ(e->sharpness, 12.25f);
  // and the blur-aware ones (cache version 4)
  EXPECT_EQ(e->noise_sigma, 1.5f);
  EXPECT_EQ(e->detail, 7.75f);
  EXPECT_EQ(e->effective_scale, 2.f);
  EXPECT_EQ(e->effective_eye_distance_px, 20.75f);
  EXPECT_EQ(e->blockiness, 1.25f);
  EXPECT_EQ(e->landmarks, (std::vector<float>{10.f, 20.f, 30.f, 40.f}));  // and the landmarks
  EXPECT_FALSE(c.Find(img, "m2").has_value());  // another model or align mode
  dir.Write("img.jpg", "a changed image, longer");
  EXPECT_FALSE(c.Find(img, "m1").has_value());  // size/mtime changed
}

TEST(TemplateCacheTest, DamagedFileIsIgnoredWithAWarning) {
  TempDir dir;
  const std::string img = dir.Write("img.jpg", "x");
  const std::string cache_path = dir.str() + "/templates.cache";
  TemplateCache c(cache_path);
  TemplateCache::Entry entry;
  entry.has_face = true;
  entry.eye_distance_px = 40.f;
  entry.sharpness = 20.f;
  entry.templ = std::vector<float>(128, 0.1f);
  c.Put(img, "m", entry);
  ASSERT_TRUE(c.Save().ok());
  Expected<std::vector<uint8_t>> raw = ReadFileBytes(cache_path);
  ASSERT_TRUE(raw.ok());
  const std::string bytes(raw->begin(), raw->end());
  for (size_t cut : {size_t{3}, size_t{20}, bytes.size() - 1}) {
    SCOPED_TRACE(cut);
    dir.Write("templates.cache", bytes.substr(0, cut));
    TemplateCache t(cache_path);
    std::string warning;
    t.Open(&warning);
    EXPECT_EQ(t.size(), 0u);
    EXPECT_NE(warning.find("ignoring the template cache"), std::string::npos);
  }
  std::string wrong_version = bytes;
  wrong_version[9] = 7;
  dir.Write("templates.cache", wrong_version);
  TemplateCache t(cache_path);
  std::string warning;
  t.Open(&warning);
  EXPECT_NE(warning.find("unknown version 7"), std::string::npos) << warning;
  // A version-3 file (no blur-aware figures) is recomputed, never misread as version 4.
  std::string v3 = bytes;
  v3[9] = 3;
  dir.Write("templates.cache", v3);
  TemplateCache old(cache_path);
  warning.clear();
  old.Open(&warning);
  EXPECT_EQ(old.size(), 0u);
  EXPECT_NE(warning.find("unknown version 3"), std::string::npos) << warning;
}

}  // namespace
}  // namespace facetrail::eval
