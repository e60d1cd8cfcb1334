// Enrollment: rejects with line numbers and reasons, idempotent re-runs, SIGKILL mid-import
// then re-run equals an uninterrupted run, and enroll → search → seal → search.
#include "gallery/enroll.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "common/db.h"
#include "gallery/fake_extractor.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_test_util.h"

namespace facetrail::gallery {
namespace {

using testing::DumpGallery;
using testing::FakeFactory;
using testing::ReadText;
using testing::SeedTemplate;
using testing::TempDir;

std::string Face(uint64_t seed, float size = 100, float yaw = 0) {
  return "10 10 " + std::to_string(size) + " " + std::to_string(size) + " " + std::to_string(yaw) +
         " " + std::to_string(seed) + "\n";
}

// A manifest of `n` good photos (bookings of two photos each) plus the bad rows below.
void WriteFixture(const TempDir& dir, int n) {
  std::string m = "booking_number,photo,name,dob,sex,race_ethnicity,booking_date,agency,charge\n";
  for (int i = 0; i < n; ++i) {
    const int b = i / 2;
    dir.Write("img" + std::to_string(i) + ".txt", "FACES\n" + Face(1000 + i));
    m += "B-" + std::to_string(b) + ",img" + std::to_string(i) + ".txt,\"Doe, Person " +
         std::to_string(b) + "\",1990-01-0" + std::to_string(1 + b % 9) +
         ",M,recorded,2024-02-03,County SO,\"PC 459, burglary\"\n";
  }
  dir.Write("noface.txt", "FACES\n");
  dir.Write("broken.txt", "GIF89a garbage");
  dir.Write("group.txt", "FACES\n" + Face(7, 50) + Face(8, 120, 60) + Face(9, 90));
  dir.Write("dup.txt", "FACES\n" + Face(1000));  // same bytes as img0.txt
  m += "X-1,noface.txt,No Face,,,,,,\n";
  m += "X-2,broken.txt,Broken,,,,,,\n";
  m += "X-3,missing.txt,Missing,,,,,,\n";
  m += "X-4,group.txt,Group,,,,,,\n";
  m += "X-5,dup.txt,Dup,,,,,,\n";
  m += "X-6,img1.txt,Bad Date,31/02/1990,,,,,\n";
  m += "X-7,\"unterminated,x,,,,,,\n";
  dir.Write("manifest.csv", m);
}

EnrollOptions Options(const TempDir& dir, int workers = 2) {
  EnrollOptions o;
  o.manifest_path = dir / "manifest.csv";
  o.rejects_path = dir / "rejects.csv";
  o.num_workers = workers;
  return o;
}

// Issue 14 §6: manifest photo paths stay inside the images folder unless the operator allows
// otherwise, and only regular files are read (a FIFO once hung the import for ever).
TEST(Enroll, PhotosStayInsideTheImagesFolderAndAreRegularFiles) {
  TempDir dir("enroll_paths");
  TempDir outside("enroll_outside");
  namespace fs = std::filesystem;
  fs::create_directories(dir / "images/sub");
  dir.Write("images/in.txt", "FACES\n" + Face(1));
  dir.Write("images/sub/deep.txt", "FACES\n" + Face(2));
  fs::create_symlink(dir / "images/in.txt", dir / "images/link_in.txt");
  outside.Write("secret.txt", "FACES\n" + Face(3));
  dir.Write("images/../beside.txt", "FACES\n" + Face(4));
  fs::create_symlink(outside / "secret.txt", dir / "images/link_out.txt");
  fs::create_directory_symlink(outside / "", dir / "images/dir_out");
  ASSERT_EQ(::mkfifo((dir / "images/fifo.txt").c_str(), 0600), 0);
  dir.Write("manifest.csv",
            "booking_number,photo\n"
            "B-1,in.txt\n"
            "B-2,sub/deep.txt\n"
            "B-3,link_in.txt\n"
            "B-4," +
                (outside / "secret.txt") +
                "\n"
                "B-5,../beside.txt\n"
                "B-6,sub/../../beside.txt\n"
                "B-7,link_out.txt\n"
                "B-8,dir_out/secret.txt\n"
                "B-9,fifo.txt\n");
  EnrollOptions o = Options(dir);
  o.images_dir = dir / "images";
  auto store = GalleryStore::Open(dir / "g.db");
  ASSERT_TRUE(store.ok());
  auto summary = Enroll(**store, FakeFactory(), o);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->enrolled, 2);  // in.txt, deep.txt (link_in.txt: the same bytes as in.txt)
  EXPECT_EQ(summary->rejected_by_reason["photo outside the images folder"], 5);
  EXPECT_EQ(summary->rejected_by_reason["unreadable image"], 1);  // the FIFO, not a hang
  const std::string rejects = ReadText(dir / "rejects.csv");
  EXPECT_NE(rejects.find("B-4,"), std::string::npos);
  EXPECT_NE(rejects.find("an absolute path"), std::string::npos);
  EXPECT_NE(rejects.find("'..' in the path"), std::string::npos);
  EXPECT_NE(rejects.find("leads out through a symbolic link"), std::string::npos);
  EXPECT_NE(rejects.find("not a regular file"), std::string::npos);

  // The operator's explicit choice: outside photos are read (the FIFO still is not).
  auto other = GalleryStore::Open(dir / "g2.db");
  ASSERT_TRUE(other.ok());
  o.allow_photos_outside_images = true;
  o.rejects_path = dir / "rejects2.csv";
  summary = Enroll(**other, FakeFactory(), o);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rejected_by_reason["photo outside the images folder"], 0);
  EXPECT_EQ(summary->enrolled, 4);  // + secret.txt, beside.txt; the rest are duplicates
}

// The cases that exercise the store run on SQLite (a file in the test's folder) and on
// PostgreSQL (a fresh database on the test cluster).
class EnrollTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override { FT_GALLERY_DB_OR_SKIP(GetParam(), "", pg_uri_); }
  // The gallery database: `file` in `dir` (SQLite) or the test's PostgreSQL database.
  std::string Uri(const TempDir& dir, const std::string& file) const {
    return GetParam() == testing::Backend::kPostgres ? pg_uri_ : dir / file;
  }
  std::string pg_uri_;
};

TEST_P(EnrollTest, RejectsAreListedWithLineAndReason) {
  TempDir dir("enroll_rejects");
  WriteFixture(dir, 6);
  auto store = GalleryStore::Open(Uri(dir, "g.db"));
  ASSERT_TRUE(store.ok());
  auto summary = Enroll(**store, FakeFactory(), Options(dir));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 13);
  EXPECT_EQ(summary->enrolled, 7);  // 6 good + the group photo
  EXPECT_EQ(summary->flagged, 1);
  EXPECT_EQ(summary->rejected, 6);
  EXPECT_EQ(summary->rejected_by_reason["no face"], 1);
  EXPECT_EQ(summary->rejected_by_reason["unreadable image"], 2);
  EXPECT_EQ(summary->rejected_by_reason["duplicate photo"], 1);
  EXPECT_EQ(summary->rejected_by_reason["malformed field"], 1);
  EXPECT_EQ(summary->rejected_by_reason["malformed CSV"], 1);
  const std::string rejects = ReadText(dir / "rejects.csv");
  EXPECT_TRUE(rejects.starts_with("line,booking_number,photo,outcome,reason\n"));
  EXPECT_NE(rejects.find("8,X-1,noface.txt,rejected,no face\n"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("9,X-2,broken.txt,rejected,unreadable image: not an image"),
            std::string::npos);
  EXPECT_NE(rejects.find("10,X-3,missing.txt,rejected,unreadable image:"), std::string::npos);
  EXPECT_NE(rejects.find("11,X-4,group.txt,flagged,\"several faces: 3 found"), std::string::npos);
  EXPECT_NE(rejects.find("12,X-5,dup.txt,rejected,\"duplicate photo: same bytes as photo 1 "
                         "(booking B-0, img0.txt)\"\n"),
            std::string::npos);
  EXPECT_NE(rejects.find("13,X-6,img1.txt,rejected,malformed field: column dob: '31/02/1990'"),
            std::string::npos);
  EXPECT_NE(rejects.find("14,,,rejected,\"malformed CSV: line 14, field 2: quote never closed\"\n"),
            std::string::npos)
      << rejects;
  // The group photo enrolled its largest frontal face (seed 9: 90 px; 120 px is turned 60°).
  auto g = GalleryIndex::Open(**store, testing::FakeModel());
  ASSERT_TRUE(g.ok());
  auto hits = (*g)->Search(SeedTemplate(9), {1, 0.99f});
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].owner.booking_number, "X-4");
  EXPECT_TRUE((*g)->Search(SeedTemplate(8), {1, 0.99f})->empty());
  // Booking fields as recorded, quotes and commas included.
  auto b = (*store)->GetBooking("B-1");
  EXPECT_EQ(b->name, "Doe, Person 1");
  EXPECT_EQ(b->charge, "PC 459, burglary");
  EXPECT_EQ(b->race_ethnicity, "recorded");
}

TEST_P(EnrollTest, SecondRunChangesNothing) {
  TempDir dir("enroll_twice");
  WriteFixture(dir, 10);
  auto store = GalleryStore::Open(Uri(dir, "g.db"));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(Enroll(**store, FakeFactory(), Options(dir)).ok());
  const std::string dump = DumpGallery(Uri(dir, "g.db"));
  const std::string rejects = ReadText(dir / "rejects.csv");
  auto again = Enroll(**store, FakeFactory(), Options(dir, 1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->enrolled, 0);
  EXPECT_EQ(again->already_enrolled, 11);
  EXPECT_EQ(DumpGallery(Uri(dir, "g.db")), dump);
  EXPECT_EQ(ReadText(dir / "rejects.csv"), rejects);
}

TEST(Enroll, ManifestProblemsThatStopTheRun) {
  TempDir dir("enroll_bad");
  auto store = GalleryStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  EnrollOptions o = Options(dir);
  EXPECT_EQ(Enroll(**store, FakeFactory(), o).status().code(), StatusCode::kNotFound);
  dir.Write("manifest.csv", "booking,photo\nB-1,a.jpg\n");
  auto r = Enroll(**store, FakeFactory(), o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("unknown column 'booking'"), std::string::npos);
}

// On both engines the comparison is by content (DumpGalleryContent: natural keys and bytes in
// commit order, not row ids): a killed transaction leaves a gap in PostgreSQL's identities, by
// design, where SQLite reuses the ids; the rows themselves must be exactly those of a run that
// was never killed, none lost, none twice. On SQLite the ids must match too (DumpGallery).
TEST_P(EnrollTest, SigkillMidImportThenRerunEqualsAnUninterruptedRun) {
  TempDir dir("enroll_kill");
  WriteFixture(dir, 80);
  const bool pg = GetParam() == testing::Backend::kPostgres;
  std::string ref_uri = dir / "ref.db";
  if (pg) FT_PG_DATABASE_OR_SKIP(ref_uri);
  const std::string kill_uri = Uri(dir, "kill.db");
  {
    auto ref = GalleryStore::Open(ref_uri);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    EnrollOptions o = Options(dir);
    o.rejects_path = dir / "ref_rejects.csv";
    ASSERT_TRUE(Enroll(**ref, FakeFactory(), o).ok());
  }
  const std::string want = DumpGallery(ref_uri);
  const std::string want_content = testing::DumpGalleryContent(ref_uri);
  bool interrupted_midway = false;
  // Kill the child when it has committed `target` photos (polled from this process, as a
  // second reader of the database), or after `delay_ms` at the latest: a kill at a random
  // moment inside the import, whatever the machine's speed.
  const std::pair<int, int> kills[] = {{3, 2000}, {17, 2000}, {40, 2000}, {1000, 30}};
  for (const auto& [target, delay_ms] : kills) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = GalleryStore::Open(kill_uri);
      if (!store.ok()) _exit(3);
      auto r = Enroll(**store, FakeFactory(/*delay_ms=*/4), Options(dir));
      _exit(r.ok() ? 0 : 4);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    std::optional<Db> poll;  // one connection (a PostgreSQL connection costs a process)
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (!poll) {
        auto db = Db::Open(kill_uri, false);
        if (!db.ok()) continue;
        poll.emplace(std::move(*db));
      }
      auto exists = poll->TableExists("photos");
      if (!exists.ok() || !*exists) continue;
      auto st = poll->Prepare("SELECT count(*) FROM photos");
      if (!st.ok() || !st->Step().ok()) continue;
      if (st->Int(0) >= target) break;
    }
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
      auto s = GalleryStore::Open(kill_uri);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      const int64_t photos = (*s)->Stats()->photos;
      interrupted_midway |= photos > 0 && photos < 81;
    }
  }
  EXPECT_TRUE(interrupted_midway) << "no kill landed mid-import";
  auto store = GalleryStore::Open(kill_uri);
  ASSERT_TRUE(store.ok());
  auto r = Enroll(**store, FakeFactory(), Options(dir));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string got_content = testing::DumpGalleryContent(kill_uri);
  EXPECT_NE(got_content.find("## photos\n'"), std::string::npos) << got_content;
  EXPECT_EQ(got_content, want_content);
  if (!pg) {
    EXPECT_EQ(DumpGallery(kill_uri), want);
  }
  // The rejects name the photo a duplicate repeats by its id: compared as that photo's hash.
  EXPECT_NE(testing::PhotoIdsAsHashes(ReadText(dir / "rejects.csv"), kill_uri)
                .find("same bytes as photo sha256:"),
            std::string::npos);
  EXPECT_EQ(testing::PhotoIdsAsHashes(ReadText(dir / "rejects.csv"), kill_uri),
            testing::PhotoIdsAsHashes(ReadText(dir / "ref_rejects.csv"), ref_uri));
}

TEST_P(EnrollTest, EnrollSearchSealSearch) {
  TempDir dir("enroll_seal");
  WriteFixture(dir, 20);
  auto store = GalleryStore::Open(
      Uri(dir, "g.db"),
      {.create_if_missing = true, .snapshot_dir = dir / "snapshots"});  // both engines
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(Enroll(**store, FakeFactory(), Options(dir)).ok());
  auto g = GalleryIndex::Open(**store, testing::FakeModel());
  ASSERT_TRUE(g.ok());
  auto probe = SeedTemplate(1000 + 7);  // img7 → booking B-3
  auto before = (*g)->Search(probe, {3, 0.5f});
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].owner.booking_number, "B-3");
  ASSERT_TRUE((*store)->SetStatus("B-3", RecordStatus::kSealed).ok());
  auto after = (*g)->Search(probe, {3, 0.5f});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, EnrollTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace facetrail::gallery
