// The ANSI/NIST-ITL reader on NIST's own sample transactions (../shared/data/ansi-nist-samples),
// and on truncated and lying variants of them made here: each must give an error that names
// the record and field, never a crash or a read past the end (run under ASan in scripts/fuzz).
#include "interop/ansi_nist.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/file.h"

namespace facetrail::interop {
namespace {

const std::string kSamples = FACETRAIL_SHARED_DIR "/data/ansi-nist-samples/";

std::vector<uint8_t> Sample(const std::string& name) {
  auto bytes = ReadFileBytes(kSamples + name);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

std::vector<int> Types(const Transaction& t) {
  std::vector<int> out;
  for (size_t i = 1; i < t.records.size(); ++i) out.push_back(t.records[i].type);
  return out;
}

// The record list of every sample, as SOURCE.md gives it from 1.003.
TEST(AnsiNistReader, WalksEverySampleTransaction) {
  const std::map<std::string, std::pair<std::string, std::vector<int>>> expected = {
      {"face_jpb_DOM_GMT_DCS.an2", {"0400", {10}}},
      {"valid1.3.an2", {"0201", {2, 10}}},
      {"valid1.11.an2", {"0201", {2, 4, 10, 13, 14, 15, 16, 17, 99}}},
      {"valid1.16.an2", {"0201", {2, 4, 10, 13, 14, 15, 16, 17, 99}}},
      {"valid1.1.an2", {"0201", {2, 4}}},
      {"valid1.2.an2", {"0201", {2, 4, 6}}},
      {"valid1.13.an2", {"0200", {2, 99}}},
      {"valid1.14.an2", {"0201", {2, 4, 9}}},
      {"valid1.15.an2", {"0201", {2, 9}}},
      {"sign_vec.an2", {"0400", {8}}},
  };
  for (const auto& [name, want] : expected) {
    SCOPED_TRACE(name);
    const auto bytes = Sample(name);
    auto t = ParseTransaction(bytes);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->version, want.first);
    EXPECT_EQ(Types(*t), want.second);
    // The records tile the file exactly: nothing skipped, nothing read twice.
    size_t end = 0;
    for (const Record& r : t->records) {
      EXPECT_EQ(r.offset, end);
      end += r.length;
    }
    EXPECT_EQ(end, bytes.size());
    if (name == "valid1.11.an2" || name == "valid1.16.an2") {
      // Their image records hold field 999 more than once: short texts, then the image.
      ASSERT_EQ(t->warnings.size(), 6u);
      EXPECT_EQ(t->warnings[0],
                "record 3 (Type-10) field 10.999: repeated; the value '010110' before the last "
                "one is ignored");
      for (const std::string& w : t->warnings) {
        EXPECT_NE(w.find(".999: repeated; the value '"), std::string::npos) << w;
      }
    } else {
      EXPECT_TRUE(t->warnings.empty()) << t->warnings.front();
    }
  }
}

TEST(AnsiNistReader, ReadsType1AndBinaryRecords) {
  const auto bytes = Sample("valid1.11.an2");
  auto t = ParseTransaction(bytes);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->type_of_transaction, "CAR");
  EXPECT_EQ(t->originating_agency, "NY0303000");
  EXPECT_EQ(t->control_number, "1234567890");
  const Record& type4 = t->records[2];
  EXPECT_EQ(type4.type, 4);
  EXPECT_TRUE(type4.binary);
  EXPECT_EQ(type4.idc, 1);
  EXPECT_EQ(type4.data.size(), type4.length - 18);
  const Record& type10 = t->records[3];
  EXPECT_EQ(type10.type, 10);
  EXPECT_EQ(type10.idc, 2);
  ASSERT_NE(type10.Find(3), nullptr);
  EXPECT_EQ(type10.Find(3)->value, "FACE");
  // Subfields and items: 10.024 is "49<US>2AF3<US>2345".
  ASSERT_NE(type10.Find(24), nullptr);
  const auto sub = type10.Find(24)->Subfields();
  ASSERT_EQ(sub.size(), 1u);
  EXPECT_EQ(sub[0], (std::vector<std::string_view>{"49", "2AF3", "2345"}));

  const auto sig = Sample("sign_vec.an2");
  auto s = ParseTransaction(sig);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->records[1].binary);
  EXPECT_EQ(s->records[1].length, 32u);
  EXPECT_EQ(s->records[1].data.size(), 20u);  // after the 12-byte Type-8 header
}

TEST(AnsiNistReader, ReadsFaceRecords) {
  struct Want {
    std::string file;
    int record;
    int width, height;
    std::optional<int> sap;
    Pose pose;
    bool searchable;
    std::string colour, date, agency;
  };
  const std::vector<Want> wants = {
      {"face_jpb_DOM_GMT_DCS.an2", 1, 768, 1024, 40, Pose::kFrontal, true, "SRGB", "2004-02-29",
       "MDNISTIG"},
      {"valid1.3.an2", 2, 300, 400, 14, Pose::kUnspecified, true, "YCC", "1960-09-03", "349392843"},
      {"valid1.11.an2", 3, 350, 526, 0, Pose::kAngled, false, "YCC", "1980-03-06", "129382743843"},
      {"valid1.16.an2", 3, 350, 526, 0, Pose::kFrontal, true, "YCC", "1980-03-06", "129382743843"},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(w.file);
    const auto bytes = Sample(w.file);
    auto t = ParseTransaction(bytes);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    auto f = ReadFaceRecord(t->records[static_cast<size_t>(w.record)]);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->image_type, "FACE");
    EXPECT_EQ(f->width, w.width);
    EXPECT_EQ(f->height, w.height);
    EXPECT_EQ(f->sap, w.sap);
    EXPECT_EQ(f->pose, w.pose);
    EXPECT_EQ(f->searchable(), w.searchable);
    EXPECT_EQ(f->compression, "JPEGB");
    EXPECT_EQ(f->colour_space, w.colour);
    EXPECT_EQ(f->capture_date, w.date);
    EXPECT_EQ(f->source_agency, w.agency);
    ASSERT_GE(f->image.size(), 4u);
    EXPECT_EQ(f->image[0], 0xFF);
    EXPECT_EQ(f->image[1], 0xD8);
    // The JPEG ends where the record ends: its EOI marker is the last two bytes.
    EXPECT_EQ(f->image[f->image.size() - 2], 0xFF);
    EXPECT_EQ(f->image[f->image.size() - 1], 0xD9);
  }
  // 1.11 records the angle: 10.021 = 120 degrees.
  const auto bytes = Sample("valid1.11.an2");
  auto t = ParseTransaction(bytes);
  ASSERT_TRUE(t.ok());
  auto f = ReadFaceRecord(t->records[3]);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->pose_offset_deg, 120);
  // A record of another type is not a face.
  auto not_face = ReadFaceRecord(t->records[4]);
  ASSERT_FALSE(not_face.ok());
  EXPECT_NE(not_face.status().message().find("record 4 (Type-13)"), std::string::npos);
}

// Replaces the first occurrence of `from` (after `after`) with `to`, in place.
void Replace(std::vector<uint8_t>& b, const std::string& from, const std::string& to,
             size_t after = 0) {
  std::string s(b.begin(), b.end());
  const size_t at = s.find(from, after);
  ASSERT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
  b.assign(s.begin(), s.end());
}

std::string ErrorOf(const std::vector<uint8_t>& bytes) {
  auto t = ParseTransaction(bytes);
  if (t.ok()) return "<parsed>";
  return t.status().message();
}

TEST(AnsiNistReader, EveryTruncationIsANamedError) {
  for (const std::string name : {"valid1.15.an2", "sign_vec.an2", "valid1.3.an2", "valid1.11.an2",
                                 "face_jpb_DOM_GMT_DCS.an2", "valid1.13.an2"}) {
    SCOPED_TRACE(name);
    const auto full = Sample(name);
    // Every length for the small files; a spread of lengths (and every byte around each record
    // boundary) for the larger ones.
    auto t = ParseTransaction(full);
    ASSERT_TRUE(t.ok());
    std::vector<size_t> cuts;
    const size_t step = full.size() < 2000 ? 1 : 97;
    for (size_t n = 0; n < full.size(); n += step) cuts.push_back(n);
    for (const Record& r : t->records) {
      for (size_t d = 0; d < 8; ++d) {
        if (r.offset + r.length >= d + 1) cuts.push_back(r.offset + r.length - 1 - d);
        if (r.offset + d < full.size()) cuts.push_back(r.offset + d);
      }
    }
    for (size_t n : cuts) {
      // A copy of exactly n bytes, so that ASan sees any read past it.
      std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      auto r = ParseTransaction(cut);
      ASSERT_FALSE(r.ok()) << "a transaction cut to " << n << " bytes parsed";
      const std::string m = r.status().message();
      EXPECT_TRUE(m.find("record ") != std::string::npos ||
                  m.find("not an ANSI/NIST-ITL") != std::string::npos)
          << n << ": " << m;
    }
  }
}

TEST(AnsiNistReader, LyingLengthsAreNamed) {
  const auto good = Sample("valid1.3.an2");
  {  // The Type-10 length claims more than the file holds.
    auto b = good;
    Replace(b, "10.001:25958", "10.001:95958");
    EXPECT_EQ(ErrorOf(b),
              "record 2 (Type-10) field 10.001: length 95958 runs past the end of the file "
              "(25958 bytes left)");
  }
  {  // ... or less: its stated end is not a record end.
    auto b = good;
    Replace(b, "10.001:25958", "10.001:25000");
    EXPECT_NE(ErrorOf(b).find("record 2 (Type-10) field 10.001"), std::string::npos) << ErrorOf(b);
  }
  {  // The Type-2 length lies short: FS appears before its stated end ... or not at it.
    auto b = good;
    Replace(b, "2.001:181", "2.001:191");
    EXPECT_NE(ErrorOf(b).find("record 1 (Type-2)"), std::string::npos) << ErrorOf(b);
  }
  {  // Not a number.
    auto b = good;
    Replace(b, "10.001:25958", "10.001:2595X");
    EXPECT_EQ(ErrorOf(b), "record 2 (Type-10) field 10.001: length '2595X' is not a number");
  }
  {  // 1.003 announces a record that is not there.
    auto b = good;
    Replace(b,
            "1.03:1\x1f"
            "2\x1e"
            "2\x1f"
            "00\x1e"
            "10\x1f"
            "01",
            "1.03:1\x1f"
            "3\x1e"
            "2\x1f"
            "00\x1e"
            "10\x1f"
            "01\x1e"
            "14\x1f"
            "02");
    // The Type-1 record is 6 bytes longer: its length says so (137 → 143).
    Replace(b, "1.01:137", "1.01:143");
    EXPECT_EQ(ErrorOf(b),
              "record 3 (Type-14): announced by 1.003 but the file ends at byte 26282 "
              "(truncated)");
  }
  {  // 1.003's count and its list disagree.
    auto b = good;
    Replace(b,
            "1.03:1\x1f"
            "2",
            "1.03:1\x1f"
            "5");
    EXPECT_EQ(ErrorOf(b), "record 0 (Type-1) field 1.003: announces 5 records but lists 2");
  }
  {  // A huge count is a limit, before anything is allocated for it.
    auto b = good;
    Replace(b,
            "1.03:1\x1f"
            "2",
            "1.03:1\x1f"
            "999999");
    Replace(b, "1.01:137", "1.01:142");
    auto t = ParseTransaction(b);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kResourceExhausted) << t.status().ToString();
  }
  {  // A binary record's length (first 4 bytes) lies.
    auto b = Sample("valid1.1.an2");
    auto t = ParseTransaction(b);
    ASSERT_TRUE(t.ok());
    const size_t at = t->records[2].offset;
    b[at] = 0x7F;
    EXPECT_NE(ErrorOf(b).find("record 2 (Type-4) field 4.001 (binary LEN): length "),
              std::string::npos)
        << ErrorOf(b);
    b[at] = 0;
    b[at + 1] = 0;
    b[at + 2] = 0;
    b[at + 3] = 3;
    EXPECT_EQ(ErrorOf(b),
              "record 2 (Type-4) field 4.001 (binary LEN): length 3 is shorter than the fixed "
              "header (18 bytes)");
  }
  {  // A field of another type inside a record.
    auto b = good;
    Replace(b, "2.018:brad", "3.018:brad");
    EXPECT_EQ(ErrorOf(b),
              "record 1 (Type-2) field 3.018: a field of another record type inside a Type-2 "
              "record");
  }
  {  // Not a transaction at all.
    EXPECT_NE(ErrorOf(Sample("SHA256SUMS")).find("not an ANSI/NIST-ITL"), std::string::npos);
    EXPECT_NE(ErrorOf({}).find("not an ANSI/NIST-ITL"), std::string::npos);
  }
}

TEST(AnsiNistReader, FaceRecordChecks) {
  auto face = [](std::vector<uint8_t> b) -> std::string {
    auto t = ParseTransaction(b);
    if (!t.ok()) return "parse: " + t.status().message();
    auto f = ReadFaceRecord(t->records[2]);
    return f.ok() ? std::string("<ok>") : f.status().message();
  };
  const auto good = Sample("valid1.3.an2");
  EXPECT_EQ(face(good), "<ok>");
  auto b = good;
  Replace(b, "10.003:FACE", "10.003:SCAR");
  EXPECT_EQ(face(b), "record 2 (Type-10) field 10.003: image type 'SCAR' is not a face");
  b = good;
  Replace(b, "10.011:JPEGB", "10.011:PNG  ");  // same length: the record stays well-formed
  EXPECT_EQ(face(b),
            "record 2 (Type-10) field 10.011: compression 'PNG  ' does not match the image data "
            "in 10.999");
  b = good;
  Replace(b, "10.005:19600903", "10.005:19600231");
  EXPECT_EQ(face(b),
            "record 2 (Type-10) field 10.005: capture date '19600231' is not a YYYYMMDD date");
}

}  // namespace
}  // namespace facetrail::interop
