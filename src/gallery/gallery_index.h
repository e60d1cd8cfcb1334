// The searchable view of a gallery: a search::FlatIndex over one model's templates, loaded
// from the memory-mapped snapshot beside the database and kept exactly in step with it.
//
// WHAT THIS OBJECT REPRESENTS
//   Never stale: before every search it compares the database's change counter with the one the
//   index reflects. Seal and unseal are patched in memory at once (active flags). New templates
//   join an in-memory delta index searched beside the snapshot (exact: the two ranked lists
//   are merged), so an enrollment costs its own rows, not a rewrite of the snapshot; the snapshot
//   is rebuilt from the database when the delta outgrows max_delta_templates, or when a template
//   is expunged (an expunged template must not stay in the file). A missing, truncated, damaged or
//   foreign snapshot (other gallery id, model or format) is refused and rebuilt. The snapshot is
//   derived data: deleting it is always safe.
//
// THREAD SAFETY
//   Search() and Refresh() may be called from several threads (a shared_mutex orders searches
//   and patches). The store must outlive the index.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "gallery/gallery_store.h"
#include "search/flat_index.h"

namespace facetrail::gallery {

struct GalleryIndexOptions {
  search::FlatIndexOptions index;
  // Default: "<database path>.<model tag>.snapshot"; an in-memory store builds in RAM instead.
  std::string snapshot_path;
  // More pending seal/unseal/expunge changes than this → rebuild instead of patching.
  int64_t max_patch_changes = 100000;
  // Templates added since the snapshot are held in memory (the model's dimension each) up to this
  // many; one more rebuilds the snapshot with them. 0: every enrollment rebuilds.
  int64_t max_delta_templates = 50000;
  // Check every checksum when opening, float32 rows and refinement data included (reads the
  // whole file; slower).
  bool verify_floats = false;
};

// What the last synchronisation did (for logs, tests and benchmarks).
struct IndexSync {
  enum class Action { kUpToDate, kOpened, kPatched, kRebuilt } action = Action::kUpToDate;
  std::string reason;  // why a rebuild happened ("snapshot missing", "…checksum mismatch")
  int64_t patched_changes = 0;  // kPatched: changes applied (templates added included)
  int64_t added_templates = 0;  // kPatched: of which templates added to the delta
  double seconds = 0;
};

struct Candidate {
  int rank = 0;  // 1-based
  float score = 0;
  TemplateOwner owner;
};

class GalleryIndex {
 public:
  // Opens the snapshot for `model` (rebuilding it when needed) and patches it up to date.
  static Expected<std::unique_ptr<GalleryIndex>> Open(GalleryStore& store, const ModelRef& model,
                                                      const GalleryIndexOptions& options = {});

  // Brings the index to the store's current change counter.
  Status Refresh();

  // The ranked candidates for `probe` (model().dim floats, unit norm) among active bookings:
  // refreshes first, searches exactly, then names each hit's booking. An empty list ("no
  // candidate above the threshold") is a normal answer. kDataLoss if the snapshot turned out
  // damaged (it is rebuilt and the search retried once before giving up).
  Expected<std::vector<Candidate>> Search(std::span<const float> probe,
                                          const search::SearchOptions& options);

  const ModelRef& model() const { return model_; }
  const IndexSync& last_sync() const { return last_sync_; }
  const std::string& snapshot_path() const { return snapshot_path_; }
  size_t size() const;        // snapshot and delta
  size_t num_active() const;  // snapshot and delta
  size_t delta_size() const;  // templates held in memory beside the snapshot

 private:
  GalleryIndex(GalleryStore& store, ModelRef model, GalleryIndexOptions options);
  Status RefreshLocked();
  Status SyncOnce();
  Status Rebuild(const std::string& reason);
  Status LoadOrRebuild();
  // Reads `ids` (added since the index was built) into the delta; false when one of them is
  // already held (a reused id: the caller rebuilds).
  Expected<bool> AddToDelta(std::span<const int64_t> ids);
  // Applies one seal/unseal/expunge to whichever index holds the template; false when neither
  // holds a template the change makes searchable.
  bool ApplyFlagChange(const TemplateChange& change);
  void ClearDelta();

  GalleryStore& store_;
  const ModelRef model_;
  const GalleryIndexOptions options_;
  std::string snapshot_path_;  // empty: in-memory
  mutable std::shared_mutex mu_;
  std::unique_ptr<search::FlatIndex> index_;  // guarded by mu_
  // Templates added since index_ was built (guarded by mu_): their rows, and an index over them
  // (null when empty) rebuilt whenever rows are added.
  struct DeltaRow {
    bool active = true;
    std::vector<float> templ;
  };
  std::map<int64_t, DeltaRow> delta_rows_;
  std::unique_ptr<search::FlatIndex> delta_;
  int64_t counter_ = 0;  // guarded by mu_: the change counter index_ reflects
  IndexSync last_sync_;  // guarded by mu_
};

// Deletes every snapshot file of `store` (all models). Call after an expunge when no
// GalleryIndex of this process will rebuild them: a snapshot still holds the expunged
// templates' numbers until it is rewritten. Snapshots are derived data; the next open rebuilds.
Status RemoveSnapshots(const GalleryStore& store);
// Deletes the snapshot file of one model (after its templates were pruned). Missing is fine.
Status RemoveSnapshot(const GalleryStore& store, const ModelRef& model);

}  // namespace facetrail::gallery
