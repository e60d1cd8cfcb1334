#include "interop/ansi_nist.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace facetrail::interop {
namespace {

// Binary records (Types 3–8): the fixed header's size (bytes before the image). Type 7 is
// user-defined after LEN and IDC.
size_t BinaryHeaderSize(int type) {
  switch (type) {
    case 3:
    case 4:
    case 5:
    case 6: return 18;  // LEN 4, IDC 1, IMP 1, FGP 6, ISR 1, HLL 2, VLL 2, GCA/BCA 1
    case 7: return 5;   // LEN 4, IDC 1
    case 8: return 12;  // LEN 4, IDC 1, SIG 1, SRT 1, ISR 1, HLL 2, VLL 2
    default: return 0;
  }
}

bool IsBinaryType(int type) {
  return type >= 3 && type <= 8;
}

std::string Printable(std::string_view s, size_t max = 40) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7F) ? c : '?';
  }
  if (s.size() > max) out += "...";
  return out;
}

// Parses a decimal of at most `max_digits` digits; nullopt for anything else.
std::optional<uint64_t> ParseUnsigned(std::string_view s, size_t max_digits = 12) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Reads the bytes in [begin, end) of `bytes` as text.
std::string_view View(std::span<const uint8_t> bytes, size_t begin, size_t end) {
  return {reinterpret_cast<const char*>(bytes.data()) + begin, end - begin};
}

struct Tag {
  int type = 0;
  int number = 0;
  size_t value_begin = 0;  // offset just past ':'
};

// Reads "T.N:" at `pos` (T: 1–2 digits, N: 1–3 digits), not reading at or past `end`.
std::optional<Tag> ReadTag(std::span<const uint8_t> bytes, size_t pos, size_t end) {
  size_t p = pos;
  auto digits = [&](size_t max) -> std::optional<int> {
    const size_t start = p;
    int v = 0;
    while (p < end && p - start < max && bytes[p] >= '0' && bytes[p] <= '9') {
      v = v * 10 + (bytes[p] - '0');
      ++p;
    }
    if (p == start) return std::nullopt;
    return v;
  };
  Tag t;
  auto type = digits(2);
  if (!type || p >= end || bytes[p] != '.') return std::nullopt;
  ++p;
  auto number = digits(3);
  if (!number || p >= end || bytes[p] != ':') return std::nullopt;
  t.type = *type;
  t.number = *number;
  t.value_begin = p + 1;
  return t;
}

std::string FieldName(int type, int number) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%d.%03d", type, number);
  return buf;
}

Status RecordError(const Record& r, std::string_view field, const std::string& what) {
  std::string m = r.Name();
  if (!field.empty()) m += " field " + std::string(field);
  return InvalidArgument(m + ": " + what);
}

// Parses the tagged record that starts at `r.offset` of `bytes`; sets length and fields.
Status ParseTagged(std::span<const uint8_t> bytes, Record& r, const ParseOptions& options,
                   std::vector<std::string>* warnings) {
  const size_t left = bytes.size() - r.offset;
  const std::string len_field = FieldName(r.type, 1);
  auto first = ReadTag(bytes, r.offset, bytes.size());
  if (!first) {
    return RecordError(r, len_field,
                       "expected the tag '" + std::to_string(r.type) + ".001:', found '" +
                           Printable(View(bytes, r.offset, r.offset + std::min<size_t>(left, 12))) +
                           "'");
  }
  if (first->type != r.type || first->number != 1) {
    return RecordError(r, len_field,
                       "the record starts with field " + FieldName(first->type, first->number) +
                           ", not its length field (1.003 announced Type-" +
                           std::to_string(r.type) + ")");
  }
  size_t p = first->value_begin;
  while (p < bytes.size() && bytes[p] != kGS && bytes[p] != kFS) ++p;
  const std::string_view len_text = View(bytes, first->value_begin, p);
  const auto len = ParseUnsigned(len_text);
  if (!len)
    return RecordError(r, len_field, "length '" + Printable(len_text) + "' is not a number");
  if (*len > left) {
    return RecordError(r, len_field,
                       "length " + std::to_string(*len) + " runs past the end of the file (" +
                           std::to_string(left) + " bytes left)");
  }
  if (*len < p - r.offset + 1) {
    return RecordError(r, len_field,
                       "length " + std::to_string(*len) + " is shorter than the length field");
  }
  r.length = static_cast<size_t>(*len);
  const size_t end = r.offset + r.length;  // one past the record's FS
  if (bytes[end - 1] != static_cast<uint8_t>(kFS)) {
    return RecordError(r, len_field,
                       "the byte at the record's stated end (offset " + std::to_string(end - 1) +
                           ") is not the file separator FS: the length is wrong");
  }
  // Fields: the tag at `pos`, the value up to GS, or to FS for the last field.
  size_t pos = r.offset;
  int previous = 0;
  for (;;) {
    auto tag = ReadTag(bytes, pos, end);
    if (!tag) {
      return RecordError(r, "",
                         "malformed field tag at offset " + std::to_string(pos) + ": '" +
                             Printable(View(bytes, pos, std::min(end, pos + 12))) + "'");
    }
    const std::string name = FieldName(tag->type, tag->number);
    if (tag->type != r.type) {
      return RecordError(
          r, name,
          "a field of another record type inside a Type-" + std::to_string(r.type) + " record");
    }
    if (tag->number <= previous) {
      return RecordError(
          r, name, "field numbers must ascend (it follows " + FieldName(r.type, previous) + ")");
    }
    previous = tag->number;
    if (r.fields.size() >= options.max_fields_per_record) {
      return ResourceExhausted(r.Name() + ": more than " +
                               std::to_string(options.max_fields_per_record) + " fields");
    }
    TaggedField f;
    f.number = tag->number;
    if (tag->number == 999) {
      // Binary data: everything up to the record's FS. It must be the last field. Some writers
      // put a short text field 999 first and the image in a second one ("10.999:010110" GS
      // "10.999:<JPEG>", NIST's valid1.11): the image is the last of them, the others are
      // reported as warnings.
      const std::string again = std::string(1, kGS) + FieldName(r.type, 999) + ":";
      for (;;) {
        const std::string_view rest = View(bytes, tag->value_begin, end - 1);
        const size_t gs = rest.substr(0, 64).find(kGS);
        if (gs == std::string_view::npos || rest.substr(gs, again.size()) != again) break;
        if (warnings) {
          warnings->push_back(r.Name() + " field " + name + ": repeated; the value '" +
                              Printable(rest.substr(0, gs)) + "' before the last one is ignored");
        }
        tag->value_begin += gs + again.size();
      }
      f.value = View(bytes, tag->value_begin, end - 1);
      r.data = bytes.subspan(tag->value_begin, end - 1 - tag->value_begin);
      r.fields.push_back(f);
      return Status::Ok();
    }
    size_t q = tag->value_begin;
    const auto stop = std::find_if(bytes.begin() + static_cast<std::ptrdiff_t>(q),
                                   bytes.begin() + static_cast<std::ptrdiff_t>(end),
                                   [](uint8_t c) { return c == kGS || c == kFS; });
    q = static_cast<size_t>(stop - bytes.begin());
    if (q == end) return Internal("record end without FS");  // excluded by the check above
    f.value = View(bytes, tag->value_begin, q);
    r.fields.push_back(f);
    if (bytes[q] == static_cast<uint8_t>(kFS)) {
      if (q != end - 1) {
        return RecordError(r, name,
                           "a file separator FS at offset " + std::to_string(q) +
                               " before the record's stated end " + std::to_string(end - 1) +
                               ": the length field (" + len_field + ") is wrong");
      }
      return Status::Ok();
    }
    pos = q + 1;
    if (pos >= end - 1) {
      return RecordError(r, name, "a group separator GS right before the record's end");
    }
  }
}

Status ParseBinary(std::span<const uint8_t> bytes, Record& r) {
  const size_t left = bytes.size() - r.offset;
  const size_t header = BinaryHeaderSize(r.type);
  const std::string len_field = FieldName(r.type, 1) + " (binary LEN)";
  if (left < header) {
    return RecordError(r, len_field,
                       "the fixed header needs " + std::to_string(header) + " bytes, " +
                           std::to_string(left) + " left");
  }
  const uint64_t len = (uint64_t{bytes[r.offset]} << 24) | (uint64_t{bytes[r.offset + 1]} << 16) |
                       (uint64_t{bytes[r.offset + 2]} << 8) | uint64_t{bytes[r.offset + 3]};
  if (len > left) {
    return RecordError(r, len_field,
                       "length " + std::to_string(len) + " runs past the end of the file (" +
                           std::to_string(left) + " bytes left)");
  }
  if (len < header) {
    return RecordError(r, len_field,
                       "length " + std::to_string(len) + " is shorter than the fixed header (" +
                           std::to_string(header) + " bytes)");
  }
  r.length = static_cast<size_t>(len);
  r.binary = true;
  const int idc = bytes[r.offset + 4];
  if (idc != r.idc) {
    return RecordError(r, FieldName(r.type, 2) + " (binary IDC)",
                       "IDC " + std::to_string(idc) + " differs from the " + std::to_string(r.idc) +
                           " announced by 1.003");
  }
  r.data = bytes.subspan(r.offset + header, r.length - header);
  return Status::Ok();
}

bool IsLeap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// "YYYYMMDD" (a real calendar day) → "YYYY-MM-DD".
std::optional<std::string> IsoDate(std::string_view s) {
  if (s.size() != 8) return std::nullopt;
  auto n = ParseUnsigned(s, 8);
  if (!n) return std::nullopt;
  const int y = static_cast<int>(*n / 10000), m = static_cast<int>(*n / 100 % 100),
            d = static_cast<int>(*n % 100);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1800 || m < 1 || m > 12 || d < 1) return std::nullopt;
  if (d > kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0)) return std::nullopt;
  return std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
         std::string(s.substr(6, 2));
}

bool StartsWith(std::span<const uint8_t> b, std::initializer_list<uint8_t> magic) {
  return b.size() >= magic.size() && std::equal(magic.begin(), magic.end(), b.begin());
}

}  // namespace

std::vector<std::vector<std::string_view>> TaggedField::Subfields() const {
  std::vector<std::vector<std::string_view>> out;
  size_t start = 0;
  for (;;) {
    const size_t rs = value.find(kRS, start);
    const std::string_view sub =
        value.substr(start, rs == std::string_view::npos ? std::string_view::npos : rs - start);
    std::vector<std::string_view> items;
    size_t s = 0;
    for (;;) {
      const size_t us = sub.find(kUS, s);
      items.push_back(
          sub.substr(s, us == std::string_view::npos ? std::string_view::npos : us - s));
      if (us == std::string_view::npos) break;
      s = us + 1;
    }
    out.push_back(std::move(items));
    if (rs == std::string_view::npos) break;
    start = rs + 1;
  }
  return out;
}

const TaggedField* Record::Find(int number) const {
  for (const TaggedField& f : fields) {
    if (f.number == number) return &f;
  }
  return nullptr;
}

std::string Record::Name() const {
  return "record " + std::to_string(index) + " (Type-" + std::to_string(type) + ")";
}

bool LooksLikeTransaction(std::span<const uint8_t> bytes) {
  auto tag = ReadTag(bytes, 0, std::min<size_t>(bytes.size(), 8));
  return tag && tag->type == 1 && tag->number == 1;
}

Expected<Transaction> ParseTransaction(std::span<const uint8_t> bytes,
                                       const ParseOptions& options) {
  Transaction t;
  Record header;
  header.type = 1;
  if (!LooksLikeTransaction(bytes)) {
    return InvalidArgument(
        "not an ANSI/NIST-ITL transaction in the traditional encoding (it does not start with "
        "the Type-1 length field 1.001)");
  }
  FT_RETURN_IF_ERROR(ParseTagged(bytes, header, options, &t.warnings));
  auto text = [&](int number) {
    const TaggedField* f = header.Find(number);
    return f ? std::string(f->value) : std::string();
  };
  t.version = text(2);
  t.type_of_transaction = text(4);
  t.date = text(5);
  t.destination_agency = text(7);
  t.originating_agency = text(8);
  t.control_number = text(9);
  const TaggedField* cnt = header.Find(3);
  if (!cnt) return RecordError(header, "1.003", "missing (the record list, CNT)");
  const auto subfields = cnt->Subfields();
  // First subfield: "1" US <number of other records>; then one "type" US "IDC" per record.
  if (subfields[0].size() != 2 || subfields[0][0] != "1") {
    return RecordError(
        header, "1.003",
        "the first subfield must be '1<US>count', found '" + Printable(cnt->value) + "'");
  }
  const auto count = ParseUnsigned(subfields[0][1], 6);
  if (!count) {
    return RecordError(header, "1.003",
                       "record count '" + Printable(subfields[0][1]) + "' is not a number");
  }
  if (*count > options.max_records) {
    return ResourceExhausted("record 0 (Type-1) field 1.003: " + std::to_string(*count) +
                             " records announced, more than the limit of " +
                             std::to_string(options.max_records));
  }
  if (subfields.size() - 1 != *count) {
    return RecordError(header, "1.003",
                       "announces " + std::to_string(*count) + " records but lists " +
                           std::to_string(subfields.size() - 1));
  }
  t.records.push_back(std::move(header));
  size_t offset = t.records[0].length;
  for (size_t i = 1; i < subfields.size(); ++i) {
    const auto& item = subfields[i];
    const auto type = item.size() == 2 ? ParseUnsigned(item[0], 2) : std::nullopt;
    const auto idc = item.size() == 2 ? ParseUnsigned(item[1], 2) : std::nullopt;
    if (!type || !idc || *type < 2 || *type > 99) {
      return RecordError(t.records[0], "1.003",
                         "subfield " + std::to_string(i + 1) + " '" +
                             Printable(item.empty() ? std::string_view() : item[0]) +
                             "...' is not 'type<US>IDC' with a record type 2-99");
    }
    Record r;
    r.index = static_cast<int>(i);
    r.type = static_cast<int>(*type);
    r.idc = static_cast<int>(*idc);
    r.offset = offset;
    if (offset >= bytes.size()) {
      return InvalidArgument(r.Name() + ": announced by 1.003 but the file ends at byte " +
                             std::to_string(bytes.size()) + " (truncated)");
    }
    if (IsBinaryType(r.type)) {
      FT_RETURN_IF_ERROR(ParseBinary(bytes, r));
    } else {
      FT_RETURN_IF_ERROR(ParseTagged(bytes, r, options, &t.warnings));
      const TaggedField* idc_field = r.Find(2);
      const auto stated = idc_field ? ParseUnsigned(idc_field->value, 2) : std::nullopt;
      if (!stated || static_cast<int>(*stated) != r.idc) {
        t.warnings.push_back(r.Name() + " field " + FieldName(r.type, 2) + ": IDC '" +
                             (idc_field ? Printable(idc_field->value) : std::string("missing")) +
                             "' differs from the " + std::to_string(r.idc) + " announced by 1.003");
      }
    }
    offset += r.length;
    t.records.push_back(std::move(r));
  }
  if (offset < bytes.size()) {
    t.warnings.push_back(std::to_string(bytes.size() - offset) +
                         " bytes after the last record announced by 1.003 ignored");
  }
  return t;
}

// ---- Type-10 ----------------------------------------------------------------------------------

std::string_view PoseName(Pose pose) {
  switch (pose) {
    case Pose::kUnspecified: return "unspecified";
    case Pose::kFrontal: return "frontal";
    case Pose::kRightProfile: return "right profile";
    case Pose::kLeftProfile: return "left profile";
    case Pose::kAngled: return "angled";
    case Pose::kDetermined3d: return "determined 3D";
  }
  return "unspecified";
}

bool FaceRecord::searchable() const {
  switch (pose) {
    case Pose::kUnspecified:
    case Pose::kFrontal: return true;
    case Pose::kAngled: return pose_offset_deg && std::abs(*pose_offset_deg) <= 30;
    default: return false;
  }
}

Expected<FaceRecord> ReadFaceRecord(const Record& record) {
  if (record.type != 10 || record.binary) {
    return RecordError(record, "", "not a Type-10 (facial image) record");
  }
  FaceRecord f;
  f.record_index = record.index;
  f.idc = record.idc;
  auto text = [&](int n) {
    const TaggedField* x = record.Find(n);
    return x ? std::string(x->value) : std::string();
  };
  auto number = [&](int n, int lo, int hi) -> Expected<std::optional<int>> {
    const TaggedField* x = record.Find(n);
    if (!x || x->value.empty()) return std::optional<int>();
    std::string_view v = x->value;
    bool negative = false;
    if (v[0] == '-' || v[0] == '+') {
      negative = v[0] == '-';
      v.remove_prefix(1);
    }
    const auto u = ParseUnsigned(v, 6);
    const int64_t signed_value =
        u ? (negative ? -static_cast<int64_t>(*u) : static_cast<int64_t>(*u)) : 0;
    if (!u || signed_value > hi || signed_value < lo) {
      return RecordError(record, FieldName(10, n),
                         "'" + Printable(x->value) + "' is not a number in " + std::to_string(lo) +
                             ".." + std::to_string(hi));
    }
    return std::optional<int>(static_cast<int>(signed_value));
  };
  f.image_type = text(3);
  if (f.image_type != "FACE") {
    return RecordError(record, "10.003",
                       f.image_type.empty()
                           ? std::string("image type missing (IMT must be FACE)")
                           : "image type '" + Printable(f.image_type) + "' is not a face");
  }
  f.source_agency = text(4);
  if (const TaggedField* phd = record.Find(5); phd && !phd->value.empty()) {
    f.capture_date = IsoDate(phd->value);
    if (!f.capture_date) {
      return RecordError(record, "10.005",
                         "capture date '" + Printable(phd->value) + "' is not a YYYYMMDD date");
    }
  }
  FT_ASSIGN_OR_RETURN(auto width, number(6, 1, 99999));
  FT_ASSIGN_OR_RETURN(auto height, number(7, 1, 99999));
  f.width = width.value_or(0);
  f.height = height.value_or(0);
  f.compression = text(11);
  f.colour_space = text(12);
  FT_ASSIGN_OR_RETURN(f.sap, number(13, 0, 999));
  const std::string pos = text(20);
  if (pos.empty()) {
    f.pose = Pose::kUnspecified;
  } else if (pos == "F") {
    f.pose = Pose::kFrontal;
  } else if (pos == "R") {
    f.pose = Pose::kRightProfile;
  } else if (pos == "L") {
    f.pose = Pose::kLeftProfile;
  } else if (pos == "A") {
    f.pose = Pose::kAngled;
  } else if (pos == "D") {
    f.pose = Pose::kDetermined3d;
  } else {
    return RecordError(record, "10.020", "pose '" + Printable(pos) + "' is not F, R, L, A or D");
  }
  FT_ASSIGN_OR_RETURN(f.pose_offset_deg, number(21, -180, 180));
  f.image = record.data;
  if (!record.Find(999) || f.image.empty()) {
    return RecordError(record, "10.999", "no image data");
  }
  // The image's own signature must match the compression the record states.
  const bool jpeg = StartsWith(f.image, {0xFF, 0xD8, 0xFF});
  const bool png = StartsWith(f.image, {0x89, 'P', 'N', 'G'});
  const bool jp2 = StartsWith(f.image, {0x00, 0x00, 0x00, 0x0C, 'j', 'P'}) ||
                   StartsWith(f.image, {0xFF, 0x4F, 0xFF, 0x51});
  const std::string& cga = f.compression;
  const bool ok = (cga == "JPEGB" || cga == "JPEGL") ? jpeg
                  : cga == "PNG"                     ? png
                  : (cga == "JP2" || cga == "JP2L")  ? jp2
                  : cga.empty()                      ? (jpeg || png || jp2)
                                                     : false;
  if (!ok) {
    return RecordError(
        record, "10.011",
        cga == "NONE"
            ? std::string("uncompressed images (CGA NONE) are not supported")
            : "compression '" + Printable(cga) + "' does not match the image data in 10.999");
  }
  return f;
}

// ---- Writing ----------------------------------------------------------------------------------

namespace {

// One tagged record: "T.001:<len>" GS "T.002:<idc>" GS … FS, the length counting itself.
Expected<std::vector<uint8_t>> WriteRecord(int type, const std::string& idc,
                                           const std::vector<std::pair<int, std::string>>& fields,
                                           std::span<const uint8_t> image) {
  std::string body;  // everything after the length field's value
  int previous = 2;
  auto tag = [&](int number) { return FieldName(type, number) + ":"; };
  if (!idc.empty()) body += std::string(1, kGS) + tag(2) + idc;
  if (idc.empty()) previous = 1;
  for (const auto& [number, value] : fields) {
    if (number <= previous || number >= 999) {
      return InvalidArgument("writing a Type-" + std::to_string(type) + " record: field " +
                             FieldName(type, number) + " out of order or range");
    }
    if (value.find(kGS) != std::string::npos || value.find(kFS) != std::string::npos) {
      return InvalidArgument("writing field " + FieldName(type, number) +
                             ": the value holds a GS or FS separator");
    }
    previous = number;
    body += std::string(1, kGS) + tag(number) + value;
  }
  if (!image.empty()) {
    body += std::string(1, kGS) + tag(999);
    body.append(reinterpret_cast<const char*>(image.data()), image.size());
  }
  body += kFS;
  // The length's own digits count: find the fixed point.
  const std::string head = tag(1);
  size_t length = head.size() + body.size() + 1;
  for (;;) {
    const size_t total = head.size() + std::to_string(length).size() + body.size();
    if (total == length) break;
    length = total;
  }
  const std::string out = head + std::to_string(length) + body;
  return std::vector<uint8_t>(out.begin(), out.end());
}

}  // namespace

Expected<std::vector<uint8_t>> WriteTransaction(
    const std::string& version, const std::vector<std::pair<int, std::string>>& type1_fields,
    const std::vector<RecordToWrite>& records) {
  std::string cnt = "1" + std::string(1, kUS) + std::to_string(records.size());
  for (const RecordToWrite& r : records) {
    if (r.type < 2 || r.type > 99 || IsBinaryType(r.type)) {
      return InvalidArgument("writing a transaction: Type-" + std::to_string(r.type) +
                             " records are not written");
    }
    if (r.idc < 0 || r.idc > 99) return InvalidArgument("writing a transaction: IDC out of range");
    char idc[8];
    std::snprintf(idc, sizeof idc, "%02d", r.idc);
    cnt += std::string(1, kRS) + std::to_string(r.type) + std::string(1, kUS) + idc;
  }
  std::vector<std::pair<int, std::string>> header = {{2, version}, {3, cnt}};
  for (const auto& f : type1_fields) {
    if (f.first <= 3) {
      return InvalidArgument("writing Type-1: field " + FieldName(1, f.first) + " is the writer's");
    }
    header.push_back(f);
  }
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> out, WriteRecord(1, "", header, {}));
  for (const RecordToWrite& r : records) {
    char idc[8];
    std::snprintf(idc, sizeof idc, "%02d", r.idc);
    FT_ASSIGN_OR_RETURN(std::vector<uint8_t> rec, WriteRecord(r.type, idc, r.fields, r.image));
    out.insert(out.end(), rec.begin(), rec.end());
  }
  return out;
}

}  // namespace facetrail::interop
