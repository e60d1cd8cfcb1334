// The gallery's schema, as migrations for Db::Migrate("gallery", …): SQLite DDL, which
// PostgreSQL runs with its types mapped (SqliteDdlToPostgres) unless a step has its own variant.
// Never edit a released migration: add the next one. docs/GALLERY.md describes the result.
#pragma once

#include <vector>

#include "common/db.h"

namespace facetrail::gallery::internal {

inline constexpr const char* kSchemaComponent = "gallery";
const std::vector<Migration>& GalleryMigrations();

}  // namespace facetrail::gallery::internal
