// Standard base64 (RFC 4648, with padding) of bytes, for images carried inside JSON answers
// (aligned views, the case file).
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

namespace facetrail::service::internal {

inline std::string Base64(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

}  // namespace facetrail::service::internal
