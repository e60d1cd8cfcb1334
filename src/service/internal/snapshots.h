// Deleting a gallery's search snapshots after a change that takes templates out of the gallery
// for good (an expunge, pruning a model): a snapshot file holds the templates' numbers, so one
// left behind would keep a deleted template on disk.
#pragma once

#include <optional>

#include "gallery/gallery_store.h"
#include "service/context.h"

namespace facetrail::service::internal {

// Deletes the snapshot files of the gallery in ctx's database (of `model` only, or of every
// model) from every place this process knows of: the snapshot folder `options` names
// (StoreOptions::snapshot_dir, this machine's folder, e.g. `--snapshot-dir`) and beside a
// SQLite file (where a process run without a folder keeps them). Other machines' folders are
// their servers' business: each rewrites its own snapshot at its next refresh.
// kIoError naming the file that cannot be deleted.
Status RemoveGallerySnapshots(Context& ctx, const gallery::StoreOptions& options,
                              const std::optional<gallery::ModelRef>& model = std::nullopt);

}  // namespace facetrail::service::internal
