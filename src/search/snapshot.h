// The search snapshot: a memory-mappable file holding a FlatIndex's arrays for templates of one
// dimension, so a 10-million-template gallery opens in seconds instead of re-reading and
// re-quantising the database. Format: docs/SNAPSHOT.md. A snapshot is derived data, never the
// source of truth: whoever owns the database (gallery/gallery_index.h) rebuilds it whenever it
// is missing, damaged, stale or of another format version.
//
// Files (the snapshot and its temporary) are created readable and writable by the owner only
// (0600): they hold every template of the gallery.
//
// THREAD SAFETY
//   A SnapshotWriter is used by one thread. OpenSnapshot is reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "search/basis.h"
#include "search/flat_index.h"

namespace facetrail::search {

// Version 2: templates of any supported dimension, a stored basis, int8 codes of the head
// coordinates split into two nibble planes with per-row error norms (docs/SNAPSHOT.md).
// Version 1 files (128-d, one int8 pass) are refused with kDataLoss and a "rebuild" message;
// their owner rebuilds them.
inline constexpr uint32_t kSnapshotFormatVersion = 2;

// What a snapshot was derived from; stored in its header and checked by the owner.
struct SnapshotInfo {
  std::string model_id;        // TemplateModel::id of every template (at most 127 bytes)
  int32_t model_version = 0;   // TemplateModel::version
  std::string gallery_id;      // the database's identity (at most 63 bytes)
  int64_t change_counter = 0;  // the database's change counter when the snapshot was built
  uint64_t count = 0;          // number of templates
  int dim = 0;                 // floats per template; must pass ValidateDim()
};

struct SnapshotWriterOptions {
  // The basis of the passes (search/basis.h). Unset: the writer fits one (Basis::Fit with `fit`)
  // to the first fit_sample_rows rows when the snapshot holds at least min_rows_to_fit rows, and
  // uses the identity otherwise (a small gallery scans fast either way, and a fit costs ~1 s at
  // 512-d). Any basis keeps searches exact; a sample that represents the gallery keeps them fast.
  std::optional<Basis> basis;
  size_t fit_sample_rows = 8192;
  uint64_t min_rows_to_fit = 50000;
  BasisOptions fit;
};

// Writes a snapshot row by row (streaming: nothing but the current row, or the sample a basis is
// fitted to, is held in memory) into a temporary file beside `path`, then publishes it
// atomically (fsync + rename): a crash leaves the old snapshot or the new one, never a mix.
// Section checksums are computed as the rows arrive, so Finish() does not read the file back.
class SnapshotWriter {
 public:
  // Reserves room for info.count rows of info.dim floats. kInvalidArgument for an unsupported
  // dimension, a basis of another dimension or over-long ids; kIoError if the file cannot be
  // created, sized or mapped.
  static Expected<std::unique_ptr<SnapshotWriter>> Create(
      const std::string& path, const SnapshotInfo& info, const SnapshotWriterOptions& options = {});
  ~SnapshotWriter();  // removes the temporary file unless Finish() succeeded
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends the next row. requires: ids strictly increasing; templ passes
  // ValidateTemplate(templ, info.dim). kInvalidArgument otherwise (the writer is then unusable),
  // kFailedPrecondition when full.
  Status Append(int64_t id, bool active, std::span<const float> templ);
  // requires: exactly info.count rows appended. Writes the header, syncs, renames.
  Status Finish();

  // The basis rows are encoded in: the given one, the identity, or the fitted one once the
  // first fit_sample_rows rows are in (null until then).
  const Basis* basis() const { return basis_ ? &*basis_ : nullptr; }

 private:
  struct Section;
  SnapshotWriter() = default;
  // Lays out the sections that depend on the basis, then encodes the rows held so far.
  Status UseBasis(Basis basis);
  // Projects, quantises and writes the rows held in pending_.
  Status EncodePending();
  std::string path_;
  std::string tmp_path_;
  SnapshotInfo info_;
  SnapshotWriterOptions options_;
  std::optional<Basis> basis_;
  uint64_t fit_rows_ = 0;       // rows to fit a basis to; 0 when none is due
  std::vector<float> pending_;  // rows appended but not yet encoded (the fit sample, a batch)
  int fd_ = -1;
  uint64_t file_size_ = 0;
  uint64_t rows_ = 0;
  int64_t last_id_ = 0;
  float max_err1_ = 0;
  float max_err2_ = 0;
  bool failed_ = false;
  bool finished_ = false;
  std::unique_ptr<Section[]> sections_;
};

struct SnapshotOpenOptions {
  FlatIndexOptions index;
  // Also checksum the float32 section now (reads the whole file). Otherwise each float32 row is
  // checked by its own CRC when a search re-scores it, and a bad row fails that search.
  bool verify_floats = false;
  // Also checksum the refinement data (low-nibble plane, int8 error norms) now. Otherwise each
  // 1 MiB block of it is checked when a search first refines a row there (a realistic gallery
  // refines a few thousand rows a search), and a bad block fails that search.
  bool verify_refinement_data = false;
  int num_threads = 0;  // for checksum verification; 0 = hardware concurrency
};

struct OpenedSnapshot {
  SnapshotInfo info;
  std::unique_ptr<FlatIndex> index;
};

// Maps and checks a snapshot: magic number, format version, header checksum, dimension, basis,
// exact file size (a truncated file is refused), section checksums of everything a search reads
// at every query (the float32 rows and the refinement data are checked as searches read them,
// see SnapshotOpenOptions). kNotFound if absent; kDataLoss naming the failed check otherwise
// ("bad magic number", "truncated: 1000 bytes, expected 9000", "codes (high nibbles) section
// checksum mismatch", "format version 1 … rebuild").
Expected<OpenedSnapshot> OpenSnapshot(const std::string& path,
                                      const SnapshotOpenOptions& options = {});

}  // namespace facetrail::search
