#include "gallery/gallery_index.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "common/sha256.h"
#include "search/snapshot.h"

namespace facetrail::gallery {
namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string DefaultSnapshotPath(const GalleryStore& store, const ModelRef& model) {
  const std::string prefix = store.snapshot_prefix();
  if (prefix.empty()) return {};
  const std::string tag = Sha256Hex(model.id + "\n" + std::to_string(model.version)).substr(0, 12);
  return prefix + "." + tag + ".snapshot";
}

}  // namespace

GalleryIndex::GalleryIndex(GalleryStore& store, ModelRef model, GalleryIndexOptions options)
    : store_(store), model_(std::move(model)), options_(std::move(options)) {
  snapshot_path_ =
      options_.snapshot_path.empty() ? DefaultSnapshotPath(store_, model_) : options_.snapshot_path;
}

Expected<std::unique_ptr<GalleryIndex>> GalleryIndex::Open(GalleryStore& store,
                                                           const ModelRef& model,
                                                           const GalleryIndexOptions& options) {
  std::unique_ptr<GalleryIndex> g(new GalleryIndex(store, model, options));
  std::unique_lock lock(g->mu_);
  FT_RETURN_IF_ERROR(g->LoadOrRebuild());
  FT_RETURN_IF_ERROR(g->RefreshLocked());
  lock.unlock();
  return g;
}

Status GalleryIndex::LoadOrRebuild() {
  const auto start = std::chrono::steady_clock::now();
  if (snapshot_path_.empty()) return RequiredRebuild("in-memory gallery");
  search::SnapshotOpenOptions o;
  o.index = options_.index;
  o.verify_floats = options_.verify_floats;
  o.verify_refinement_data = options_.verify_floats;
  auto snap = search::OpenSnapshot(snapshot_path_, o);
  if (!snap.ok()) {
    if (snap.status().code() == StatusCode::kNotFound) return RequiredRebuild("snapshot missing");
    if (snap.status().code() == StatusCode::kDataLoss) {
      return RequiredRebuild("snapshot refused: " + snap.status().message());
    }
    return snap.status();
  }
  const search::SnapshotInfo& info = snap->info;
  if (info.gallery_id != store_.gallery_id()) return RequiredRebuild("snapshot of another gallery");
  if (info.model_id != model_.id || info.model_version != model_.version) {
    return RequiredRebuild("snapshot of another model");
  }
  if (info.dim != model_.dim) return RequiredRebuild("snapshot of another template dimension");
  index_ = std::move(snap->index);
  ClearDelta();
  counter_ = info.change_counter;
  last_sync_ = {IndexSync::Action::kOpened, "", 0, 0, Since(start), ""};
  return Status::Ok();
}

Status GalleryIndex::Rebuild(const std::string& reason) {
  const auto start = std::chrono::steady_clock::now();
  int64_t counter = 0;
  std::unique_ptr<search::FlatIndex> index;
  if (snapshot_path_.empty()) {
    std::vector<int64_t> ids;
    std::vector<float> templ;
    std::vector<uint8_t> active;
    FT_RETURN_IF_ERROR(store_.ScanTemplates(
        model_,
        [&](int64_t count, int64_t c) {
          counter = c;
          ids.reserve(static_cast<size_t>(count));
          return Status::Ok();
        },
        [&](int64_t id, bool a, std::span<const float> t) {
          ids.push_back(id);
          active.push_back(a ? 1 : 0);
          templ.insert(templ.end(), t.begin(), t.end());
          return Status::Ok();
        }));
    FT_ASSIGN_OR_RETURN(index,
                        search::FlatIndex::Build(model_.dim, ids, templ, active, options_.index));
  } else {
    std::unique_ptr<search::SnapshotWriter> writer;
    FT_RETURN_IF_ERROR(store_.ScanTemplates(
        model_,
        [&](int64_t count, int64_t c) -> Status {
          counter = c;
          search::SnapshotInfo info{
              model_.id, model_.version, store_.gallery_id(), c, static_cast<uint64_t>(count),
              model_.dim};
          FT_ASSIGN_OR_RETURN(writer, search::SnapshotWriter::Create(snapshot_path_, info));
          return Status::Ok();
        },
        [&](int64_t id, bool a, std::span<const float> t) { return writer->Append(id, a, t); }));
    FT_RETURN_IF_ERROR(writer->Finish());
    search::SnapshotOpenOptions o;
    o.index = options_.index;
    FT_ASSIGN_OR_RETURN(auto snap, search::OpenSnapshot(snapshot_path_, o));
    index = std::move(snap.index);
  }
  index_ = std::move(index);
  ClearDelta();
  counter_ = counter;
  last_sync_ = {IndexSync::Action::kRebuilt, reason, 0, 0, Since(start), ""};
  return Status::Ok();
}

Status GalleryIndex::Refresh() {
  std::unique_lock lock(mu_);
  return RefreshLocked();
}

Status GalleryIndex::RefreshLocked() {
  // A rebuild reflects the database as of its read; patch what changed meanwhile.
  for (int pass = 0; pass < 3; ++pass) {
    const int64_t before = counter_;
    FT_RETURN_IF_ERROR(SyncOnce());
    if (counter_ == before || last_sync_.action != IndexSync::Action::kRebuilt) break;
  }
  return Status::Ok();
}

Expected<bool> GalleryIndex::RebuildIfPossible(const std::string& reason) {
  Status s = Rebuild(reason);
  if (s.ok()) {
    pending_reason_.clear();
    return true;
  }
  const bool cannot_write =
      s.code() == StatusCode::kIoError || s.code() == StatusCode::kResourceExhausted;
  if (!cannot_write || index_ == nullptr) return s;
  // The previous snapshot and delta are intact (Rebuild replaces them only on success).
  pending_reason_ = reason;
  pending_error_ = s.message();
  retry_at_ = std::chrono::steady_clock::now() +
              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                  std::chrono::duration<double>(options_.rebuild_retry_seconds));
  return false;
}

Status GalleryIndex::RequiredRebuild(const std::string& reason) {
  Status s = Rebuild(reason);
  if (s.ok() || (s.code() != StatusCode::kIoError && s.code() != StatusCode::kResourceExhausted)) {
    if (s.ok()) pending_reason_.clear();
    return s;
  }
  return Unavailable("the search index cannot be rebuilt (" + reason + "): " + s.message());
}

Status GalleryIndex::SyncOnce() {
  const auto start = std::chrono::steady_clock::now();
  FT_ASSIGN_OR_RETURN(int64_t now, store_.ChangeCounter());
  if (now < counter_) return RequiredRebuild("the database is older than the snapshot");
  if (now == counter_) {
    if (pending_reason_.empty() || start < retry_at_) return Status::Ok();
    FT_ASSIGN_OR_RETURN(bool rebuilt, RebuildIfPossible(pending_reason_));
    if (!rebuilt) last_sync_.deferred = DeferredLocked();
    return Status::Ok();
  }
  FT_ASSIGN_OR_RETURN(auto changes, store_.ChangesSince(model_, counter_));
  std::vector<int64_t> added;
  bool expunged = false;
  for (const TemplateChange& c : changes) {
    if (c.kind == TemplateChange::Kind::kAdded) added.push_back(c.template_id);
    expunged |= c.kind == TemplateChange::Kind::kDeleted;
  }
  // Why a rebuild is due though patching would answer exactly: too many changes to patch; an
  // expunged template must not linger in the file (rewrite it without the row); a full delta.
  std::string due = pending_reason_;
  if (static_cast<int64_t>(changes.size()) > options_.max_patch_changes) {
    due = std::to_string(changes.size()) + " changes since the snapshot";
  } else if (expunged && !snapshot_path_.empty()) {
    due = "templates expunged";
  } else if (!added.empty() && static_cast<int64_t>(delta_rows_.size() + added.size()) >
                                   options_.max_delta_templates) {
    due = std::to_string(delta_rows_.size() + added.size()) + " templates added since the snapshot";
  }
  if (!due.empty() && (pending_reason_.empty() || start >= retry_at_)) {
    FT_ASSIGN_OR_RETURN(bool rebuilt, RebuildIfPossible(due));
    if (rebuilt) return Status::Ok();
  }
  // Patch in memory (also when a due rebuild was deferred: then beyond the delta's limit).
  if (!added.empty()) {
    FT_ASSIGN_OR_RETURN(bool fresh, AddToDelta(added));
    if (!fresh) return RequiredRebuild("a template id was reused");
  }
  // Flag changes in order (the last change of a template wins). An added template was read
  // with its current flag; the changes after its addition bring it to the same state. An
  // expunged template is deactivated (its rows are gone from the database).
  for (const TemplateChange& c : changes) {
    if (c.kind == TemplateChange::Kind::kAdded) continue;
    if (!ApplyFlagChange(c)) {
      return RequiredRebuild("change " + std::to_string(c.seq) + " names an unknown template");
    }
  }
  counter_ = now;
  last_sync_ = {
      IndexSync::Action::kPatched,        "",           static_cast<int64_t>(changes.size()),
      static_cast<int64_t>(added.size()), Since(start), DeferredLocked()};
  return Status::Ok();
}

std::string GalleryIndex::DeferredLocked() const {
  if (pending_reason_.empty()) return {};
  return pending_reason_ + "; the rebuild failed and is retried later (" + pending_error_ + ")";
}

std::string GalleryIndex::deferred_rebuild() const {
  std::shared_lock lock(mu_);
  return DeferredLocked();
}

Expected<bool> GalleryIndex::AddToDelta(std::span<const int64_t> ids) {
  bool fresh = true;
  FT_RETURN_IF_ERROR(
      store_.ReadTemplates(model_, ids, [&](int64_t id, bool active, std::span<const float> t) {
        if (index_->RowOf(id) >= 0 || delta_rows_.contains(id)) fresh = false;
        delta_rows_[id] = {active, std::vector<float>(t.begin(), t.end())};
        return Status::Ok();
      }));
  if (!fresh) return false;
  std::vector<int64_t> all_ids;
  std::vector<float> templ;
  std::vector<uint8_t> active;
  all_ids.reserve(delta_rows_.size());
  templ.reserve(delta_rows_.size() * model_.dim);
  for (const auto& [id, row] : delta_rows_) {  // ascending ids, as Build requires
    all_ids.push_back(id);
    active.push_back(row.active ? 1 : 0);
    templ.insert(templ.end(), row.templ.begin(), row.templ.end());
  }
  delta_.reset();
  if (!all_ids.empty()) {
    FT_ASSIGN_OR_RETURN(
        delta_, search::FlatIndex::Build(model_.dim, all_ids, templ, active, options_.index));
  }
  return true;
}

bool GalleryIndex::ApplyFlagChange(const TemplateChange& c) {
  const bool active = c.kind == TemplateChange::Kind::kActivated;
  if (index_->SetActive(c.template_id, active).ok()) return true;
  if (auto it = delta_rows_.find(c.template_id); it != delta_rows_.end()) {
    it->second.active = active;
    return delta_ != nullptr && delta_->SetActive(c.template_id, active).ok();
  }
  // Neither holds it: added and expunged before this index read it. Nothing to hide.
  return c.kind == TemplateChange::Kind::kDeleted;
}

void GalleryIndex::ClearDelta() {
  delta_rows_.clear();
  delta_.reset();
}

Expected<std::vector<Candidate>> GalleryIndex::Search(std::span<const float> probe,
                                                      const search::SearchOptions& options) {
  for (int attempt = 0;; ++attempt) {
    {
      std::unique_lock lock(mu_);
      FT_RETURN_IF_ERROR(RefreshLocked());
    }
    std::shared_lock lock(mu_);
    auto hits = index_->Search(probe, options);
    if (hits.ok() && delta_ != nullptr) {
      // Both lists are exact over disjoint templates: their merge is the exact list.
      auto more = delta_->Search(probe, options);
      if (!more.ok()) return more.status();
      hits->insert(hits->end(), more->begin(), more->end());
      std::sort(hits->begin(), hits->end(), [](const search::Hit& a, const search::Hit& b) {
        return a.score != b.score ? a.score > b.score : a.id < b.id;
      });
      if (hits->size() > static_cast<size_t>(std::max(options.k, 0))) {
        hits->resize(static_cast<size_t>(std::max(options.k, 0)));
      }
    }
    if (!hits.ok()) {
      if (hits.status().code() != StatusCode::kDataLoss || attempt > 0) return hits.status();
      lock.unlock();
      std::unique_lock relock(mu_);
      FT_RETURN_IF_ERROR(RequiredRebuild("snapshot damaged: " + hits.status().message()));
      continue;
    }
    std::vector<int64_t> ids;
    for (const search::Hit& h : *hits) ids.push_back(h.id);
    auto owners = store_.DescribeTemplates(ids);
    // A hit that vanished or was sealed between the refresh and now: search again (once).
    bool changed = !owners.ok();
    if (owners.ok()) {
      for (const TemplateOwner& o : *owners) changed |= o.status != RecordStatus::kActive;
    }
    if (changed) {
      if (attempt > 0) {
        if (!owners.ok()) return owners.status();
        return Unavailable("the gallery changed during the search; try again");
      }
      continue;
    }
    std::vector<Candidate> out;
    for (size_t i = 0; i < hits->size(); ++i) {
      out.push_back({static_cast<int>(i + 1), (*hits)[i].score, std::move((*owners)[i])});
    }
    return out;
  }
}

Status RemoveSnapshots(const GalleryStore& store) {
  const std::string snapshot_prefix = store.snapshot_prefix();
  if (snapshot_prefix.empty()) return Status::Ok();
  const std::filesystem::path prefix_path(snapshot_prefix);
  const std::string prefix = prefix_path.filename().string() + ".";
  std::error_code ec;
  const auto dir =
      prefix_path.has_parent_path() ? prefix_path.parent_path() : std::filesystem::path(".");
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".snapshot")) {
      std::filesystem::remove(e.path(), ec);
      if (ec) return IoError(e.path().string() + ": cannot remove snapshot: " + ec.message());
    }
  }
  if (ec) return IoError(dir.string() + ": " + ec.message());
  return Status::Ok();
}

Status RemoveSnapshot(const GalleryStore& store, const ModelRef& model) {
  const std::string path = DefaultSnapshotPath(store, model);
  if (path.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return IoError(path + ": cannot remove snapshot: " + ec.message());
  return Status::Ok();
}

size_t GalleryIndex::size() const {
  std::shared_lock lock(mu_);
  return index_->size() + delta_rows_.size();
}
size_t GalleryIndex::num_active() const {
  std::shared_lock lock(mu_);
  return index_->num_active() + (delta_ != nullptr ? delta_->num_active() : 0);
}
size_t GalleryIndex::delta_size() const {
  std::shared_lock lock(mu_);
  return delta_rows_.size();
}

}  // namespace facetrail::gallery
