// Whole-file reading and crash-safe writing.
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

}  // namespace facetrail
