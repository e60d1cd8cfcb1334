// interop: turning ANSI/NIST-ITL transactions into gallery bookings and photos.
//
// WHAT THIS DOES
//   * A BookingMapping (a JSON configuration file, docs/INTEROP.md) says which Type-2 (or Type-1)
//     field fills which booking field; the default maps the FBI EBTS fields. Every Type-2 field
//     the mapping does not use is kept, as written, in the photo's origin text (JSON), so no
//     field is lost.
//   * TransactionPhotos reads one transaction: one PreparedPhoto per Type-10 FACE record (several
//     records give several photos of one booking; profile views are flagged and kept out of
//     searches), or one refusal with the reason when the file cannot be imported.
//   * AnsiNistSource feeds the files and folders given to `facetrail enroll --ansi-nist` to
//     gallery::EnrollPrepared, which gives them the guarantees of the CSV import (ordered,
//     idempotent, resumable, rejects with reasons).
//
// IDEMPOTENCY KEY
//   A photo's source is "ansi-nist:<ORI 1.008>/<TCN 1.009>/10.<IDC>": with the image's SHA-256 it
//   identifies the photo, so importing the same transaction again changes nothing.
//
// THREAD SAFETY
//   Values and pure functions; an AnsiNistSource is used by one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "gallery/enroll.h"
#include "gallery/gallery_store.h"
#include "interop/ansi_nist.h"

namespace facetrail::interop {

// Where one booking field comes from: "2.018" (the whole field), or "2.047#2" (item 2 of every
// subfield, joined by "; "). Fields of Type-1 ("1.008") are allowed too. The first source with a
// non-empty value wins.
//
// For the NIEM XML form (interop/niem_xml.h), whose Type-2 content is agency-defined XML, a source
// "xml:PersonName/PersonFullName" names an element of the Type-2 record by the path of local
// names below itl:UserDefinedDescriptiveText (its last steps suffice; several matches are joined
// by "; "); such a source gives nothing for a traditional file, and a numbered Type-2 source
// gives nothing for an XML one. Dates from XML elements may be YYYY-MM-DD.
struct FieldSource {
  int type = 2;
  int number = 0;
  int item = 0;         // 0: the whole value (subfields joined by "; ", items by " ")
  std::string element;  // non-empty: an XML element path (then number and item are 0)
};

struct BookingMapping {
  // Keys: booking_number, name, dob, sex, race_ethnicity, booking_date, agency, charge. dob and
  // booking_date are read as YYYYMMDD and stored as YYYY-MM-DD.
  std::map<std::string, std::vector<FieldSource>> fields;
  // When no booking_number source has a value: "<ORI 1.008>-<TCN 1.009>" (true), or refuse the
  // transaction (false).
  bool booking_number_from_control_number = true;
};

// The FBI EBTS mapping (docs/INTEROP.md lists its field numbers).
const BookingMapping& DefaultEbtsMapping();
// Parses a mapping file's JSON text: {"fields": {"name": ["2.018"], "charge": ["2.047#2"]},
// "booking_number_from_control_number": true}. Unknown keys and malformed field references are
// kInvalidArgument naming them; a key left out keeps no source.
Expected<BookingMapping> ParseBookingMapping(const std::string& json_text);
Expected<BookingMapping> LoadBookingMapping(const std::string& path);

// The booking the transaction describes and the origin text of its photos: a JSON object with
// "file", "transaction" (version, TOT, date, ORI, DAI, TCN) and "unmapped" (every Type-2 field
// no mapping source used, "2.005": "Y", as written, separators included). kInvalidArgument for a
// mapped date that is not YYYYMMDD or a missing booking number.
struct MappedBooking {
  gallery::BookingRecord booking;
  std::map<std::string, std::string> unmapped;  // "2.005" → "Y"
};
// `elements`: the Type-2 leaf elements of a NIEM XML package (NiemPackage::type2_elements), for
// the "xml:" sources; the unused ones are kept in `unmapped` as "xml:<path>".
Expected<MappedBooking> MapBooking(
    const Transaction& t, const BookingMapping& mapping,
    const std::vector<std::pair<std::string, std::string>>& elements = {});

// The photos of one transaction file (see above); `label` names the file in rejects. A file that
// starts with "<" is read as NIEM XML (interop/niem_xml.h), any other as the traditional encoding.
std::vector<gallery::PreparedPhoto> TransactionPhotos(const std::string& label,
                                                      std::span<const uint8_t> bytes,
                                                      const BookingMapping& mapping);

// The transaction files named on the command line, in order: a file as given, a folder's regular
// files with the extensions .an2 .eft .ebts .nist .int .xml (any case), sorted by name. kNotFound
// for a path that does not exist.
Expected<std::vector<std::string>> ListTransactionFiles(const std::vector<std::string>& paths);

struct SourceOptions {
  size_t max_file_bytes = size_t{256} << 20;
};

// Reads the files one at a time (a refusal for an unreadable one) as a gallery::PhotoSource.
// Total() counts the photos, reading every file once before the import.
std::unique_ptr<gallery::PhotoSource> MakeAnsiNistSource(std::vector<std::string> files,
                                                         BookingMapping mapping,
                                                         SourceOptions options = {});

// ---- Export: a booking's photos as a Type-10 transaction -------------------------------------

struct PhotoToExport {
  gallery::PhotoInfo info;     // its origin (JSON) gives the Type-10 attributes when imported
  std::vector<uint8_t> bytes;  // the stored image
};

// A transaction (traditional encoding, 3-digit field numbers) holding the booking and its photos:
// Type-1 from the first imported photo's transaction (1.002 version, 1.004 TOT, 1.005 date,
// 1.007 DAI, 1.008 ORI, 1.009 TCN; for a booking not imported from a transaction, version 0500,
// TOT "CAR", ORI = the agency, TCN = the booking number), one Type-2 record with the booking
// fields written back where `mapping` reads them (the first source of each, dates as YYYYMMDD)
// and every unmapped field of the first imported photo as it was read, and one Type-10 record
// per photo with its attributes (image type FACE, source agency, capture date, size,
// compression, colour space, SAP, pose and offset) and the image unchanged. Read back with the
// same mapping, it gives the same booking, photos and attributes (tests/interop, round trip).
// kInvalidArgument for no photo, or a photo that is neither JPEG nor PNG nor JPEG 2000.
Expected<std::vector<uint8_t>> ExportTransaction(const gallery::BookingRecord& booking,
                                                 const std::vector<PhotoToExport>& photos,
                                                 const BookingMapping& mapping);

}  // namespace facetrail::interop
