// GalleryIndex: never stale (patch on seal/unseal, an in-memory delta for enrolments, rebuild on
// expunge or a full delta), refuses and rebuilds damaged or foreign snapshots.
#include "gallery/gallery_index.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/db.h"
#include "gallery/fake_extractor.h"
#include "gallery/gallery_test_util.h"
#include "search/snapshot.h"

namespace facetrail::gallery {
namespace {

using testing::SeedTemplate;

const ModelRef kModel = testing::FakeModel();

void AddBooking(GalleryStore& store, int b, int num_photos) {
  BookingRecord r;
  r.booking_number = "B-" + std::to_string(b);
  r.name = "Person " + std::to_string(b);
  r.booking_date = "2024-01-01";
  for (int p = 0; p < num_photos; ++p) {
    std::string text = "photo " + std::to_string(b) + "/" + std::to_string(p);
    std::vector<NewTemplate> t = {{0, {}, {}, SeedTemplate(static_cast<uint64_t>(b * 100 + p))}};
    auto added = store.AddPhoto(r, {{text.begin(), text.end()}, {}, text, "", true, ""}, kModel, t);
    ASSERT_TRUE(added.ok()) << added.status().ToString();
  }
}

// On SQLite the snapshots lie beside the file; on PostgreSQL in a snapshot folder of this
// "server" (StoreOptions::snapshot_dir).
class GalleryIndexTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    FT_GALLERY_DB_OR_SKIP(GetParam(), dir_ / "gallery.db", uri_);
    if (GetParam() == testing::Backend::kPostgres) options_.snapshot_dir = dir_ / "snapshots";
    auto s = OpenStore();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    for (int b = 1; b <= 30; ++b) AddBooking(*store_, b, 2);
  }
  Expected<std::unique_ptr<GalleryStore>> OpenStore() { return GalleryStore::Open(uri_, options_); }
  // The folder the snapshot files are in, and the start of their names.
  std::filesystem::path SnapshotDir() const {
    return std::filesystem::path(store_->snapshot_prefix()).parent_path();
  }
  std::string SnapshotName() const {
    return std::filesystem::path(store_->snapshot_prefix()).filename().string();
  }
  std::unique_ptr<GalleryIndex> MustOpen() {
    auto g = GalleryIndex::Open(*store_, kModel);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? std::move(g).value() : nullptr;
  }
  std::vector<Candidate> MustSearch(GalleryIndex& g, uint64_t seed, int k = 5) {
    auto r = g.Search(SeedTemplate(seed), {k, 0.5f});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Candidate>{};
  }

  testing::TempDir dir_{"gallery_index"};
  std::string uri_;
  StoreOptions options_;
  std::unique_ptr<GalleryStore> store_;
};

TEST_P(GalleryIndexTest, BuildsThenReopensTheSnapshot) {
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_EQ(g->last_sync().reason, "snapshot missing");
  EXPECT_EQ(g->size(), 60u);
  auto hits = MustSearch(*g, 7 * 100 + 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].owner.booking_number, "B-7");
  EXPECT_EQ(hits[0].owner.name, "Person 7");
  EXPECT_EQ(hits[0].rank, 1);
  EXPECT_NEAR(hits[0].score, 1.0f, 1e-6);
  auto again = MustOpen();
  EXPECT_EQ(again->last_sync().action, IndexSync::Action::kOpened);
}

TEST_P(GalleryIndexTest, SealLeavesSearchAtOnceAndUnsealReturns) {
  auto g = MustOpen();
  ASSERT_EQ(MustSearch(*g, 501).size(), 1u);
  ASSERT_TRUE(store_->SetStatus("B-5", RecordStatus::kSealed).ok());
  EXPECT_TRUE(MustSearch(*g, 501).empty());
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kPatched);
  // Another process opening the (older) snapshot patches it too.
  auto other = MustOpen();
  EXPECT_TRUE(MustSearch(*other, 501).empty());
  ASSERT_TRUE(store_->SetStatus("B-5", RecordStatus::kActive).ok());
  EXPECT_EQ(MustSearch(*g, 501).size(), 1u);
  ASSERT_TRUE(store_->Expunge("B-5").ok());
  EXPECT_TRUE(MustSearch(*g, 501).empty());
  EXPECT_EQ(g->last_sync().reason, "templates expunged");
  EXPECT_EQ(g->size(), 58u);  // the rewritten snapshot no longer holds B-5's templates
  EXPECT_TRUE(MustSearch(*other, 500).empty());
}

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST_P(GalleryIndexTest, EnrolmentAfterOpenIsSeenByTheNextSearchWithoutRewritingTheSnapshot) {
  auto g = MustOpen();
  const ino_t inode = InodeOf(g->snapshot_path());
  ASSERT_NE(inode, 0u);
  EXPECT_TRUE(MustSearch(*g, 9900).empty());
  AddBooking(*store_, 99, 1);
  auto hits = MustSearch(*g, 9900);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].owner.booking_number, "B-99");
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kPatched);
  EXPECT_EQ(g->last_sync().added_templates, 1);
  EXPECT_EQ(g->delta_size(), 1u);
  EXPECT_EQ(g->size(), 61u);
  EXPECT_EQ(InodeOf(g->snapshot_path()), inode);  // the file was not rewritten
  // Another process opens the older snapshot and reads the new rows into its own delta.
  auto other = MustOpen();
  EXPECT_EQ(other->delta_size(), 1u);
  ASSERT_EQ(MustSearch(*other, 9900).size(), 1u);
}

TEST_P(GalleryIndexTest, SnapshotPlusDeltaRanksExactlyAsAFreshBuild) {
  auto g = MustOpen();
  for (int b = 31; b <= 45; ++b) AddBooking(*store_, b, 2);  // 30 templates into the delta
  ASSERT_TRUE(store_->SetStatus("B-33", RecordStatus::kSealed).ok());  // a delta one
  ASSERT_TRUE(store_->SetStatus("B-3", RecordStatus::kSealed).ok());   // a snapshot one
  ASSERT_TRUE(g->Refresh().ok());
  EXPECT_EQ(g->delta_size(), 30u);
  EXPECT_EQ(g->num_active(), 86u);
  ASSERT_TRUE(RemoveSnapshots(*store_).ok());
  auto fresh = MustOpen();
  ASSERT_EQ(fresh->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_EQ(fresh->delta_size(), 0u);
  for (uint64_t seed : {100u, 301u, 3300u, 3401u, 4501u, 777u, 12345u}) {
    for (int k : {1, 5, 90}) {
      auto a = g->Search(SeedTemplate(seed), {k, -1.0f});
      auto b = fresh->Search(SeedTemplate(seed), {k, -1.0f});
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->size(), b->size()) << seed << " k=" << k;
      for (size_t i = 0; i < a->size(); ++i) {
        EXPECT_EQ((*a)[i].owner.template_id, (*b)[i].owner.template_id) << seed << " " << i;
        EXPECT_EQ((*a)[i].score, (*b)[i].score) << seed << " " << i;
        EXPECT_EQ((*a)[i].rank, static_cast<int>(i + 1));
      }
    }
  }
}

TEST_P(GalleryIndexTest, SealAndExpungeReachTemplatesInTheDelta) {
  auto g = MustOpen();
  AddBooking(*store_, 99, 1);
  ASSERT_EQ(MustSearch(*g, 9900).size(), 1u);
  ASSERT_TRUE(store_->SetStatus("B-99", RecordStatus::kSealed).ok());
  EXPECT_TRUE(MustSearch(*g, 9900).empty());
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kPatched);
  ASSERT_TRUE(store_->SetStatus("B-99", RecordStatus::kActive).ok());
  EXPECT_EQ(MustSearch(*g, 9900).size(), 1u);
  // Added and sealed before the index reads it: it joins the delta already sealed.
  AddBooking(*store_, 98, 1);
  ASSERT_TRUE(store_->SetStatus("B-98", RecordStatus::kSealed).ok());
  EXPECT_TRUE(MustSearch(*g, 9800).empty());
  ASSERT_TRUE(store_->Expunge("B-99").ok());
  EXPECT_TRUE(MustSearch(*g, 9900).empty());
  EXPECT_EQ(g->last_sync().reason, "templates expunged");
  EXPECT_EQ(g->delta_size(), 0u);  // the rebuilt snapshot holds B-98, not B-99
  EXPECT_EQ(g->size(), 61u);
}

TEST_P(GalleryIndexTest, AFullDeltaRebuildsTheSnapshot) {
  GalleryIndexOptions o;
  o.max_delta_templates = 2;
  auto opened = GalleryIndex::Open(*store_, kModel, o);
  ASSERT_TRUE(opened.ok());
  auto& g = **opened;
  AddBooking(*store_, 99, 2);
  ASSERT_EQ(MustSearch(g, 9901).size(), 1u);
  EXPECT_EQ(g.delta_size(), 2u);
  AddBooking(*store_, 98, 1);
  ASSERT_EQ(MustSearch(g, 9800).size(), 1u);
  EXPECT_EQ(g.last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_EQ(g.last_sync().reason, "3 templates added since the snapshot");
  EXPECT_EQ(g.delta_size(), 0u);
  EXPECT_EQ(g.size(), 63u);
  o.max_delta_templates = 0;  // every enrolment rebuilds
  auto strict = GalleryIndex::Open(*store_, kModel, o);
  ASSERT_TRUE(strict.ok());
  AddBooking(*store_, 97, 1);
  ASSERT_EQ(MustSearch(**strict, 9700).size(), 1u);
  EXPECT_EQ((*strict)->last_sync().action, IndexSync::Action::kRebuilt);
}

// Issue 14 §6: a due rebuild that cannot write its snapshot (a full disk; here the process's file
// size limit, which a test can set without root) does not stop searches: the expunge and the
// enrolment are patched into memory, the previous snapshot stays, no temporary file is left,
// and the rebuild succeeds once space returns. A rebuild that cannot be avoided (no snapshot)
// is kUnavailable (HTTP 503) naming the cause. Run in a child process: the limit is per process.
TEST_P(GalleryIndexTest, ARebuildThatCannotWriteKeepsSearchesExactFromMemory) {
  MustOpen();  // writes the snapshot
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes name the failed expectation.
    auto check = [&]() -> int {
      signal(SIGXFSZ, SIG_IGN);  // writes fail with EFBIG instead of killing the process
      auto store = OpenStore();
      if (!store.ok()) return 10;
      GalleryIndexOptions o;
      o.rebuild_retry_seconds = 0;
      auto g = GalleryIndex::Open(**store, kModel, o);
      if (!g.ok() || (*g)->last_sync().action != IndexSync::Action::kOpened) return 11;
      if (!(*store)->Expunge("B-5").ok()) return 12;
      AddBooking(**store, 99, 1);
      rlimit old{};
      getrlimit(RLIMIT_FSIZE, &old);
      rlimit small{1024, old.rlim_max};
      if (setrlimit(RLIMIT_FSIZE, &small) != 0) return 13;
      for (int round = 0; round < 2; ++round) {  // the retry fails the same way
        auto gone = (*g)->Search(SeedTemplate(500), {5, 0.5f});
        if (!gone.ok()) return 14;
        if (!gone->empty()) return 15;  // the expunged booking is not found
        auto added = (*g)->Search(SeedTemplate(9900), {5, 0.5f});
        if (!added.ok() || added->size() != 1 || (*added)[0].owner.booking_number != "B-99") {
          return 16;
        }
        const std::string deferred = (*g)->deferred_rebuild();
        if (deferred.find("templates expunged") == std::string::npos) return 17;
        if (deferred.find("file size limit") == std::string::npos) return 18;
        if ((*g)->last_sync().action != IndexSync::Action::kPatched &&
            (*g)->last_sync().deferred != deferred) {
          return 19;
        }
      }
      // A second index with no snapshot to open cannot serve: kUnavailable naming the cause.
      GalleryIndexOptions other = o;
      other.snapshot_path = dir_ / "other.snapshot";
      auto required = GalleryIndex::Open(**store, kModel, other);
      if (required.ok() || required.status().code() != StatusCode::kUnavailable) return 20;
      if (required.status().message().find("cannot be rebuilt (snapshot missing)") ==
          std::string::npos) {
        return 21;
      }
      // Space returns: the next search rebuilds without the expunged rows.
      if (setrlimit(RLIMIT_FSIZE, &old) != 0) return 22;
      auto after = (*g)->Search(SeedTemplate(9900), {5, 0.5f});
      if (!after.ok() || after->size() != 1) return 23;
      if ((*g)->last_sync().action != IndexSync::Action::kRebuilt) return 24;
      if (!(*g)->deferred_rebuild().empty() || (*g)->delta_size() != 0) return 25;
      if ((*g)->size() != 59) return 26;  // 60 - 2 expunged + 1 added
      return 0;
    };
    _exit(check());
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the exit codes in the child";
  // No temporary file left behind (the failed writers removed theirs).
  for (const auto& e : std::filesystem::directory_iterator(SnapshotDir())) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name.starts_with(SnapshotName()) || name == "snapshots") << name;
  }
}

TEST_P(GalleryIndexTest, AMisSizedTemplateInTheDatabaseIsDataLossNamingIt) {
  auto g = MustOpen();
  AddBooking(*store_, 99, 1);  // template 61, read into the delta at the next search
  auto corrupt = [&](int64_t id) {
    auto db = Db::Open(uri_, false);
    ASSERT_TRUE(db.ok());
    // The schema's CHECK refuses such a row; another tool may ignore it (or drop it).
    ASSERT_TRUE(db->Exec(db->dialect() == SqlDialect::kSqlite
                             ? "PRAGMA ignore_check_constraints = ON"
                             : "ALTER TABLE templates DROP CONSTRAINT templates_v3_check")
                    .ok());
    const Status s =
        db->Exec("UPDATE templates SET templ = " +
                 std::string(db->dialect() == SqlDialect::kSqlite ? "x'0102'" : "'\\x0102'") +
                 " WHERE id = " + std::to_string(id));
    ASSERT_TRUE(s.ok()) << s.ToString();
  };
  corrupt(61);
  auto r = g->Search(SeedTemplate(9900), {5, 0.5f});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("template 61 has 2 bytes"), std::string::npos)
      << r.status().ToString();
  // The full scan of a rebuild says the same.
  ASSERT_TRUE(RemoveSnapshots(*store_).ok());
  auto reopened = GalleryIndex::Open(*store_, kModel);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find("template 61 has 2 bytes"), std::string::npos)
      << reopened.status().ToString();
}

TEST_P(GalleryIndexTest, TruncatedOrCorruptSnapshotIsRefusedAndRebuilt) {
  std::string path = MustOpen()->snapshot_path();
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 100);
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_NE(g->last_sync().reason.find("truncated"), std::string::npos) << g->last_sync().reason;
  EXPECT_EQ(MustSearch(*g, 301).size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(path), size);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 16);
    f.put('\x7f');
  }
  g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_NE(g->last_sync().reason.find("checksum mismatch"), std::string::npos);
  // A damaged float32 row is found by the search that reads it, rebuilt, and answered.
  g.reset();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    // The float32 section is last, page-aligned: 60 rows × 512 bytes padded to 32 KiB.
    f.seekp(static_cast<std::streamoff>(size - 32768 + 3));  // row 0 (booking B-1)
    f.put('\x55');
  }
  g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kOpened);
  for (int b = 1; b <= 30; ++b) {
    auto r = g->Search(SeedTemplate(static_cast<uint64_t>(b * 100)), {1, 0.5f});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].owner.booking_number, "B-" + std::to_string(b));
  }
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_NE(g->last_sync().reason.find("snapshot damaged"), std::string::npos);
}

TEST_P(GalleryIndexTest, ForeignSnapshotIsRebuilt) {
  std::string path = MustOpen()->snapshot_path();
  {
    auto w = search::SnapshotWriter::Create(
        path, {kModel.id, kModel.version, "other", 999, 0, kModel.dim});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Finish().ok());
  }
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().reason, "snapshot of another gallery");
  EXPECT_EQ(g->size(), 60u);
}

TEST_P(GalleryIndexTest, SnapshotOfAnotherDimensionIsRebuilt) {
  std::string path = MustOpen()->snapshot_path();
  {
    auto w = search::SnapshotWriter::Create(
        path, {kModel.id, kModel.version, store_->gallery_id(), 1 << 30, 0, 512});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Finish().ok());
  }
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_EQ(g->last_sync().reason, "snapshot of another template dimension");
  EXPECT_EQ(g->size(), 60u);
  ASSERT_EQ(MustSearch(*g, 701).size(), 1u);
}

// CRC-32C (Castagnoli), bit by bit: to re-seal a header patched below.
uint32_t Crc32c(const char* p, size_t n) {
  uint32_t crc = ~0u;
  for (size_t i = 0; i < n; ++i) {
    crc ^= static_cast<uint8_t>(p[i]);
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

TEST_P(GalleryIndexTest, AVersion1SnapshotIsRebuilt) {
  // A snapshot written before the format carried the dimension (version 1, 128-d) is refused
  // with kDataLoss by search/ and rebuilt here, with searches exact afterwards.
  std::string path = MustOpen()->snapshot_path();
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> header(4096);
    f.read(header.data(), 4096);
    const uint32_t version = 1;
    std::memcpy(&header[8], &version, 4);
    const uint32_t crc = Crc32c(header.data(), 4092);
    std::memcpy(&header[4092], &crc, 4);
    f.seekp(0);
    f.write(header.data(), 4096);
  }
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().action, IndexSync::Action::kRebuilt);
  EXPECT_NE(g->last_sync().reason.find("format version 1"), std::string::npos)
      << g->last_sync().reason;
  EXPECT_NE(g->last_sync().reason.find("rebuild"), std::string::npos);
  ASSERT_EQ(MustSearch(*g, 701).size(), 1u);
  EXPECT_EQ(MustOpen()->last_sync().action, IndexSync::Action::kOpened);
}

TEST(GalleryIndexMemory, InMemoryStoreBuildsInRam) {
  auto store = GalleryStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  AddBooking(**store, 1, 3);
  auto g = GalleryIndex::Open(**store, kModel);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->snapshot_path(), "");
  EXPECT_EQ((*g)->size(), 3u);
  auto empty_model = GalleryIndex::Open(**store, {"other-model", 1, 128});
  ASSERT_TRUE(empty_model.ok());
  EXPECT_EQ((*empty_model)->size(), 0u);
}

// PostgreSQL without a snapshot folder: no file anywhere, the index is built from the rows.
TEST(GalleryIndexMemory, PostgresWithoutSnapshotDirBuildsInRam) {
  std::string uri;
  FT_PG_DATABASE_OR_SKIP(uri);
  auto store = GalleryStore::Open(uri);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->snapshot_prefix(), "");
  AddBooking(**store, 1, 3);
  auto g = GalleryIndex::Open(**store, kModel);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ((*g)->snapshot_path(), "");
  EXPECT_EQ((*g)->last_sync().reason, "in-memory gallery");
  EXPECT_EQ((*g)->size(), 3u);
  ASSERT_TRUE(RemoveSnapshots(**store).ok());  // nothing to remove
}

TEST(GalleryIndexMemory, AReusedTemplateIdRebuilds) {
  // SQLite gives a new row the largest id + 1: expunging the newest booking frees its ids.
  auto store = GalleryStore::Open(":memory:");
  ASSERT_TRUE(store.ok());
  AddBooking(**store, 1, 1);
  auto g = GalleryIndex::Open(**store, kModel);
  ASSERT_TRUE(g.ok());
  AddBooking(**store, 2, 1);
  ASSERT_TRUE((*g)->Refresh().ok());
  EXPECT_EQ((*g)->delta_size(), 1u);
  ASSERT_TRUE((*store)->Expunge("B-2").ok());
  ASSERT_TRUE((*g)->Refresh().ok());  // in memory: the expunged row is only hidden
  EXPECT_EQ((*g)->last_sync().action, IndexSync::Action::kPatched);
  AddBooking(**store, 3, 1);
  auto hits = (*g)->Search(SeedTemplate(300), {5, 0.5f});
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].owner.booking_number, "B-3");
  EXPECT_EQ((*g)->last_sync().reason, "a template id was reused");
  EXPECT_EQ((*g)->size(), 2u);
  auto gone = (*g)->Search(SeedTemplate(200), {5, 0.5f});
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->empty());
}

}  // namespace
}  // namespace facetrail::gallery

namespace facetrail::gallery {
namespace {

TEST_P(GalleryIndexTest, RemoveSnapshotsDeletesOnlySnapshots) {
  std::string path = MustOpen()->snapshot_path();
  ASSERT_TRUE(std::filesystem::exists(path));
  const std::string other = (SnapshotDir() / "notes.txt").string();
  testing::TempDir::WriteFile(other, "kept");
  ASSERT_TRUE(RemoveSnapshots(*store_).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(other));
  if (GetParam() == testing::Backend::kSqlite) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / "gallery.db"));
  }
  auto g = MustOpen();
  EXPECT_EQ(g->last_sync().reason, "snapshot missing");
}

// Issue 15: several servers on one database, each with its own snapshot folder, follow the
// change counter: an enrolment, a seal and an expunge made through A are in (or out of) B's
// very next search, and B's snapshot is its own (A never writes it).
TEST_P(GalleryIndexTest, TwoServersWithTheirOwnSnapshotsFollowTheChangeCounter) {
  StoreOptions a_options = options_, b_options = options_;
  a_options.snapshot_dir = dir_ / "server-a";
  b_options.snapshot_dir = dir_ / "server-b";
  auto a = GalleryStore::Open(uri_, a_options);
  auto b = GalleryStore::Open(uri_, b_options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->gallery_id(), (*b)->gallery_id());
  auto index_a = GalleryIndex::Open(**a, kModel);
  auto index_b = GalleryIndex::Open(**b, kModel);
  ASSERT_TRUE(index_a.ok() && index_b.ok());
  EXPECT_EQ((*index_b)->last_sync().reason, "snapshot missing");  // not A's file
  EXPECT_NE((*index_a)->snapshot_path(), (*index_b)->snapshot_path());
  EXPECT_TRUE((*index_b)->snapshot_path().starts_with((dir_ / "server-b") + "/gallery-"));
  auto search_b = [&](uint64_t seed) {
    auto r = (*index_b)->Search(SeedTemplate(seed), {5, 0.5f});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->size() : size_t{99};
  };
  AddBooking(**a, 99, 1);
  EXPECT_EQ(search_b(9900), 1u);
  ASSERT_TRUE((*a)->SetStatus("B-7", RecordStatus::kSealed).ok());
  EXPECT_EQ(search_b(700), 0u);
  ASSERT_TRUE((*a)->Expunge("B-8").ok());
  EXPECT_EQ(search_b(800), 0u);
  EXPECT_EQ((*index_b)->last_sync().reason, "templates expunged");  // B rewrote its own file
  EXPECT_EQ(search_b(901), 1u);
  // B reopens its own snapshot (written after the expunge) and only patches what is new.
  auto reopened = GalleryIndex::Open(**b, kModel);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->last_sync().action, IndexSync::Action::kOpened);
}

INSTANTIATE_TEST_SUITE_P(Backends, GalleryIndexTest, testing::kBackends, testing::BackendName);

}  // namespace
}  // namespace facetrail::gallery
