// interop: reading the transactions booking systems send, ANSI/NIST-ITL 1-2000, 1-2007 and
// 1-2011 (Update 2013/2015) in the traditional encoding (docs/INTEROP.md).
//
// WHAT THIS REPRESENTS
//   ParseTransaction walks a whole transaction: the Type-1 header and the record list of its CNT
//   field (1.003), then every record that list announces, in order:
//   * tagged-field records (Types 2, 9, 10, 13–17, 98, 99 …): "T.NNN:value" fields separated by
//     GS (0x1D), subfields by RS (0x1E), items by US (0x1F), the record ended by FS (0x1C); its
//     length is the value of its first field (T.001); field numbers of 1–3 digits ("1.01",
//     "10.001"); field 999 holds binary data and runs to the record's last byte.
//   * binary records (Types 3–8): a fixed binary header whose first 4 bytes are the record's
//     length (big-endian) and whose 5th is its IDC; the image follows the header.
//   A record the caller does not import is skipped by its length, so its place is never lost.
//   Every length and count is checked against the bytes that remain before it is used: a
//   truncated, lying or hostile file yields kInvalidArgument naming the record (position and
//   type) and the field ("record 2 (Type-10) field 10.001: length 90000 runs past the end of
//   the file (26276 bytes left)"), never a crash or a read outside `bytes`; kResourceExhausted
//   when a limit of ParseOptions is hit.
//
//   The result holds views into `bytes`: requires that `bytes` outlive the Transaction.
//
// THREAD SAFETY
//   Functions are pure; a Transaction is a value (safe to read from several threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail::interop {

inline constexpr char kFS = 0x1C;  // file separator: ends a tagged record
inline constexpr char kGS = 0x1D;  // group separator: between fields
inline constexpr char kRS = 0x1E;  // record separator: between subfields
inline constexpr char kUS = 0x1F;  // unit separator: between items of a subfield

struct TaggedField {
  int number = 0;          // 1 … 999 (the part after the dot)
  std::string_view value;  // between ':' and the separator (field 999: binary, to the record end)
  // The value's subfields (split at RS) and their items (split at US).
  std::vector<std::vector<std::string_view>> Subfields() const;
};

struct Record {
  int index = 0;  // position in the transaction: 0 is the Type-1 record
  int type = 0;   // 1 … 99
  int idc = -1;   // information designation character (from 1.003); -1 for Type-1
  size_t offset = 0;
  size_t length = 0;  // bytes, separators and binary header included
  bool binary = false;
  std::vector<TaggedField> fields;  // tagged records, in file order (empty for binary ones)
  // The image: the bytes after the fixed header of a binary record, or field 999 of a tagged
  // one (empty when the record has none).
  std::span<const uint8_t> data;

  // The tagged field with this number, or nullptr.
  const TaggedField* Find(int number) const;
  // "record 2 (Type-10)": how errors and reports name the record.
  std::string Name() const;
};

struct Transaction {
  std::string version;  // 1.002: "0200", "0201" (1-2000), "0400" (1-2007), "0500" (1-2011) …
  std::string type_of_transaction;    // 1.004 TOT ("CAR", "TPIS")
  std::string date;                   // 1.005 DAT, YYYYMMDD as written
  std::string destination_agency;     // 1.007 DAI
  std::string originating_agency;     // 1.008 ORI
  std::string control_number;         // 1.009 TCN
  std::vector<Record> records;        // records[0] is the Type-1 record
  std::vector<std::string> warnings;  // deviations tolerated (IDC mismatch, trailing bytes)
};

struct ParseOptions {
  size_t max_records = 1000;  // records announced by 1.003
  size_t max_fields_per_record = 10000;
};

// Parses and checks a whole transaction (see above). requires: bytes outlive the result.
Expected<Transaction> ParseTransaction(std::span<const uint8_t> bytes,
                                       const ParseOptions& options = {});

// True when `bytes` start like a traditional-encoding transaction ("1.001:" or "1.01:").
bool LooksLikeTransaction(std::span<const uint8_t> bytes);

// ---- Type-10: facial and SMT images ----------------------------------------------------------

enum class Pose { kUnspecified, kFrontal, kRightProfile, kLeftProfile, kAngled, kDetermined3d };
std::string_view PoseName(Pose pose);  // "frontal", "right profile", "angled" …

struct FaceRecord {
  int record_index = 0;
  int idc = 0;
  std::string image_type;                   // 10.003 IMT ("FACE"; SCAR, MARK, TATTOO are not faces)
  std::string source_agency;                // 10.004 SRC
  std::optional<std::string> capture_date;  // 10.005 PHD as YYYY-MM-DD (nullopt when absent)
  int width = 0, height = 0;                // 10.006 HLL, 10.007 VLL (0 when absent)
  std::string compression;         // 10.011 CGA ("JPEGB", "JPEGL", "JP2", "JP2L", "PNG", "NONE")
  std::string colour_space;        // 10.012 CSP ("SRGB", "YCC", "GRAY" …)
  std::optional<int> sap;          // 10.013 SAP, subject acquisition profile
  Pose pose = Pose::kUnspecified;  // 10.020 POS
  std::optional<int> pose_offset_deg;  // 10.021 POA (angled poses), -180 … 180
  std::span<const uint8_t> image;      // 10.999
  // A view meant for face search: FACE image, frontal (or unspecified, as in transactions older
  // than the POS field), or angled by at most 30°. Profile views are kept but not searched.
  bool searchable() const;
};

// Reads a Type-10 record's face fields. kInvalidArgument naming the record and field for a
// record that is not Type-10, an IMT other than FACE ("record 3 (Type-10) field 10.003: image
// type 'TATTOO' is not a face"), a malformed number or date, a missing or empty image, or image
// bytes that do not match 10.011 (CGA).
Expected<FaceRecord> ReadFaceRecord(const Record& record);

// ---- Writing ---------------------------------------------------------------------------------

// One tagged record to write: its fields after T.001 (length) and T.002 (IDC), which the writer
// adds, in ascending number order (2 < number < 999), values as they go into the file (subfields
// joined by RS, items by US); `image`, when not empty, becomes field T.999.
struct RecordToWrite {
  int type = 2;
  int idc = 0;
  std::vector<std::pair<int, std::string>> fields;
  std::vector<uint8_t> image;
};

// A traditional-encoding transaction with 3-digit field numbers: a Type-1 record (1.001 length,
// 1.002 version, 1.003 CNT made from `records`, then `type1_fields`: number > 3, ascending) and
// the records. kInvalidArgument for a field number out of order or range, a value holding a
// GS or FS separator, or a record type that is binary (3–8) or Type-1.
Expected<std::vector<uint8_t>> WriteTransaction(
    const std::string& version, const std::vector<std::pair<int, std::string>>& type1_fields,
    const std::vector<RecordToWrite>& records);

}  // namespace facetrail::interop
