#include "search/snapshot.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "search/internal/crc32c.h"
#include "search/internal/index_data.h"
#include "search/internal/lazy_checksums.h"
#include "search/internal/quantize.h"

namespace facetrail::search {
namespace {

// "\x89FTSNAP\n": a high-bit first byte catches 7-bit transfers and text files, the newline
// catches CRLF conversion (the PNG signature's reasoning).
constexpr uint8_t kMagic[8] = {0x89, 'F', 'T', 'S', 'N', 'A', 'P', '\n'};
constexpr size_t kHeaderSize = 4096;
constexpr size_t kAlign = 4096;
constexpr size_t kModelIdSize = 128;
constexpr size_t kGalleryIdSize = 64;
// Block size of section checksums (internal::SectionChecksum).
constexpr size_t kChecksumBlock = size_t{1} << 20;
// Rows a writer projects through its basis at once.
constexpr size_t kEncodeBatch = 64;

// File order. The sections before kBasis depend only on the templates; those from kBasis on
// depend on the basis, whose head size a writer may learn only after its fit sample.
enum SectionId {
  kIds,
  kActive,
  kRowCrcs,
  kFloats,
  kBasisRows,
  kScales,
  kErr1,
  kErr2,
  kCodesHi,
  kCodesLo,
  kBlockCrcs,
  kNumSections
};
constexpr const char* kSectionNames[kNumSections] = {"ids",
                                                     "active",
                                                     "row checksums",
                                                     "floats",
                                                     "basis",
                                                     "scales",
                                                     "first-pass errors",
                                                     "int8 errors",
                                                     "codes (high nibbles)",
                                                     "codes (low nibbles)",
                                                     "block checksums"};

// Sections checked block by block when a search first reads them (their block CRCs are stored
// in the block checksums section, in this order), unless SnapshotOpenOptions asks for all now.
constexpr SectionId kLazySections[] = {kErr2, kCodesLo};

uint64_t NumBlocks(uint64_t size) {
  return (size + kChecksumBlock - 1) / kChecksumBlock;
}

enum BasisKind : uint32_t { kIdentityBasis = 0, kStoredBasis = 1 };

struct SectionEntry {
  uint64_t offset;
  uint64_t size;
  uint32_t checksum;
  uint32_t reserved;
};

// Little-endian on disk; x86-64 only, like the kernels. Offsets in docs/SNAPSHOT.md.
struct Header {
  uint8_t magic[8];
  uint32_t format_version;
  uint32_t dim;
  uint64_t count;
  int64_t change_counter;
  int32_t model_version;
  uint32_t head_dim;
  float max_err1;
  float max_err2;
  uint32_t basis_kind;
  uint32_t flags;
  char model_id[kModelIdSize];
  char gallery_id[kGalleryIdSize];
  SectionEntry sections[kNumSections];
};
static_assert(sizeof(Header) == 512);
constexpr size_t kHeaderCrcOffset = kHeaderSize - 4;

size_t AlignUp(size_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

uint64_t BytesPerRow(SectionId s, uint64_t dim, uint64_t head) {
  switch (s) {
    case kIds: return 8;
    case kActive: return 1;
    case kRowCrcs:
    case kScales:
    case kErr1:
    case kErr2: return 4;
    case kFloats: return dim * 4;
    case kCodesHi:
    case kCodesLo: return head / 2;
    default: return 0;
  }
}

// Fills offsets and sizes; returns the file size. `stored_basis`: a head × dim basis section.
uint64_t Layout(uint64_t count, uint64_t dim, uint64_t head, bool stored_basis,
                SectionEntry* sections) {
  uint64_t off = kHeaderSize;
  for (int s = 0; s < kNumSections; ++s) {
    const auto id = static_cast<SectionId>(s);
    sections[s].offset = off;
    if (id == kBasisRows) {
      sections[s].size = stored_basis ? head * dim * 8 : 0;
    } else if (id == kBlockCrcs) {
      sections[s].size = 0;
      for (SectionId lazy : kLazySections) sections[s].size += 4 * NumBlocks(sections[lazy].size);
    } else {
      sections[s].size = count * BytesPerRow(id, dim, head);
    }
    sections[s].checksum = 0;
    sections[s].reserved = 0;
    off = AlignUp(off + sections[s].size);
  }
  return off;
}

std::string Errno(const std::string& path, const char* what) {
  return path + ": " + what + ": " + ErrnoMessage(errno);
}

int Threads(int n) {
  return n > 0 ? n : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr) munmap(addr, size);
  }
};

}  // namespace

namespace {

// Reserves the whole file before anything is written: a full disk (or a file size limit) is a
// clear error now, not a SIGBUS when a page of a sparse file is touched later (tmpfs allocates
// holes on read), and no gigabytes are written first. The destructor removes the temporary file.
Status Reserve(int fd, const std::string& tmp_path, uint64_t file_size) {
  const int rc = posix_fallocate(fd, 0, static_cast<off_t>(file_size));
  if (rc == 0 || rc == EOPNOTSUPP || rc == EINVAL) return Status::Ok();  // written as it goes
  const std::string what = rc == ENOSPC  ? "not enough disk space"
                           : rc == EFBIG ? "larger than the process's file size limit"
                                         : ErrnoMessage(rc);
  return IoError(tmp_path + ": cannot reserve " + std::to_string(file_size) +
                 " bytes for the snapshot: " + what +
                 " (the previous snapshot and the database are unchanged)");
}

}  // namespace

// ---- SnapshotWriter ----

// One section of the file being written: rows are gathered in a buffer of one checksum block,
// whose CRC is taken and which is written (pwrite) when full. Writing through a buffer rather
// than a shared mapping spares the kernel zeroing every new page of a 25 GB file first.
struct SnapshotWriter::Section {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t flushed = 0;  // bytes written to the file
  std::vector<uint8_t> buffer;
  std::vector<uint32_t> block_crcs;

  Status Write(int fd, const std::string& path, const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      const size_t take = std::min(n, kChecksumBlock - buffer.size());
      buffer.insert(buffer.end(), p, p + take);
      p += take;
      n -= take;
      if (buffer.size() == kChecksumBlock) FT_RETURN_IF_ERROR(Flush(fd, path));
    }
    return Status::Ok();
  }
  Status Flush(int fd, const std::string& path) {
    if (buffer.empty()) return Status::Ok();
    if (flushed + buffer.size() > size) return Internal(path + ": section overflow");
    block_crcs.push_back(internal::Crc32c(buffer.data(), buffer.size()));
    size_t done = 0;
    while (done < buffer.size()) {
      const ssize_t w = pwrite(fd, buffer.data() + done, buffer.size() - done,
                               static_cast<off_t>(offset + flushed + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return IoError(Errno(path, "cannot write snapshot"));
      done += static_cast<size_t>(w);
    }
    flushed += buffer.size();
    buffer.clear();
    return Status::Ok();
  }
  uint32_t Checksum() const {
    return internal::Crc32c(block_crcs.data(), block_crcs.size() * sizeof(uint32_t));
  }
};

Expected<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(
    const std::string& path, const SnapshotInfo& info, const SnapshotWriterOptions& options) {
  FT_RETURN_IF_ERROR(ValidateDim(info.dim).WithContext(path));
  if (info.model_id.size() >= kModelIdSize || info.gallery_id.size() >= kGalleryIdSize) {
    return InvalidArgument(path + ": model id or gallery id too long for the snapshot header");
  }
  if (options.basis && options.basis->dim() != info.dim) {
    return InvalidArgument(path + ": basis of dimension " + std::to_string(options.basis->dim()) +
                           " for templates of " + std::to_string(info.dim));
  }
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter());
  w->path_ = path;
  static std::atomic<uint64_t> next_tmp{0};
  w->tmp_path_ = path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(next_tmp++);
  w->info_ = info;
  w->options_ = options;
  w->sections_ = std::make_unique<Section[]>(kNumSections);
  // The sections before the basis are placed now; the rest once the basis is known.
  SectionEntry sections[kNumSections];
  const auto dim = static_cast<uint64_t>(info.dim);
  Layout(info.count, dim, dim, false, sections);
  for (int s = 0; s < kBasisRows; ++s) {
    w->sections_[s].offset = sections[s].offset;
    w->sections_[s].size = sections[s].size;
  }
  // Owner-only: the file holds every template of the gallery. fchmod too, for a leftover
  // temporary of a crashed process that reused this pid (open's mode applies only to new files).
  w->fd_ = open(w->tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (w->fd_ < 0) return IoError(Errno(w->tmp_path_, "cannot create snapshot"));
  if (fchmod(w->fd_, 0600) != 0) return IoError(Errno(w->tmp_path_, "cannot restrict snapshot"));
  if (options.basis) {
    FT_RETURN_IF_ERROR(w->UseBasis(*options.basis));
  } else if (info.count >= options.min_rows_to_fit && info.count > 0) {
    w->fit_rows_ = std::clamp<uint64_t>(options.fit_sample_rows, 1, info.count);
  } else {
    FT_RETURN_IF_ERROR(w->UseBasis(Basis::Identity(info.dim)));
  }
  return w;
}

SnapshotWriter::~SnapshotWriter() {
  if (fd_ >= 0) close(fd_);
  if (!finished_) unlink(tmp_path_.c_str());
}

Status SnapshotWriter::UseBasis(Basis basis) {
  SectionEntry sections[kNumSections];
  file_size_ = Layout(info_.count, static_cast<uint64_t>(info_.dim),
                      static_cast<uint64_t>(basis.head_dim()), !basis.is_identity(), sections);
  for (int s = kBasisRows; s < kNumSections; ++s) {
    sections_[s].offset = sections[s].offset;
    sections_[s].size = sections[s].size;
  }
  basis_ = std::move(basis);
  fit_rows_ = 0;
  FT_RETURN_IF_ERROR(Reserve(fd_, tmp_path_, file_size_));
  return EncodePending();
}

Status SnapshotWriter::EncodePending() {
  const auto d = static_cast<size_t>(info_.dim);
  const size_t rows = pending_.size() / d;
  const auto m = static_cast<size_t>(basis_->head_dim());
  std::vector<double> y(rows * m), tails(rows);
  basis_->ProjectRows(pending_.data(), rows, y.data(), tails.data());
  std::vector<uint8_t> hi(m / 2), lo(m / 2);
  for (size_t r = 0; r < rows; ++r) {
    const internal::TemplateCode code =
        internal::QuantizeTemplate(&y[r * m], basis_->head_dim(), tails[r], hi.data(), lo.data());
    max_err1_ = std::max(max_err1_, code.err1);
    max_err2_ = std::max(max_err2_, code.err2);
    FT_RETURN_IF_ERROR(sections_[kScales].Write(fd_, tmp_path_, &code.scale, 4));
    FT_RETURN_IF_ERROR(sections_[kErr1].Write(fd_, tmp_path_, &code.err1, 4));
    FT_RETURN_IF_ERROR(sections_[kErr2].Write(fd_, tmp_path_, &code.err2, 4));
    FT_RETURN_IF_ERROR(sections_[kCodesHi].Write(fd_, tmp_path_, hi.data(), m / 2));
    FT_RETURN_IF_ERROR(sections_[kCodesLo].Write(fd_, tmp_path_, lo.data(), m / 2));
  }
  pending_.clear();
  return Status::Ok();
}

Status SnapshotWriter::Append(int64_t id, bool active, std::span<const float> templ) {
  if (failed_ || finished_) return FailedPrecondition(path_ + ": snapshot writer not usable");
  if (rows_ >= info_.count) {
    return FailedPrecondition(path_ + ": more rows than the " + std::to_string(info_.count) +
                              " announced");
  }
  Status s = ValidateTemplate(templ, info_.dim);
  if (s.ok() && rows_ > 0 && id <= last_id_) {
    s = InvalidArgument("ids must be strictly increasing (after " + std::to_string(last_id_) + ")");
  }
  if (!s.ok()) {
    failed_ = true;
    return s.WithContext(path_ + ": template " + std::to_string(id));
  }
  s = [&]() -> Status {
    const size_t bytes = templ.size() * sizeof(float);
    const uint8_t flag = active ? 1 : 0;
    const uint32_t crc = internal::Crc32c(templ.data(), bytes);
    FT_RETURN_IF_ERROR(sections_[kIds].Write(fd_, tmp_path_, &id, 8));
    FT_RETURN_IF_ERROR(sections_[kActive].Write(fd_, tmp_path_, &flag, 1));
    FT_RETURN_IF_ERROR(sections_[kRowCrcs].Write(fd_, tmp_path_, &crc, 4));
    FT_RETURN_IF_ERROR(sections_[kFloats].Write(fd_, tmp_path_, templ.data(), bytes));
    pending_.insert(pending_.end(), templ.begin(), templ.end());
    last_id_ = id;
    ++rows_;
    if (!basis_ && rows_ == fit_rows_) {
      // The fit sample is complete: it is the rows held for encoding.
      auto basis = Basis::Fit(info_.dim, pending_, options_.fit);
      if (!basis.ok()) return basis.status().WithContext(path_ + ": fitting the basis");
      return UseBasis(std::move(basis).value());
    }
    // Rows are projected in batches (the basis rows are read once per batch, not per row).
    if (basis_ && pending_.size() >= kEncodeBatch * templ.size()) return EncodePending();
    return Status::Ok();
  }();
  if (!s.ok()) failed_ = true;
  return s;
}

Status SnapshotWriter::Finish() {
  if (failed_ || finished_) return FailedPrecondition(path_ + ": snapshot writer not usable");
  if (rows_ != info_.count) {
    return FailedPrecondition(path_ + ": " + std::to_string(rows_) + " rows appended, " +
                              std::to_string(info_.count) + " announced");
  }
  failed_ = true;  // until it succeeds
  if (!basis_) FT_RETURN_IF_ERROR(UseBasis(Basis::Identity(info_.dim)));
  FT_RETURN_IF_ERROR(EncodePending());
  if (!basis_->is_identity()) {
    FT_RETURN_IF_ERROR(sections_[kBasisRows].Write(fd_, tmp_path_, basis_->rows().data(),
                                                   basis_->rows().size() * sizeof(double)));
  }
  for (SectionId lazy : kLazySections) {
    FT_RETURN_IF_ERROR(sections_[lazy].Flush(fd_, tmp_path_));
    const std::vector<uint32_t>& crcs = sections_[lazy].block_crcs;
    FT_RETURN_IF_ERROR(
        sections_[kBlockCrcs].Write(fd_, tmp_path_, crcs.data(), crcs.size() * sizeof(uint32_t)));
  }
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.format_version = kSnapshotFormatVersion;
  h.dim = static_cast<uint32_t>(info_.dim);
  h.count = info_.count;
  h.change_counter = info_.change_counter;
  h.model_version = info_.model_version;
  h.head_dim = static_cast<uint32_t>(basis_->head_dim());
  h.max_err1 = max_err1_;
  h.max_err2 = max_err2_;
  h.basis_kind = basis_->is_identity() ? kIdentityBasis : kStoredBasis;
  std::memcpy(h.model_id, info_.model_id.data(), info_.model_id.size());
  std::memcpy(h.gallery_id, info_.gallery_id.data(), info_.gallery_id.size());
  for (int s = 0; s < kNumSections; ++s) {
    Section& sec = sections_[s];
    FT_RETURN_IF_ERROR(sec.Flush(fd_, tmp_path_));
    if (sec.flushed != sec.size) {
      return Internal(tmp_path_ + ": snapshot " + kSectionNames[s] + " section has " +
                      std::to_string(sec.flushed) + " bytes, expected " + std::to_string(sec.size));
    }
    h.sections[s] = {sec.offset, sec.size, sec.Checksum(), 0};
  }
  std::vector<uint8_t> header(kHeaderSize, 0);
  std::memcpy(header.data(), &h, sizeof h);
  const uint32_t header_crc = internal::Crc32c(header.data(), kHeaderCrcOffset);
  std::memcpy(header.data() + kHeaderCrcOffset, &header_crc, 4);
  if (pwrite(fd_, header.data(), kHeaderSize, 0) != static_cast<ssize_t>(kHeaderSize)) {
    return IoError(Errno(tmp_path_, "cannot write snapshot header"));
  }
  // The last section ends on an alignment boundary (a hole when it is not full).
  if (ftruncate(fd_, static_cast<off_t>(file_size_)) != 0) {
    return IoError(Errno(tmp_path_, "cannot size snapshot"));
  }
  if (fsync(fd_) != 0) return IoError(Errno(tmp_path_, "fsync"));
  if (rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return IoError(Errno(path_, "cannot publish snapshot (rename)"));
  }
  finished_ = true;
  failed_ = false;
  const size_t slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string(".")
                          : slash == 0               ? std::string("/")
                                                     : path_.substr(0, slash);
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd);
    close(dfd);
  }
  return Status::Ok();
}

// ---- OpenSnapshot ----

namespace {

// The header's own checks, in the order that names the most specific problem.
Status CheckHeader(const std::string& path, const uint8_t* base, const Header& h) {
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    return DataLoss(path + ": not a facetrail snapshot (bad magic number)");
  }
  uint32_t header_crc;
  std::memcpy(&header_crc, base + kHeaderCrcOffset, 4);
  if (internal::Crc32c(base, kHeaderCrcOffset) != header_crc) {
    return DataLoss(path + ": snapshot header checksum mismatch");
  }
  if (h.format_version == 1) {
    return DataLoss(path +
                    ": snapshot format version 1 (128-d, single int8 pass) is no longer read; "
                    "rebuild the snapshot from the database (version " +
                    std::to_string(kSnapshotFormatVersion) + ")");
  }
  if (h.format_version != kSnapshotFormatVersion) {
    return DataLoss(path + ": snapshot format version " + std::to_string(h.format_version) +
                    ", this program reads version " + std::to_string(kSnapshotFormatVersion) +
                    "; rebuild the snapshot");
  }
  if (h.dim > static_cast<uint32_t>(kMaxDim) || !ValidateDim(static_cast<int>(h.dim)).ok()) {
    return DataLoss(path + ": snapshot dimension " + std::to_string(h.dim) + " is not supported");
  }
  const bool identity = h.basis_kind == kIdentityBasis;
  if ((h.basis_kind != kIdentityBasis && h.basis_kind != kStoredBasis) ||
      (identity && h.head_dim != h.dim) ||
      (!identity && (h.head_dim >= h.dim || !ValidateDim(static_cast<int>(h.head_dim)).ok()))) {
    return DataLoss(path + ": snapshot basis (kind " + std::to_string(h.basis_kind) + ", head " +
                    std::to_string(h.head_dim) + " of " + std::to_string(h.dim) +
                    ") is not supported");
  }
  if (h.count > (uint64_t{1} << 40)) return DataLoss(path + ": implausible template count");
  return Status::Ok();
}

}  // namespace

Expected<OpenedSnapshot> OpenSnapshot(const std::string& path, const SnapshotOpenOptions& options) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path + ": no snapshot");
    return IoError(Errno(path, "cannot open snapshot"));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    close(fd);
    return IoError(Errno(path, "stat"));
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < kHeaderSize) {
    close(fd);
    return DataLoss(path + ": truncated snapshot (" + std::to_string(file_size) +
                    " bytes, shorter than its header)");
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->addr = mmap(nullptr, file_size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (mapping->addr == MAP_FAILED) {
    mapping->addr = nullptr;
    return IoError(Errno(path, "cannot map snapshot"));
  }
  mapping->size = file_size;
  const auto* base = static_cast<const uint8_t*>(mapping->addr);
  Header h;
  std::memcpy(&h, base, sizeof h);
  FT_RETURN_IF_ERROR(CheckHeader(path, base, h));
  const bool stored_basis = h.basis_kind == kStoredBasis;
  SectionEntry expected[kNumSections];
  const uint64_t expected_size = Layout(h.count, h.dim, h.head_dim, stored_basis, expected);
  for (int s = 0; s < kNumSections; ++s) {
    if (h.sections[s].offset != expected[s].offset || h.sections[s].size != expected[s].size) {
      return DataLoss(path + ": snapshot " + kSectionNames[s] + " section misplaced");
    }
  }
  if (file_size != expected_size) {
    return DataLoss(path + ": truncated or padded snapshot (" + std::to_string(file_size) +
                    " bytes, expected " + std::to_string(expected_size) + ")");
  }
  // Everything a search reads at every query is checked now; the refinement data (low-nibble
  // plane, int8 errors) block by block when a search first refines a row there; the float32
  // rows by their own CRC when re-scored.
  auto section = [&](SectionId s) { return base + h.sections[s].offset; };
  auto is_lazy = [](int s) { return s == kErr2 || s == kCodesLo; };
  for (int s = 0; s < kNumSections; ++s) {
    const bool now =
        s == kFloats ? options.verify_floats : !is_lazy(s) || options.verify_refinement_data;
    if (now && h.sections[s].size > 0) {
      (void)madvise(const_cast<uint8_t*>(section(static_cast<SectionId>(s))),
                    AlignUp(h.sections[s].size), MADV_WILLNEED);
    }
  }
  // Re-scoring reads a few float32 rows at random: no read-ahead around them.
  (void)madvise(const_cast<uint8_t*>(section(kFloats)), AlignUp(h.sections[kFloats].size),
                MADV_RANDOM);
  const int threads = Threads(options.num_threads);
  for (int s = 0; s < kNumSections; ++s) {
    if (s == kFloats && !options.verify_floats) continue;
    if (is_lazy(s) && !options.verify_refinement_data) continue;
    if (internal::SectionChecksum(base + h.sections[s].offset, h.sections[s].size, threads) !=
        h.sections[s].checksum) {
      return DataLoss(path + ": snapshot " + kSectionNames[s] + " section checksum mismatch");
    }
  }
  // The lazily checked sections' block CRCs (checked above as a section) must be the ones their
  // section checksum was made of.
  const auto* block_crcs = reinterpret_cast<const uint32_t*>(section(kBlockCrcs));
  std::shared_ptr<const internal::LazyChecksums> lazy_checks[kNumSections];
  for (SectionId lazy : kLazySections) {
    const uint64_t blocks = NumBlocks(h.sections[lazy].size);
    if (internal::Crc32c(block_crcs, blocks * 4) != h.sections[lazy].checksum) {
      return DataLoss(path + ": snapshot " + kSectionNames[lazy] +
                      " section's block checksums do not match it");
    }
    if (!options.verify_refinement_data) {
      lazy_checks[lazy] = std::make_shared<const internal::LazyChecksums>(
          section(lazy), h.sections[lazy].size, block_crcs, kSectionNames[lazy]);
    }
    block_crcs += blocks;
  }
  auto data = std::make_unique<internal::IndexData>();
  if (stored_basis) {
    const auto* rows = reinterpret_cast<const double*>(section(kBasisRows));
    auto basis = Basis::FromRows(static_cast<int>(h.dim), static_cast<int>(h.head_dim),
                                 std::vector<double>(rows, rows + h.sections[kBasisRows].size / 8));
    if (!basis.ok()) return basis.status().WithContext(path + ": snapshot");
    data->basis = std::make_shared<const Basis>(std::move(basis).value());
  } else {
    data->basis = std::make_shared<const Basis>(Basis::Identity(static_cast<int>(h.dim)));
  }
  data->dim = static_cast<int>(h.dim);
  data->head_dim = static_cast<int>(h.head_dim);
  data->n = h.count;
  data->ids = reinterpret_cast<const int64_t*>(section(kIds));
  data->scales = reinterpret_cast<const float*>(section(kScales));
  data->err1 = reinterpret_cast<const float*>(section(kErr1));
  data->err2 = reinterpret_cast<const float*>(section(kErr2));
  data->row_crcs = reinterpret_cast<const uint32_t*>(section(kRowCrcs));
  data->codes_hi = section(kCodesHi);
  data->codes_lo = section(kCodesLo);
  data->floats = reinterpret_cast<const float*>(section(kFloats));
  data->active.assign(section(kActive), section(kActive) + h.count);
  data->lo_check = lazy_checks[kCodesLo];
  data->err2_check = lazy_checks[kErr2];
  data->max_err1 = h.max_err1;
  data->max_err2 = h.max_err2;
  data->keepalive = mapping;
  for (uint64_t r = 1; r < h.count; ++r) {
    if (data->ids[r] <= data->ids[r - 1]) return DataLoss(path + ": snapshot ids out of order");
  }
  OpenedSnapshot out;
  out.info.model_id.assign(h.model_id, strnlen(h.model_id, kModelIdSize));
  out.info.gallery_id.assign(h.gallery_id, strnlen(h.gallery_id, kGalleryIdSize));
  out.info.model_version = h.model_version;
  out.info.change_counter = h.change_counter;
  out.info.count = h.count;
  out.info.dim = static_cast<int>(h.dim);
  FT_ASSIGN_OR_RETURN(out.index, FlatIndex::FromData(std::move(data), options.index));
  return out;
}

}  // namespace facetrail::search
