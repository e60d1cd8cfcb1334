// interop: the NIEM XML form of ANSI/NIST-ITL transactions (ANSI/NIST-ITL 2-2008 and the XML
// encoding of 1-2011, root element itl:NISTBiometricInformationExchangePackage), read with
// Debian's libxml2 (docs/INTEROP.md, "NIEM XML").
//
// WHAT THIS DOES
//   ReadNiemXml parses the package and rewrites what facetrail imports as the equivalent
//   traditional-encoding transaction (interop/ansi_nist.h), so the XML form goes through exactly
//   the reader, Type-10 checks and import of the traditional files:
//   * the Type-1 header (itl:PackageInformationRecord): version (major + minor), TOT, date, DAI,
//     ORI, TCN become 1.002, 1.004, 1.005, 1.007, 1.008, 1.009;
//   * every Type-10 record (itl:PackageFacialAndSMTImageRecord) becomes a Type-10 record with
//     its IDC and the fields 10.003 (image category), 10.004 (capture organisation), 10.005
//     (capture date), 10.006/10.007 (size), 10.011 (compression), 10.012 (colour space), 10.013
//     (SAP), 10.020 (pose), 10.021 (pose offset) and 10.999 (the base64 image, decoded);
//   * the Type-2 record's user-defined content (itl:UserDefinedDescriptiveText) is returned as
//     its leaf elements, each named by the path of local names below that element
//     ("RecordSubject/PersonName/PersonFullName"), for the booking mapping's "xml:" sources;
//   * every other record is walked, counted and not converted.
//   Elements are matched by local name (NIEM versions change the namespaces of ansi-nist: and
//   nc:); the root must be NISTBiometricInformationExchangePackage in a biometrics.nist.gov
//   namespace.
//
// HOSTILE INPUT
//   libxml2 reads with XML_PARSE_NONET (no network), without XML_PARSE_NOENT (entities are not
//   substituted), XML_PARSE_DTDLOAD or XML_PARSE_HUGE (libxml2's own size and entity amplification
//   limits stay on); a document with a DTD (internal or external subset) is refused, as are one
//   larger than NiemOptions::max_bytes, nested deeper than max_depth, with more than
//   max_elements elements or max_records records, or an image larger than max_image_bytes.
//   Errors are kInvalidArgument ("NIEM XML line 12: …", "NIEM XML record 3
//   (itl:PackageFacialAndSMTImageRecord) ImageHorizontalLineLengthPixelQuantity: …"), limits
//   kResourceExhausted; never a crash or a read outside `bytes`.
//
// THREAD SAFETY
//   Pure (libxml2 is initialised once; its error handlers are per thread): safe from several
//   threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace facetrail::interop {

struct NiemOptions {
  size_t max_bytes = size_t{64} << 20;
  int max_depth = 32;  // element nesting, the root being 1
  size_t max_elements = 200000;
  size_t max_records = 1000;
  size_t max_image_bytes = size_t{32} << 20;  // one decoded image
  size_t max_text_bytes = 4096;               // one text value other than an image
};

struct NiemPackage {
  // The transaction in the traditional encoding: Type-1 and the Type-10 records, 3-digit field
  // numbers (ParseTransaction reads it).
  std::vector<uint8_t> traditional;
  // The Type-2 record's leaf elements with text, in document order: (path, text).
  std::vector<std::pair<std::string, std::string>> type2_elements;
  int records = 0;  // records in the package, Type-1 included
  // For each record of `traditional` (index 0: Type-1), its position among the package's
  // records, so reports can name the XML record too.
  std::vector<int> xml_positions;
};

// True when `bytes` start (after an optional UTF-8 byte-order mark and white space) with "<".
bool LooksLikeXml(std::span<const uint8_t> bytes);

// Reads a NIEM XML package (see above).
Expected<NiemPackage> ReadNiemXml(std::span<const uint8_t> bytes, const NiemOptions& options = {});

}  // namespace facetrail::interop
