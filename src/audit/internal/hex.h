// Hex decoding for the audit formats (encoding is common/sha256.h's ToHex).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace facetrail::audit::internal {

// Lower- or upper-case hex to bytes; nullopt for odd length or a non-hex character.
std::optional<std::vector<uint8_t>> FromHex(std::string_view hex);

// True when `hex` is exactly 64 lower-case hex characters (a SHA-256 as stored).
bool IsSha256Hex(std::string_view hex);

}  // namespace facetrail::audit::internal
