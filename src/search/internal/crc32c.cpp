#include "search/internal/crc32c.h"

#include <nmmintrin.h>

#include <array>
#include <cstring>
#include <thread>
#include <vector>

namespace facetrail::search::internal {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // CRC-32C, reflected

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t UpdatePortable(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t UpdateSse42(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, *p++);
    --n;
  }
  return c32;
}

const bool kHasSse42 = __builtin_cpu_supports("sse4.2");

}  // namespace

uint32_t Crc32c(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t crc = ~0u;
  crc = kHasSse42 ? UpdateSse42(crc, p, size) : UpdatePortable(crc, p, size);
  return ~crc;
}

uint32_t SectionChecksum(const void* data, size_t size, int num_threads) {
  constexpr size_t kBlock = size_t{1} << 20;
  const size_t num_blocks = (size + kBlock - 1) / kBlock;
  std::vector<uint32_t> crcs(num_blocks);
  const auto* p = static_cast<const uint8_t*>(data);
  auto work = [&](size_t first, size_t step) {
    for (size_t b = first; b < num_blocks; b += step) {
      size_t len = b + 1 < num_blocks ? kBlock : size - b * kBlock;
      crcs[b] = Crc32c(p + b * kBlock, len);
    }
  };
  size_t threads = num_threads < 1 ? 1 : static_cast<size_t>(num_threads);
  if (threads > num_blocks) threads = num_blocks == 0 ? 1 : num_blocks;
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
  work(0, threads);
  for (auto& th : pool) th.join();
  return Crc32c(crcs.data(), crcs.size() * sizeof(uint32_t));
}

}  // namespace facetrail::search::internal
