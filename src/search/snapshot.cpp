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

#include "search/internal/crc32c.h"
#include "search/internal/index_data.h"
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

enum Section { kIds, kActive, kScales, kRowCrcs, kCodes, kFloats, kNumSections };
constexpr const char* kSectionNames[kNumSections] = {"ids",           "active", "scales",
                                                     "row checksums", "codes",  "floats"};

struct SectionEntry {
  uint64_t offset;
  uint64_t size;
  uint32_t checksum;
  uint32_t reserved;
};

// Little-endian on disk; x86-64 only, like the kernels.
struct Header {
  uint8_t magic[8];
  uint32_t format_version;
  uint32_t dim;
  uint64_t count;
  int64_t change_counter;
  int32_t model_version;
  float max_error;
  uint32_t flags;
  uint32_t reserved;
  char model_id[kModelIdSize];
  char gallery_id[kGalleryIdSize];
  SectionEntry sections[kNumSections];
};
static_assert(sizeof(Header) == 384);
constexpr size_t kHeaderCrcOffset = kHeaderSize - 4;

size_t AlignUp(size_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

uint64_t SectionBytes(Section s, uint64_t count) {
  switch (s) {
    case kIds: return count * 8;
    case kActive: return count;
    case kScales:  // a float a row, 4 bytes like a CRC
    case kRowCrcs: return count * 4;
    case kCodes: return count * kDim;
    case kFloats: return count * kDim * 4;
    default: return 0;
  }
}

// Fills offsets and sizes; returns the file size.
uint64_t Layout(uint64_t count, SectionEntry* sections) {
  uint64_t off = kHeaderSize;
  for (int s = 0; s < kNumSections; ++s) {
    sections[s].offset = off;
    sections[s].size = SectionBytes(static_cast<Section>(s), count);
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

// ---- SnapshotWriter ----

Expected<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(const std::string& path,
                                                                 const SnapshotInfo& info) {
  if (info.model_id.size() >= kModelIdSize || info.gallery_id.size() >= kGalleryIdSize) {
    return InvalidArgument(path + ": model id or gallery id too long for the snapshot header");
  }
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter());
  w->path_ = path;
  static std::atomic<uint64_t> next_tmp{0};
  w->tmp_path_ = path + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(next_tmp++);
  w->info_ = info;
  SectionEntry sections[kNumSections];
  w->map_size_ = Layout(info.count, sections);
  w->fd_ = open(w->tmp_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (w->fd_ < 0) return IoError(Errno(w->tmp_path_, "cannot create snapshot"));
  if (ftruncate(w->fd_, static_cast<off_t>(w->map_size_)) != 0) {
    return IoError(Errno(w->tmp_path_, "cannot size snapshot"));
  }
  void* m = mmap(nullptr, w->map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd_, 0);
  if (m == MAP_FAILED) return IoError(Errno(w->tmp_path_, "cannot map snapshot"));
  w->map_ = static_cast<uint8_t*>(m);
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  std::memcpy(h.sections, sections, sizeof sections);
  std::memcpy(w->map_, &h, sizeof h);  // offsets now, the rest at Finish()
  return w;
}

SnapshotWriter::~SnapshotWriter() {
  if (map_) munmap(map_, map_size_);
  if (fd_ >= 0) close(fd_);
  if (!finished_) unlink(tmp_path_.c_str());
}

Status SnapshotWriter::Append(int64_t id, bool active, std::span<const float> templ) {
  if (failed_) return FailedPrecondition(path_ + ": snapshot writer failed earlier");
  if (rows_ >= info_.count) {
    return FailedPrecondition(path_ + ": more rows than the " + std::to_string(info_.count) +
                              " announced");
  }
  Status s = ValidateTemplate(templ);
  Header h;
  std::memcpy(&h, map_, sizeof h);
  if (s.ok() && rows_ > 0) {
    int64_t prev;
    std::memcpy(&prev, map_ + h.sections[kIds].offset + (rows_ - 1) * 8, 8);
    if (id <= prev) s = InvalidArgument("ids must be strictly increasing");
  }
  if (!s.ok()) {
    failed_ = true;
    return s.WithContext(path_ + ": template " + std::to_string(id));
  }
  const uint64_t r = rows_++;
  std::memcpy(map_ + h.sections[kIds].offset + r * 8, &id, 8);
  map_[h.sections[kActive].offset + r] = active ? 1 : 0;
  float scale = 0;
  float err =
      internal::QuantizeTemplate(templ.data(), map_ + h.sections[kCodes].offset + r * kDim, &scale);
  max_error_ = std::max(max_error_, err);
  std::memcpy(map_ + h.sections[kScales].offset + r * 4, &scale, 4);
  std::memcpy(map_ + h.sections[kFloats].offset + r * kDim * 4, templ.data(), kDim * sizeof(float));
  uint32_t crc = internal::Crc32c(templ.data(), kDim * sizeof(float));
  std::memcpy(map_ + h.sections[kRowCrcs].offset + r * 4, &crc, 4);
  return Status::Ok();
}

Status SnapshotWriter::Finish() {
  if (failed_ || finished_) return FailedPrecondition(path_ + ": snapshot writer not usable");
  if (rows_ != info_.count) {
    return FailedPrecondition(path_ + ": " + std::to_string(rows_) + " rows appended, " +
                              std::to_string(info_.count) + " announced");
  }
  Header h;
  std::memcpy(&h, map_, sizeof h);
  h.format_version = kSnapshotFormatVersion;
  h.dim = kDim;
  h.count = info_.count;
  h.change_counter = info_.change_counter;
  h.model_version = info_.model_version;
  h.max_error = max_error_;
  std::memset(h.model_id, 0, sizeof h.model_id);
  std::memset(h.gallery_id, 0, sizeof h.gallery_id);
  std::memcpy(h.model_id, info_.model_id.data(), info_.model_id.size());
  std::memcpy(h.gallery_id, info_.gallery_id.data(), info_.gallery_id.size());
  for (SectionEntry& section : h.sections) {
    section.checksum = internal::SectionChecksum(map_ + section.offset, section.size, Threads(0));
  }
  std::memcpy(map_, &h, sizeof h);
  uint32_t header_crc = internal::Crc32c(map_, kHeaderCrcOffset);
  std::memcpy(map_ + kHeaderCrcOffset, &header_crc, 4);
  if (msync(map_, map_size_, MS_SYNC) != 0) return IoError(Errno(tmp_path_, "msync"));
  if (fsync(fd_) != 0) return IoError(Errno(tmp_path_, "fsync"));
  if (rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return IoError(Errno(path_, "cannot publish snapshot (rename)"));
  }
  finished_ = true;
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
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    return DataLoss(path + ": not a facetrail snapshot (bad magic number)");
  }
  uint32_t header_crc;
  std::memcpy(&header_crc, base + kHeaderCrcOffset, 4);
  if (internal::Crc32c(base, kHeaderCrcOffset) != header_crc) {
    return DataLoss(path + ": snapshot header checksum mismatch");
  }
  if (h.format_version != kSnapshotFormatVersion) {
    return DataLoss(path + ": snapshot format version " + std::to_string(h.format_version) +
                    ", this program reads version " + std::to_string(kSnapshotFormatVersion));
  }
  if (h.dim != static_cast<uint32_t>(kDim)) {
    return DataLoss(path + ": snapshot dimension " + std::to_string(h.dim));
  }
  if (h.count > (uint64_t{1} << 40)) return DataLoss(path + ": implausible template count");
  SectionEntry expected[kNumSections];
  const uint64_t expected_size = Layout(h.count, expected);
  for (int s = 0; s < kNumSections; ++s) {
    if (h.sections[s].offset != expected[s].offset || h.sections[s].size != expected[s].size) {
      return DataLoss(path + ": snapshot " + kSectionNames[s] + " section misplaced");
    }
  }
  if (file_size != expected_size) {
    return DataLoss(path + ": truncated or padded snapshot (" + std::to_string(file_size) +
                    " bytes, expected " + std::to_string(expected_size) + ")");
  }
  // Everything a search reads at every query is checked now; the float32 rows by their own CRC.
  const uint8_t* hot_begin = base + h.sections[kIds].offset;
  const uint8_t* hot_end = base + h.sections[kCodes].offset + h.sections[kCodes].size;
  (void)madvise(const_cast<uint8_t*>(hot_begin), static_cast<size_t>(hot_end - hot_begin),
                MADV_WILLNEED);
  (void)madvise(const_cast<uint8_t*>(base + h.sections[kFloats].offset),
                AlignUp(h.sections[kFloats].size), MADV_RANDOM);
  const int threads = Threads(options.num_threads);
  for (int s = 0; s < kNumSections; ++s) {
    if (s == kFloats && !options.verify_floats) continue;
    if (internal::SectionChecksum(base + h.sections[s].offset, h.sections[s].size, threads) !=
        h.sections[s].checksum) {
      return DataLoss(path + ": snapshot " + kSectionNames[s] + " section checksum mismatch");
    }
  }
  auto data = std::make_unique<internal::IndexData>();
  data->n = h.count;
  data->ids = reinterpret_cast<const int64_t*>(base + h.sections[kIds].offset);
  data->scales = reinterpret_cast<const float*>(base + h.sections[kScales].offset);
  data->row_crcs = reinterpret_cast<const uint32_t*>(base + h.sections[kRowCrcs].offset);
  data->codes = base + h.sections[kCodes].offset;
  data->floats = reinterpret_cast<const float*>(base + h.sections[kFloats].offset);
  const uint8_t* active = base + h.sections[kActive].offset;
  data->active.assign(active, active + h.count);
  data->max_error = h.max_error;
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
  FT_ASSIGN_OR_RETURN(out.index, FlatIndex::FromData(std::move(data), options.index));
  return out;
}

}  // namespace facetrail::search
