// The replacement global operator new behind testing::StartTrackingAllocations. It lives in a
// file of its own so that GCC cannot inline it into callers (which makes it warn about malloc
// paired with delete).
#include <atomic>
#include <cstdlib>
#include <new>

#include "vision/image_test_util.h"

namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest{0};
}  // namespace

void* operator new(size_t size) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    size_t seen = g_largest.load(std::memory_order_relaxed);
    while (size > seen && !g_largest.compare_exchange_weak(seen, size)) {
    }
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t size) {
  return operator new(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

namespace facetrail::vision::testing {

void StartTrackingAllocations() {
  g_largest = 0;
  g_tracking = true;
}

size_t StopTrackingAllocations() {
  g_tracking = false;
  return g_largest.load();
}

}  // namespace facetrail::vision::testing
