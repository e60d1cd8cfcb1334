#include "gallery/gallery_store.h"

#include "common/db_uri.h"
#include "gallery/internal/sql_store.h"

namespace facetrail::gallery {

std::string_view RecordStatusName(RecordStatus status) {
  switch (status) {
    case RecordStatus::kActive: return "active";
    case RecordStatus::kSealed: return "sealed";
    case RecordStatus::kExpunged: return "expunged";
  }
  return "active";
}

Expected<RecordStatus> ParseRecordStatus(std::string_view name) {
  if (name == "active") return RecordStatus::kActive;
  if (name == "sealed") return RecordStatus::kSealed;
  if (name == "expunged") return RecordStatus::kExpunged;
  return InvalidArgument("unknown record status '" + std::string(name) + "'");
}

Expected<std::unique_ptr<GalleryStore>> GalleryStore::Open(const std::string& uri,
                                                           const StoreOptions& options) {
  if (uri.empty()) return InvalidArgument("empty gallery URI");
  Expected<std::string> resolved = ResolveDatabaseUri(uri);  // the same parser as Db::Open
  if (!resolved.ok()) return resolved.status();
  auto store = internal::OpenSqlStore(*resolved, options);
  if (!store.ok()) return store.status().WithContext("opening gallery");
  return store;
}

Expected<std::unique_ptr<GalleryStore>> GalleryStore::OpenOn(Db& db, const StoreOptions& options) {
  auto store = internal::OpenSqlStoreOn(db, options);
  if (!store.ok()) return store.status().WithContext("opening gallery");
  return store;
}

}  // namespace facetrail::gallery
