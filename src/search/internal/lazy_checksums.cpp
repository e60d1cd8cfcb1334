#include "search/internal/lazy_checksums.h"

#include <algorithm>

#include "search/internal/crc32c.h"

namespace facetrail::search::internal {
namespace {
constexpr uint64_t kBlock = uint64_t{1} << 20;  // as SectionChecksum
}  // namespace

LazyChecksums::LazyChecksums(const uint8_t* data, uint64_t size, const uint32_t* block_crcs,
                             std::string name)
    : data_(data),
      size_(size),
      block_crcs_(block_crcs),
      name_(std::move(name)),
      num_blocks_((size + kBlock - 1) / kBlock),
      state_(std::make_unique<std::atomic<uint8_t>[]>(num_blocks_)) {}

bool LazyChecksums::VerifyBlock(uint64_t block) const {
  std::atomic<uint8_t>& state = state_[block];
  const uint8_t known = state.load(std::memory_order_acquire);
  if (known != 0) return known == 1;
  const uint64_t begin = block * kBlock;
  const uint64_t len = std::min(kBlock, size_ - begin);
  const bool good = Crc32c(data_ + begin, len) == block_crcs_[block];
  state.store(good ? 1 : 2, std::memory_order_release);
  if (!good) bad_block_.store(block, std::memory_order_relaxed);
  return good;
}

bool LazyChecksums::Verify(uint64_t offset, uint64_t len) const {
  if (len == 0) return true;
  const uint64_t first = offset / kBlock;
  const uint64_t last = (offset + len - 1) / kBlock;
  for (uint64_t b = first; b <= last && b < num_blocks_; ++b) {
    if (!VerifyBlock(b)) return false;
  }
  return true;
}

}  // namespace facetrail::search::internal
