// libFuzzer target for the NIEM XML reader (interop/niem_xml.h): ReadNiemXml on arbitrary bytes
// must return an error or a package whose traditional transaction the traditional reader accepts
// (and whose Type-10 records ReadFaceRecord reads or refuses), never crash, hang, leak, read out
// of bounds or touch a file or the network (address and undefined-behaviour sanitizers on).
// Seeds: NIST's sample package and the small XML files scripts/fuzz writes. Run with scripts/fuzz.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "interop/ansi_nist.h"
#include "interop/niem_xml.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace facetrail::interop;
  const std::span<const uint8_t> bytes(data, size);
  facetrail::Expected<NiemPackage> p = ReadNiemXml(bytes);
  if (!p.ok()) {
    Check(!p.status().message().empty());
    return 0;
  }
  Check(p->records >= 1);
  facetrail::Expected<Transaction> t = ParseTransaction(p->traditional);
  Check(t.ok());  // what the reader writes, the traditional reader reads
  for (const Record& r : t->records) {
    if (r.type != 10) continue;
    auto face = ReadFaceRecord(r);
    if (!face.ok()) Check(!face.status().message().empty());
  }
  return 0;
}
