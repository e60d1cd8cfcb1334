// The gallery's SQLite schema, as migrations for SqliteDb::Migrate("gallery", …).
// Never edit a released migration: add the next one. docs/GALLERY.md describes the result.
#pragma once

#include <vector>

#include "common/sqlite.h"

namespace facetrail::gallery::internal {

inline constexpr const char* kSchemaComponent = "gallery";
const std::vector<SqliteMigration>& GalleryMigrations();

}  // namespace facetrail::gallery::internal
