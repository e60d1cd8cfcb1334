// The SQLite GalleryStore. Internal to gallery/: callers use GalleryStore::Open.
#pragma once

#include <memory>
#include <string>

#include "common/db.h"
#include "gallery/gallery_store.h"

namespace facetrail::gallery::internal {

Expected<std::unique_ptr<GalleryStore>> OpenSqliteStore(const std::string& path,
                                                        const StoreOptions& options);
// The same on a connection the caller holds. requires: db outlives the store.
Expected<std::unique_ptr<GalleryStore>> OpenSqliteStoreOn(Db& db);

}  // namespace facetrail::gallery::internal
