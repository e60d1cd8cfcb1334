// Deleting a gallery's search snapshots (service/internal/snapshots.h).
#include "service/internal/snapshots.h"

#include <vector>

#include "gallery/gallery_index.h"

namespace facetrail::service::internal {

Status RemoveGallerySnapshots(Context& ctx, const gallery::StoreOptions& options,
                              const std::optional<gallery::ModelRef>& model) {
  // This machine's folder, and beside a SQLite file (the same place when no folder is named).
  std::vector<gallery::StoreOptions> places{options};
  if (!options.snapshot_dir.empty()) places.push_back({options.create_if_missing, ""});
  for (const gallery::StoreOptions& place : places) {
    FT_ASSIGN_OR_RETURN(std::unique_ptr<gallery::GalleryStore> store,
                        gallery::GalleryStore::OpenOn(ctx.db(), place));
    FT_RETURN_IF_ERROR(model ? gallery::RemoveSnapshot(*store, *model)
                             : gallery::RemoveSnapshots(*store));
  }
  return Status::Ok();
}

}  // namespace facetrail::service::internal
