// SHA-256 digests (OpenSSL), as raw bytes or lower-case hex.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace facetrail {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::span<const uint8_t> data);
Sha256Digest Sha256(std::string_view data);
// 64 lower-case hex characters.
std::string ToHex(std::span<const uint8_t> bytes);
inline std::string Sha256Hex(std::span<const uint8_t> data) {
  return ToHex(Sha256(data));
}
inline std::string Sha256Hex(std::string_view data) {
  return ToHex(Sha256(data));
}
// The SHA-256 of a file's contents, read in pieces (any size). kNotFound / kIoError with the path.
Expected<std::string> Sha256FileHex(const std::string& path);

}  // namespace facetrail
