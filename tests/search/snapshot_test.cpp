// Snapshot round trip at several dimensions, and what a damaged or foreign file must do: be
// refused with kDataLoss, naming the check that fired (LevelDB corruption_test style: flip bytes
// in a real file).
#include "search/snapshot.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "search/internal/crc32c.h"
#include "search/test_templates.h"

namespace facetrail::search {
namespace {

namespace fs = std::filesystem;

SnapshotOpenOptions VerifyAll() {
  SnapshotOpenOptions o;
  o.verify_floats = true;
  return o;
}

uint64_t AlignUp(uint64_t v) {
  return (v + 4095) / 4096 * 4096;
}

// Section offsets of docs/SNAPSHOT.md for n rows of dim floats and a head of `head`
// coordinates (head == dim: the identity basis, no basis section).
struct Layout {
  uint64_t ids, active, row_crcs, floats, basis, scales, err1, err2, codes_hi, codes_lo, block_crcs,
      end;
  Layout(uint64_t n, uint64_t dim, uint64_t head = 0) {
    if (head == 0) head = dim;
    uint64_t off = 4096;
    auto next = [&](uint64_t bytes) {
      const uint64_t at = off;
      off = AlignUp(off + bytes);
      return at;
    };
    ids = next(8 * n);
    active = next(n);
    row_crcs = next(4 * n);
    floats = next(4 * n * dim);
    basis = next(head == dim ? 0 : head * dim * 8);
    scales = next(4 * n);
    err1 = next(4 * n);
    err2 = next(4 * n);
    codes_hi = next(n * head / 2);
    codes_lo = next(n * head / 2);
    const uint64_t mib = uint64_t{1} << 20;
    block_crcs = next(4 * ((4 * n + mib - 1) / mib + (n * head / 2 + mib - 1) / mib));
    end = off;
  }
};

class SnapshotTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dim_ = GetParam();
    dir_ = fs::temp_directory_path() /
           ("ft_snapshot_" + std::to_string(getpid()) + "_" + std::to_string(dim_));
    fs::create_directories(dir_);
    path_ = (dir_ / "gallery.snapshot").string();
    t_ = testing::RandomTemplates(kRows, dim_, 11);
    for (size_t r = 0; r < kRows; ++r) {
      ids_.push_back(static_cast<int64_t>(r * 2 + 1));
      active_.push_back(r % 5 == 0 ? 0 : 1);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  SnapshotInfo Info() const {
    return {"test-model/v1", 3, "gallery-uuid-1", 42, static_cast<uint64_t>(kRows), dim_};
  }
  std::span<const float> Row(size_t r) const {
    return std::span(&t_[r * static_cast<size_t>(dim_)], static_cast<size_t>(dim_));
  }
  void Write(const SnapshotWriterOptions& options = {}) {
    auto w = SnapshotWriter::Create(path_, Info(), options);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (size_t r = 0; r < kRows; ++r) {
      ASSERT_TRUE((*w)->Append(ids_[r], active_[r] != 0, Row(r)).ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  void FlipByte(uint64_t offset) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }
  // Overwrites 4 header bytes and re-seals the header checksum, as a writer of another version
  // (or a lying one) would have.
  void PatchHeader(uint64_t offset, uint32_t value) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> header(4096);
    f.read(header.data(), 4096);
    std::memcpy(&header[offset], &value, 4);
    const uint32_t crc = internal::Crc32c(header.data(), 4092);
    std::memcpy(&header[4092], &crc, 4);
    f.seekp(0);
    f.write(header.data(), 4096);
  }
  void ExpectRefused(const std::string& words, const SnapshotOpenOptions& o = {}) {
    auto s = OpenSnapshot(path_, o);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(s.status().message().find(words), std::string::npos) << s.status().message();
  }

  static constexpr size_t kRows = 3000;
  int dim_ = 0;
  fs::path dir_;
  std::string path_;
  std::vector<float> t_;
  std::vector<int64_t> ids_;
  std::vector<uint8_t> active_;
};

TEST_P(SnapshotTest, RoundTripSearchesLikeBuild) {
  Write();
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().string(), path_) << "temporary file left behind";
  }
  EXPECT_EQ(fs::file_size(path_), Layout(kRows, dim_).end);
  auto s = OpenSnapshot(path_, VerifyAll());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->info.model_id, "test-model/v1");
  EXPECT_EQ(s->info.model_version, 3);
  EXPECT_EQ(s->info.gallery_id, "gallery-uuid-1");
  EXPECT_EQ(s->info.change_counter, 42);
  EXPECT_EQ(s->info.count, kRows);
  EXPECT_EQ(s->info.dim, dim_);
  EXPECT_EQ(s->index->dim(), dim_);
  EXPECT_EQ(s->index->num_active(), kRows - kRows / 5);
  auto built = FlatIndex::Build(dim_, ids_, t_, active_);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(s->index->max_quantization_error(), (*built)->max_quantization_error());
  EXPECT_EQ(s->index->max_first_pass_error(), (*built)->max_first_pass_error());
  for (int q = 0; q < 5; ++q) {
    auto probe = testing::NoisyCopy(t_, dim_, q * 17, 0.05f, q);
    auto got = s->index->Search(probe, {25, -2});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, testing::BruteForce(ids_, t_, dim_, active_, probe, 25, -2));
    EXPECT_EQ(*got, *(*built)->Search(probe, {25, -2}));
  }
}

// Low-rank face-like templates (rank 3/8 of dim) and a basis fitted to them.
TEST_P(SnapshotTest, RoundTripWithAFittedBasis) {
  t_ = testing::FaceLikeTemplates(kRows, dim_, 21, 2, dim_ * 3 / 8);
  auto basis = Basis::Fit(dim_, std::span(t_).first(2000 * static_cast<size_t>(dim_)));
  ASSERT_TRUE(basis.ok()) << basis.status().ToString();
  ASSERT_LT(basis->head_dim(), dim_);
  SnapshotWriterOptions o;
  o.basis = *basis;
  Write(o);
  EXPECT_EQ(fs::file_size(path_), Layout(kRows, dim_, basis->head_dim()).end);
  auto s = OpenSnapshot(path_, VerifyAll());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->index->head_dim(), basis->head_dim());
  EXPECT_EQ(s->index->basis().rows(), basis->rows());
  auto built = FlatIndex::Build(*basis, ids_, t_, active_);
  ASSERT_TRUE(built.ok());
  for (int q = 0; q < 6; ++q) {
    auto probe = q < 4 ? testing::NoisyCopy(t_, dim_, q * 17, 0.02f, q)
                       : testing::RandomTemplates(1, dim_, 100 + q);
    auto got = s->index->Search(probe, {25, -2});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, testing::BruteForce(ids_, t_, dim_, active_, probe, 25, -2));
    EXPECT_EQ(*got, *(*built)->Search(probe, {25, -2}));
  }
  // A damaged basis is refused like any other checked section.
  FlipByte(Layout(kRows, dim_, basis->head_dim()).basis + 8 * 33 + 3);
  ExpectRefused("basis section checksum mismatch");
}

TEST_P(SnapshotTest, WriterFitsABasisToItsFirstRows) {
  t_ = testing::FaceLikeTemplates(kRows, dim_, 22, 2, dim_ * 3 / 8);
  SnapshotWriterOptions o;
  o.min_rows_to_fit = 1000;
  o.fit_sample_rows = 1500;
  Write(o);
  auto s = OpenSnapshot(path_, VerifyAll());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_LT(s->index->head_dim(), dim_);
  EXPECT_EQ(fs::file_size(path_), Layout(kRows, dim_, s->index->head_dim()).end);
  for (int q = 0; q < 4; ++q) {
    auto probe = testing::NoisyCopy(t_, dim_, 2000 + q * 100, 0.02f, q);  // beyond the sample
    auto got = s->index->Search(probe, {25, -2});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, testing::BruteForce(ids_, t_, dim_, active_, probe, 25, -2));
  }
  // Below min_rows_to_fit, or for isotropic templates, the identity.
  t_ = testing::RandomTemplates(kRows, dim_, 23);
  Write(o);
  auto iso = OpenSnapshot(path_);
  ASSERT_TRUE(iso.ok());
  EXPECT_EQ(iso->index->head_dim(), dim_);
  EXPECT_TRUE(iso->index->basis().is_identity());
}

TEST_P(SnapshotTest, FilesAreOwnerOnly) {
  ::umask(0);  // even with a permissive umask
  auto w = SnapshotWriter::Create(path_, Info());
  ASSERT_TRUE(w.ok());
  int seen = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    struct stat st {};
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "temporary " << e.path();
    ++seen;
  }
  EXPECT_EQ(seen, 1);
  for (size_t r = 0; r < kRows; ++r) ASSERT_TRUE((*w)->Append(ids_[r], true, Row(r)).ok());
  ASSERT_TRUE((*w)->Finish().ok());
  ::umask(022);
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_P(SnapshotTest, EmptySnapshot) {
  auto w = SnapshotWriter::Create(path_, {"m", 1, "g", 0, 0, dim_});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Finish().ok());
  auto s = OpenSnapshot(path_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->index->dim(), dim_);
  EXPECT_TRUE(s->index->Search(Row(0), {5, -2})->empty());
}

TEST_P(SnapshotTest, MissingIsNotFound) {
  EXPECT_EQ(OpenSnapshot(path_).status().code(), StatusCode::kNotFound);
}

TEST_P(SnapshotTest, UnfinishedWriterLeavesNothing) {
  {
    auto w = SnapshotWriter::Create(path_, Info());
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append(1, true, Row(0)).ok());
    EXPECT_FALSE((*w)->Finish().ok());  // too few rows
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

// Issue 14 §6: a rebuild that cannot get its space (a full disk; here the process's file size
// limit, RLIMIT_FSIZE, which a test can set without root) fails with a clear error before it
// writes, leaves no temporary file, and the previous snapshot stays as it was. Run in a child
// process, as the limit is per process.
TEST_P(SnapshotTest, NoSpaceForARebuildIsAClearErrorAndThePreviousSnapshotStays) {
  Write();
  const auto before = fs::file_size(path_);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing the process
    rlimit limit{64 * 1024, 64 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(10);
    Status s = [&]() -> Status {
      FT_ASSIGN_OR_RETURN(auto w, SnapshotWriter::Create(path_, Info()));
      for (size_t r = 0; r < kRows; ++r) FT_RETURN_IF_ERROR(w->Append(ids_[r], true, Row(r)));
      return w->Finish();
    }();
    if (s.ok()) _exit(11);
    if (s.code() != StatusCode::kIoError) _exit(12);
    if (s.message().find("cannot reserve") == std::string::npos) _exit(13);
    if (s.message().find("file size limit") == std::string::npos) _exit(14);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Only the previous snapshot is there, unchanged and usable.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1);
  EXPECT_EQ(fs::file_size(path_), before);
  EXPECT_TRUE(OpenSnapshot(path_).ok());
}

TEST_P(SnapshotTest, TruncatedIsRefused) {
  Write();
  const auto size = fs::file_size(path_);
  for (uint64_t keep : {uint64_t{0}, uint64_t{100}, uint64_t{4096}, size / 2, size - 1}) {
    Write();
    fs::resize_file(path_, keep);
    SCOPED_TRACE(keep);
    ExpectRefused("truncated");
  }
}

TEST_P(SnapshotTest, DamagedHeaderOrCheckedSectionIsRefused) {
  const Layout l(kRows, dim_);
  Write();
  FlipByte(0);
  ExpectRefused("bad magic number");
  Write();
  FlipByte(20);  // count
  ExpectRefused("header checksum mismatch");
  const std::pair<uint64_t, const char*> sections[] = {
      {l.ids + 8 * 10, "ids section checksum mismatch"},
      {l.active + 7, "active section checksum mismatch"},
      {l.scales + 4 * 3 + 1, "scales section checksum mismatch"},
      {l.err1 + 4 * 5, "first-pass errors section checksum mismatch"},
      {l.row_crcs + 4 * 9, "row checksums section checksum mismatch"},
      {l.codes_hi + 1234, "codes (high nibbles) section checksum mismatch"},
      {l.block_crcs + 1, "block checksums section checksum mismatch"},
  };
  for (const auto& [offset, words] : sections) {
    Write();
    FlipByte(offset);
    ExpectRefused(words);
  }
}

TEST_P(SnapshotTest, DamagedRefinementDataFailsTheSearchThatReadsIt) {
  // The low-nibble plane and int8 errors are checked block by block when a search first refines
  // a row there (or all at open on request): a flipped byte fails that search, not the open.
  const Layout l(kRows, dim_);
  const size_t row = 8;  // active (8 % 5 != 0)
  SnapshotOpenOptions all;
  all.verify_refinement_data = true;
  const std::pair<uint64_t, const char*> damage[] = {
      {l.codes_lo + row * dim_ / 2 + 3, "codes (low nibbles)"},
      {l.err2 + row * 4 + 1, "int8 errors"},
  };
  for (const auto& [offset, name] : damage) {
    SCOPED_TRACE(name);
    Write();
    FlipByte(offset);
    ExpectRefused(std::string(name) + " section checksum mismatch", all);
    auto s = OpenSnapshot(path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto probe = std::vector<float>(Row(row).begin(), Row(row).end());
    auto got = s->index->Search(probe, {5, -2});  // refines the row itself
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(got.status().message().find(std::string(name) + " section: block 0"),
              std::string::npos)
        << got.status().message();
    EXPECT_NE(got.status().message().find("rebuild"), std::string::npos);
  }
}

TEST_P(SnapshotTest, OtherVersionsAndDimensionsAreRefusedWithRebuild) {
  Write();
  PatchHeader(8, 1);  // format version 1: the 128-d single int8 pass layout
  ExpectRefused("format version 1");
  ExpectRefused("rebuild");
  Write();
  PatchHeader(8, 3);
  ExpectRefused("version 3");
  for (uint32_t dim : {0u, 100u, 8192u, 0x80000000u}) {
    Write();
    PatchHeader(12, dim);
    ExpectRefused("dimension " + std::to_string(dim) + " is not supported");
  }
  // A supported dimension that does not match the identity basis's head, or the sections.
  Write();
  PatchHeader(12, static_cast<uint32_t>(dim_ == 512 ? 128 : 512));
  ExpectRefused("basis (kind 0, head " + std::to_string(dim_));
  Write();
  PatchHeader(12, static_cast<uint32_t>(dim_ == 512 ? 128 : 512));
  PatchHeader(36, static_cast<uint32_t>(dim_ == 512 ? 128 : 512));  // head_dim
  ExpectRefused("misplaced");
  Write();
  PatchHeader(48, 7);  // basis kind
  ExpectRefused("basis (kind 7");
}

TEST_P(SnapshotTest, DamagedFloatRowFailsFullVerifyAndTheSearchThatReadsIt) {
  Write();
  const uint64_t floats_offset = Layout(kRows, dim_).floats;  // identity basis: 3000 rows
  const size_t row = 7;                                       // active (7 % 5 != 0)
  FlipByte(floats_offset + row * dim_ * 4 + 9);
  ExpectRefused("floats section checksum mismatch", VerifyAll());
  auto s = OpenSnapshot(path_);
  ASSERT_TRUE(s.ok());
  auto probe = std::vector<float>(Row(row).begin(), Row(row).end());
  auto got = s->index->Search(probe, {5, -2});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
}

TEST_P(SnapshotTest, WriterRejectsBadRowsAndDimensions) {
  auto w = SnapshotWriter::Create(path_, Info());
  ASSERT_TRUE(w.ok());
  std::vector<float> nan(static_cast<size_t>(dim_), std::nanf(""));
  EXPECT_EQ((*w)->Append(1, true, nan).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE((*w)->Finish().ok());
  auto w2 = SnapshotWriter::Create(path_, Info());
  ASSERT_TRUE(w2.ok());
  auto other = testing::RandomTemplates(1, dim_ + 16, 1);
  auto s = (*w2)->Append(1, true, other);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expected " + std::to_string(dim_)), std::string::npos) << s.message();
  for (int dim : {0, 100, kMaxDim + 16}) {
    auto bad = SnapshotWriter::Create(path_, {"m", 1, "g", 0, 1, dim});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("dimension"), std::string::npos);
  }
}

TEST_P(SnapshotTest, ChecksumsSpanManyBlocks) {
  // More than one 1 MiB checksum block in the larger sections: the writer's running checksums
  // must match the reader's.
  const size_t n = (size_t{3} << 20) / (static_cast<size_t>(dim_) * 4) + 123;
  auto t = testing::RandomTemplates(n, dim_, 13);
  auto w = SnapshotWriter::Create(path_, {"m", 1, "g", 0, n, dim_});
  ASSERT_TRUE(w.ok());
  for (size_t r = 0; r < n; ++r) {
    ASSERT_TRUE(
        (*w)->Append(static_cast<int64_t>(r), true,
                     std::span(&t[r * static_cast<size_t>(dim_)], static_cast<size_t>(dim_)))
            .ok());
  }
  ASSERT_TRUE((*w)->Finish().ok());
  auto s = OpenSnapshot(path_, VerifyAll());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->index->size(), n);
}

INSTANTIATE_TEST_SUITE_P(Dims, SnapshotTest, ::testing::Values(48, 128, 512),
                         [](const auto& param_info) {
                           return "dim" + std::to_string(param_info.param);
                         });

}  // namespace
}  // namespace facetrail::search
