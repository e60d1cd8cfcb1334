// libFuzzer target for the ANSI/NIST-ITL reader (interop/ansi_nist.h): ParseTransaction and
// ReadFaceRecord on arbitrary bytes must return an error or a transaction whose records lie
// inside the input, never crash, hang, leak or read out of bounds (address and
// undefined-behaviour sanitizers on). Seeds: NIST's sample transactions. Run with scripts/fuzz.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "interop/ansi_nist.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

bool Inside(std::span<const uint8_t> outer, std::span<const uint8_t> inner) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facetrail::interop;
  const std::span<const uint8_t> bytes(data, size);
  facetrail::Expected<Transaction> t = ParseTransaction(bytes);
  if (!t.ok()) {
    Check(!t.status().message().empty());
    return 0;
  }
  size_t end = 0;
  for (const Record& r : t->records) {
    Check(r.offset == end);  // records tile the input in order
    Check(r.length > 0 && r.offset + r.length <= size);
    end = r.offset + r.length;
    Check(Inside(bytes.subspan(r.offset, r.length), r.data));
    for (const TaggedField& f : r.fields) {
      const auto* p = reinterpret_cast<const uint8_t*>(f.value.data());
      Check(Inside(bytes.subspan(r.offset, r.length), {p, f.value.size()}));
      size_t items = 0;
      for (const auto& sub : f.Subfields()) items += sub.size();
      Check(items >= 1);
    }
    if (r.type == 10) {
      facetrail::Expected<FaceRecord> face = ReadFaceRecord(r);
      if (face.ok()) {
        Check(!face->image.empty() && Inside(r.data, face->image));
        Check(face->image_type == "FACE");
      } else {
        Check(!face.status().message().empty());
      }
    }
  }
  Check(end <= size);
  return 0;
}
