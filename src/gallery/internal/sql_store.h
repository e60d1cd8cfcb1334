// The GalleryStore on a Db (common/db.h): one implementation for SQLite and PostgreSQL, whose SQL
// is written once for both engines (docs/DATABASE.md, "Portable SQL"). Internal to gallery/:
// callers use GalleryStore::Open / OpenOn.
#pragma once

#include <memory>
#include <string>

#include "common/db.h"
#include "gallery/gallery_store.h"

namespace facetrail::gallery::internal {

// Opens the database `uri` names (a SQLite path or a postgresql:// URI, already resolved by
// common/db_uri.h) and brings the gallery schema up to date.
Expected<std::unique_ptr<GalleryStore>> OpenSqlStore(const std::string& uri,
                                                     const StoreOptions& options);
// The same on a connection the caller holds. requires: db outlives the store.
Expected<std::unique_ptr<GalleryStore>> OpenSqlStoreOn(Db& db, const StoreOptions& options);

}  // namespace facetrail::gallery::internal
