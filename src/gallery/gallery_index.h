// The searchable view of a gallery: a search::FlatIndex over one model's templates, loaded
// from the memory-mapped snapshot (beside a SQLite file, or in the process's snapshot folder:
// StoreOptions::snapshot_dir) and kept exactly in step with the database.
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

#include <chrono>
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
  // Default: "<store.snapshot_prefix()>.<model tag>.snapshot" (beside a SQLite file, or in the
  // store's snapshot folder); a store without a prefix builds in RAM instead.
  std::string snapshot_path;
  // More pending seal/unseal/expunge changes than this → rebuild instead of patching.
  int64_t max_patch_changes = 100000;
  // Templates added since the snapshot are held in memory (the model's dimension each) up to this
  // many; one more rebuilds the snapshot with them. 0: every enrollment rebuilds.
  int64_t max_delta_templates = 50000;
  // Check every checksum when opening, float32 rows and refinement data included (reads the
  // whole file; slower).
  bool verify_floats = false;
  // A due rebuild that could not write its snapshot (a full disk) is retried no sooner than
  // this after the failure; meanwhile the index keeps serving exactly from memory (see Refresh).
  double rebuild_retry_seconds = 60;
};

// What the last synchronisation did (for logs, tests and benchmarks).
struct IndexSync {
  enum class Action { kUpToDate, kOpened, kPatched, kRebuilt } action = Action::kUpToDate;
  std::string reason;  // why a rebuild happened ("snapshot missing", "…checksum mismatch")
  int64_t patched_changes = 0;  // kPatched: changes applied (templates added included)
  int64_t added_templates = 0;  // kPatched: of which templates added to the delta
  double seconds = 0;
  // Non-empty while a due rebuild is deferred because its snapshot could not be written: why it
  // was due and why it failed. Searches stay exact meanwhile (changes are patched in memory).
  std::string deferred;
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
  //
  // A rebuild that is due but not required (an expunge, a full delta, many changes) and cannot
  // write its snapshot (kIoError/kResourceExhausted: a full disk, a file size limit) does not
  // stop searches: the changes are patched into memory instead (an expunged template is
  // deactivated, new ones join the delta beyond its limit), the previous snapshot file stays as
  // it was, and the rebuild is retried after options.rebuild_retry_seconds. A rebuild that is
  // required (no usable snapshot, a reused template id) and fails is kUnavailable, naming why.
  Status Refresh();

  // The ranked candidates for `probe` (model().dim floats, unit norm) among active bookings:
  // refreshes first, searches exactly, then names each hit's booking. An empty list ("no
  // candidate above the threshold") is a normal answer. kDataLoss if the snapshot turned out
  // damaged (it is rebuilt and the search retried once before giving up).
  Expected<std::vector<Candidate>> Search(std::span<const float> probe,
                                          const search::SearchOptions& options);

  const ModelRef& model() const { return model_; }
  // Not synchronised with concurrent searches: for tests and single-threaded callers.
  const IndexSync& last_sync() const { return last_sync_; }
  // Thread-safe: IndexSync::deferred of the last synchronisation ("" when none is deferred).
  std::string deferred_rebuild() const;
  const std::string& snapshot_path() const { return snapshot_path_; }
  size_t size() const;        // snapshot and delta
  size_t num_active() const;  // snapshot and delta
  size_t delta_size() const;  // templates held in memory beside the snapshot

 private:
  GalleryIndex(GalleryStore& store, ModelRef model, GalleryIndexOptions options);
  Status RefreshLocked();
  Status SyncOnce();
  Status Rebuild(const std::string& reason);
  // Rebuild for a reason that patching could also serve: true when rebuilt, false when the
  // snapshot could not be written and the rebuild is deferred (pending_reason_ set).
  Expected<bool> RebuildIfPossible(const std::string& reason);
  // Rebuild that cannot be avoided: a failure to write is kUnavailable with its cause.
  Status RequiredRebuild(const std::string& reason);
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
  // A due rebuild that failed to write (guarded by mu_): why it is due ("" when none is
  // pending), why it failed, and when to try again.
  std::string pending_reason_;
  std::string pending_error_;
  std::chrono::steady_clock::time_point retry_at_;
  std::string DeferredLocked() const;
};

// Deletes every snapshot file of `store` (all models). Call after an expunge when no
// GalleryIndex of this process will rebuild them: a snapshot still holds the expunged
// templates' numbers until it is rewritten. Snapshots are derived data; the next open rebuilds.
Status RemoveSnapshots(const GalleryStore& store);
// Deletes the snapshot file of one model (after its templates were pruned). Missing is fine.
Status RemoveSnapshot(const GalleryStore& store, const ModelRef& model);

}  // namespace facetrail::gallery
