// TemplateCache file format (little-endian, as written by x86-64; docs/EVAL.md):
//   "FTEVCACHE" (9 bytes), u32 version (= 4), u64 number of records, then per record:
//   u32 length + image path bytes, u32 length + model id bytes, u64 file size, i64 mtime (ns),
//   u8 has_face, f32 eye distance (px), f32 sharpness, f32 noise sigma, f32 detail, f32
//   effective scale, f32 effective eye distance (px), f32 blockiness, u32 number of floats,
//   floats (the template), u32 number of floats, floats (the landmarks, x y per point).
//   Versions 1 (no quality figures), 2 (no landmarks) and 3 (no blur-aware figures) are ignored
//   like any unknown version: their records are recomputed, never read as version 4.
// Any inconsistency (bad magic, unknown version, truncation, absurd lengths) makes Open ignore
// the whole file: a cache is only an optimisation, and recomputing is always correct.
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "eval/evaluation.h"

namespace facetrail::eval {
namespace {

constexpr char kMagic[] = "FTEVCACHE";
constexpr size_t kMagicSize = sizeof(kMagic) - 1;
constexpr uint32_t kVersion = 4;
constexpr uint32_t kMaxString = 1 << 16;
constexpr uint32_t kMaxFloats = 1 << 16;

class Writer {
 public:
  template <typename T>
  void Put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void PutString(const std::string& s) {
    Put(static_cast<uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void PutRaw(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class Reader {
 public:
  explicit Reader(const std::vector<uint8_t>& b) : b_(b) {}
  template <typename T>
  bool Get(T& v) {
    if (b_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string& s) {
    uint32_t n = 0;
    if (!Get(n) || n > kMaxString || b_.size() - pos_ < n) return false;
    s.assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  bool GetRaw(void* out, size_t n) {
    if (b_.size() - pos_ < n) return false;
    std::memcpy(out, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == b_.size(); }

 private:
  const std::vector<uint8_t>& b_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<TemplateCache::Key> TemplateCache::MakeKey(const std::string& image_path,
                                                         const std::string& model_id) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const uintmax_t size = fs::file_size(image_path, ec);
  if (ec) return std::nullopt;
  const fs::file_time_type mtime = fs::last_write_time(image_path, ec);
  if (ec) return std::nullopt;
  Key k;
  k.image_path = image_path;
  k.model_id = model_id;
  k.size = size;
  k.mtime_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  return k;
}

void TemplateCache::Open(std::string* warning) {
  entries_.clear();
  if (!std::filesystem::exists(path_)) return;
  Expected<std::vector<uint8_t>> bytes = ReadFileBytes(path_);
  auto ignore = [&](const std::string& why) {
    entries_.clear();
    if (warning) *warning = path_ + ": " + why + "; ignoring the template cache (it is rebuilt)";
  };
  if (!bytes.ok()) return ignore(bytes.status().message());
  Reader r(*bytes);
  char magic[kMagicSize];
  uint32_t version = 0;
  uint64_t count = 0;
  if (!r.GetRaw(magic, kMagicSize) || std::memcmp(magic, kMagic, kMagicSize) != 0) {
    return ignore("bad magic number (not a facetrail template cache)");
  }
  if (!r.Get(version) || version != kVersion) {
    return ignore("unknown version " + std::to_string(version));
  }
  if (!r.Get(count)) return ignore("truncated header");
  for (uint64_t i = 0; i < count; ++i) {
    Key k;
    Entry e;
    uint8_t has_face = 0;
    uint32_t n = 0;
    if (!r.GetString(k.image_path) || !r.GetString(k.model_id) || !r.Get(k.size) ||
        !r.Get(k.mtime_ns) || !r.Get(has_face) || !r.Get(e.eye_distance_px) ||
        !r.Get(e.sharpness) || !r.Get(e.noise_sigma) || !r.Get(e.detail) ||
        !r.Get(e.effective_scale) || !r.Get(e.effective_eye_distance_px) || !r.Get(e.blockiness) ||
        !r.Get(n) || n > kMaxFloats) {
      return ignore("truncated or damaged record " + std::to_string(i));
    }
    e.has_face = has_face != 0;
    e.templ.resize(n);
    if (!r.GetRaw(e.templ.data(), n * sizeof(float)) || !r.Get(n) || n > kMaxFloats) {
      return ignore("truncated record " + std::to_string(i));
    }
    e.landmarks.resize(n);
    if (!r.GetRaw(e.landmarks.data(), n * sizeof(float))) {
      return ignore("truncated record " + std::to_string(i));
    }
    entries_[std::move(k)] = std::move(e);
  }
  if (!r.AtEnd()) return ignore("trailing bytes after the last record");
}

std::optional<TemplateCache::Entry> TemplateCache::Find(const std::string& image_path,
                                                        const std::string& model_id) const {
  const std::optional<Key> k = MakeKey(image_path, model_id);
  if (!k) return std::nullopt;
  const auto it = entries_.find(*k);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void TemplateCache::Put(const std::string& image_path, const std::string& model_id, Entry entry) {
  std::optional<Key> k = MakeKey(image_path, model_id);
  if (k) entries_[std::move(*k)] = std::move(entry);
}

Status TemplateCache::Save() const {
  Writer w;
  w.PutRaw(kMagic, kMagicSize);
  w.Put(kVersion);
  w.Put(static_cast<uint64_t>(entries_.size()));
  for (const auto& [k, e] : entries_) {
    w.PutString(k.image_path);
    w.PutString(k.model_id);
    w.Put(k.size);
    w.Put(k.mtime_ns);
    w.Put(static_cast<uint8_t>(e.has_face ? 1 : 0));
    w.Put(e.eye_distance_px);
    w.Put(e.sharpness);
    w.Put(e.noise_sigma);
    w.Put(e.detail);
    w.Put(e.effective_scale);
    w.Put(e.effective_eye_distance_px);
    w.Put(e.blockiness);
    w.Put(static_cast<uint32_t>(e.templ.size()));
    w.PutRaw(e.templ.data(), e.templ.size() * sizeof(float));
    w.Put(static_cast<uint32_t>(e.landmarks.size()));
    w.PutRaw(e.landmarks.data(), e.landmarks.size() * sizeof(float));
  }
  return WriteFileAtomically(path_, w.bytes()).WithContext("save template cache");
}

}  // namespace facetrail::eval
