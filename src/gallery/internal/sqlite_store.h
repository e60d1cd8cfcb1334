// The SQLite GalleryStore. Internal to gallery/: callers use GalleryStore::Open.
#pragma once

#include <memory>
#include <string>

#include "gallery/gallery_store.h"

namespace facetrail::gallery::internal {

Expected<std::unique_ptr<GalleryStore>> OpenSqliteStore(const std::string& path,
                                                        const StoreOptions& options);

}  // namespace facetrail::gallery::internal
