// A memory-mapped snapshot section whose checksum blocks are verified on first use rather than
// at open (search/snapshot.cpp): the refinement data (low-nibble plane, int8 errors), which a
// search reads only for the few rows it refines. Internal to search/.
//
// THREAD SAFETY
//   Verify() may run concurrently: a block is marked good or bad with an atomic store (two
//   threads may both check one block; both reach the same verdict).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace facetrail::search::internal {

class LazyChecksums {
 public:
  // data: size bytes mapped; block_crcs: one CRC-32C per 1 MiB block (the last one partial),
  // already checked against the section's checksum. name: the section, for messages.
  LazyChecksums(const uint8_t* data, uint64_t size, const uint32_t* block_crcs, std::string name);

  // True when bytes [offset, offset + len) lie in blocks whose CRC matches (checking them now
  // if not yet checked); false when one does not (then bad_block() names it).
  bool Verify(uint64_t offset, uint64_t len) const;
  uint64_t bad_block() const { return bad_block_.load(std::memory_order_relaxed); }
  const std::string& name() const { return name_; }

 private:
  bool VerifyBlock(uint64_t block) const;
  const uint8_t* data_;
  uint64_t size_;
  const uint32_t* block_crcs_;
  std::string name_;
  uint64_t num_blocks_;
  // 0: not checked yet, 1: good, 2: bad.
  std::unique_ptr<std::atomic<uint8_t>[]> state_;
  mutable std::atomic<uint64_t> bad_block_{0};
};

}  // namespace facetrail::search::internal
