// Whole-file reading, crash-safe writing, and the checks on where sensitive files live and who may
// read them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace facetrail {

// Reads the whole file at `path`. Fails with kNotFound (no such file), kResourceExhausted (larger
// than max_bytes, checked before reading) or kIoError; every message starts with the path.
Expected<std::vector<uint8_t>> ReadFileBytes(const std::string& path,
                                             size_t max_bytes = size_t{1} << 31);

// True when `path` names an existing regular file.
bool FileExists(const std::string& path);

// Writes `data` to `path` atomically: a temporary file in the same folder, fsync, rename, fsync
// of the folder. After a crash the file holds either the old or the new contents, never a mix.
Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> data);

// True when `path` (which need not exist) lies in `folder` or anywhere below it. Both are made
// absolute and their symbolic links resolved as far as they exist, so "db/../db/k" and a link to
// the folder count as inside.
bool IsWithinFolder(const std::string& path, const std::string& folder);

// The files facetrail keeps for the database `db_path` that exist and grant group or others any
// access: the database, its -wal, -shm and -journal, and every "<db_path>.<suffix>" beside it
// (search snapshots, the checkpoint signing key) except public keys ("*.pub", public by design).
// One message per file, naming it, its mode and the fix; empty when all are owner-only.
// They hold password hashes, booking photos and probe images: facetrail creates them 0600.
std::vector<std::string> OwnerOnlyWarnings(const std::string& db_path);

}  // namespace facetrail
