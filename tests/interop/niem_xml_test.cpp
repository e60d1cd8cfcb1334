// The NIEM XML form of ANSI/NIST-ITL (interop/niem_xml.h): NIST's sample package refused with its
// reasons exactly like a traditional file, a package with a real face imported with its Type-2
// elements mapped by the booking mapping ("xml:" sources) and the rest kept raw, and hostile XML
// (DTDs, external entities, entity expansion, depth, size, truncation, bad base64) refused.
#include "interop/niem_xml.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/file.h"
#include "interop/ansi_nist.h"
#include "interop/import.h"

namespace facetrail::interop {
namespace {

const std::string kSamples = FACETRAIL_SHARED_DIR "/data/ansi-nist-samples";

std::vector<uint8_t> Sample(const std::string& name) {
  auto bytes = ReadFileBytes(kSamples + "/" + name);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

std::string Base64(std::span<const uint8_t> in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t{in[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// The JPEG face of valid1.3.an2.
std::vector<uint8_t> RealFace() {
  static const std::vector<uint8_t> kFace = [] {
    const auto bytes = Sample("valid1.3.an2");
    auto t = ParseTransaction(bytes);
    EXPECT_TRUE(t.ok());
    for (const Record& r : t->records) {
      if (r.type != 10) continue;
      auto f = ReadFaceRecord(r);
      EXPECT_TRUE(f.ok());
      return std::vector<uint8_t>(f->image.begin(), f->image.end());
    }
    return std::vector<uint8_t>();
  }();
  return kFace;
}

// A NIEM XML package (ITL 2-2008 namespaces) with a Type-2 record holding `type2` and one
// Type-10 face record per entry of `faces` (IDC, pose code, image bytes).
std::string Package(const std::string& type2, const std::vector<std::string>& faces) {
  std::string x =
      R"(<?xml version="1.0" encoding="UTF-8"?>
<itl:NISTBiometricInformationExchangePackage xmlns:itl="http://biometrics.nist.gov/standard/2-2008" xmlns:ansi-nist="http://niem.gov/niem/ansi-nist/2.0" xmlns:nc="http://niem.gov/niem/niem-core/2.0" xmlns:ebts="http://cjis.fbi.gov/fbi_ebts/10.0">
  <itl:PackageInformationRecord>
    <ansi-nist:RecordCategoryCode>01</ansi-nist:RecordCategoryCode>
    <ansi-nist:Transaction>
      <ansi-nist:TransactionDate><nc:Date>2026-11-30</nc:Date></ansi-nist:TransactionDate>
      <ansi-nist:TransactionDestinationOrganization><nc:OrganizationIdentification><nc:IdentificationID>MPD000000</nc:IdentificationID></nc:OrganizationIdentification></ansi-nist:TransactionDestinationOrganization>
      <ansi-nist:TransactionOriginatingOrganization><nc:OrganizationIdentification><nc:IdentificationID>XY0123400</nc:IdentificationID></nc:OrganizationIdentification></ansi-nist:TransactionOriginatingOrganization>
      <ansi-nist:TransactionControlIdentification><nc:IdentificationID>TCN-77</nc:IdentificationID></ansi-nist:TransactionControlIdentification>
      <ansi-nist:TransactionMajorVersionValue>05</ansi-nist:TransactionMajorVersionValue>
      <ansi-nist:TransactionMinorVersionValue>00</ansi-nist:TransactionMinorVersionValue>
      <ansi-nist:TransactionCategoryCode>CAR</ansi-nist:TransactionCategoryCode>
    </ansi-nist:Transaction>
  </itl:PackageInformationRecord>
  <itl:PackageDescriptiveTextRecord>
    <ansi-nist:RecordCategoryCode>02</ansi-nist:RecordCategoryCode>
    <ansi-nist:ImageReferenceIdentification><nc:IdentificationID>00</nc:IdentificationID></ansi-nist:ImageReferenceIdentification>
    <itl:UserDefinedDescriptiveText>)" +
      type2 + R"(</itl:UserDefinedDescriptiveText>
  </itl:PackageDescriptiveTextRecord>
)";
  x += faces.empty() ? "" : std::string();
  for (const std::string& f : faces) x += f;
  x += "</itl:NISTBiometricInformationExchangePackage>\n";
  return x;
}

std::string Face(int idc, const std::string& pose, const std::string& base64,
                 const std::string& category = "FACE") {
  return R"(  <itl:PackageFacialAndSMTImageRecord>
    <ansi-nist:RecordCategoryCode>10</ansi-nist:RecordCategoryCode>
    <ansi-nist:ImageReferenceIdentification><nc:IdentificationID>)" +
         std::to_string(idc) + R"(</nc:IdentificationID></ansi-nist:ImageReferenceIdentification>
    <itl:FaceImage>
      <nc:BinaryBase64Object>)" +
         base64 + R"(</nc:BinaryBase64Object>
      <ansi-nist:ImageCaptureDetail>
        <ansi-nist:CaptureDate><nc:Date>2026-11-29</nc:Date></ansi-nist:CaptureDate>
        <ansi-nist:CaptureOrganization><nc:OrganizationIdentification><nc:IdentificationID>XY0123400</nc:IdentificationID></nc:OrganizationIdentification></ansi-nist:CaptureOrganization>
      </ansi-nist:ImageCaptureDetail>
      <ansi-nist:ImageColorSpaceCode>YCC</ansi-nist:ImageColorSpaceCode>
      <ansi-nist:ImageCompressionAlgorithmText>JPEGB</ansi-nist:ImageCompressionAlgorithmText>
      <ansi-nist:ImageHorizontalLineLengthPixelQuantity>300</ansi-nist:ImageHorizontalLineLengthPixelQuantity>
      <ansi-nist:ImageCategoryCode>)" +
         category + R"(</ansi-nist:ImageCategoryCode>
      <ansi-nist:ImageVerticalLineLengthPixelQuantity>400</ansi-nist:ImageVerticalLineLengthPixelQuantity>
      <ansi-nist:FaceImageAcquisitionProfileCode>40</ansi-nist:FaceImageAcquisitionProfileCode>
      <ansi-nist:FaceImageSubjectPoseCode>)" +
         pose + R"(</ansi-nist:FaceImageSubjectPoseCode>
    </itl:FaceImage>
  </itl:PackageFacialAndSMTImageRecord>
)";
}

const std::string kPerson = R"(
      <ebts:RecordSubject>
        <nc:PersonName><nc:PersonFullName>DOE,JANE</nc:PersonFullName></nc:PersonName>
        <nc:PersonBirthDate><nc:Date>1990-07-14</nc:Date></nc:PersonBirthDate>
        <nc:PersonSexCode>F</nc:PersonSexCode>
        <nc:PersonRaceCode>W</nc:PersonRaceCode>
        <ebts:PersonOccupationText>welder</ebts:PersonOccupationText>
      </ebts:RecordSubject>
      <ebts:RecordActivity><ebts:CaseNumber>MPD-26-0815</ebts:CaseNumber></ebts:RecordActivity>
)";

TEST(NiemXml, SamplePackageRefusedWithItsReasonsLikeATraditionalFile) {
  const auto bytes = Sample("All-Supported-Records-test-comp.xml");
  ASSERT_TRUE(LooksLikeXml(bytes));
  auto p = ReadNiemXml(bytes);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->records, 23);               // Type-1 and the 22 its ContentRecordCount announces
  EXPECT_TRUE(p->type2_elements.empty());  // its Type-2 record is empty
  auto t = ParseTransaction(p->traditional);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->version, "0400");
  EXPECT_EQ(t->type_of_transaction, "CAR");
  EXPECT_EQ(t->date, "20070706");
  EXPECT_EQ(t->originating_agency, "WI013415Y");
  EXPECT_EQ(t->destination_agency, "WI013415Y");
  EXPECT_EQ(t->control_number, "56839");
  ASSERT_EQ(t->records.size(), 3u);  // Type-1 and the two Type-10 records
  EXPECT_EQ(t->records[1].type, 10);
  EXPECT_EQ(t->records[1].idc, 8);
  EXPECT_EQ(p->xml_positions, (std::vector<int>{0, 11, 12}));

  // Its face record holds a placeholder, not the JPEG its 10.011 announces; the other is a tattoo.
  auto photos =
      TransactionPhotos("All-Supported-Records-test-comp.xml", bytes, DefaultEbtsMapping());
  ASSERT_EQ(photos.size(), 2u);
  EXPECT_EQ(photos[0].label,
            "All-Supported-Records-test-comp.xml record 1 (Type-10) = NIEM XML record 11");
  EXPECT_EQ(photos[0].reject_reason.rfind(
                "malformed face record: record 1 (Type-10) field 10.011: compression "
                "'JPEGB' does not match the image data",
                0),
            0u)
      << photos[0].reject_reason;
  EXPECT_EQ(
      photos[1].reject_reason.rfind("not a face image: record 2 (Type-10) field 10.003: image "
                                    "type 'TATTOO'",
                                    0),
      0u)
      << photos[1].reject_reason;
}

TEST(NiemXml, FacePackageImportedWithItsElementsMapped) {
  const std::string face64 = Base64(RealFace());
  const std::string xml = Package(kPerson, {Face(1, "F", face64), Face(2, "R", face64)});
  auto photos = TransactionPhotos("booking.xml", Bytes(xml), DefaultEbtsMapping());
  ASSERT_EQ(photos.size(), 2u);
  for (const auto& p : photos) ASSERT_EQ(p.reject_reason, "") << p.label;
  const gallery::PreparedPhoto& front = photos[0];
  EXPECT_EQ(front.booking.booking_number, "XY0123400-TCN-77");  // no mapped number: ORI-TCN
  EXPECT_EQ(front.booking.name, "DOE,JANE");
  EXPECT_EQ(front.booking.dob, "1990-07-14");
  EXPECT_EQ(front.booking.sex, "F");
  EXPECT_EQ(front.booking.race_ethnicity, "W");
  EXPECT_EQ(front.booking.agency, "XY0123400");  // 1.008
  EXPECT_EQ(front.photo.bytes, RealFace());
  EXPECT_EQ(front.photo.capture_date, "2026-11-29");
  EXPECT_EQ(front.photo.source, "ansi-nist:XY0123400/TCN-77/10.1");
  EXPECT_TRUE(front.photo.searchable);
  EXPECT_FALSE(photos[1].photo.searchable);  // the right profile: kept, not searched
  auto origin = nlohmann::json::parse(front.photo.origin);
  EXPECT_EQ(origin["format"], "ANSI/NIST-ITL NIEM XML");
  EXPECT_EQ(origin["face"]["sap"], 40);
  EXPECT_EQ(origin["face"]["pose"], "frontal");
  EXPECT_EQ(origin["face"]["source_agency"], "XY0123400");
  EXPECT_EQ(origin["transaction"]["version"], "0500");
  EXPECT_EQ(origin["transaction"]["date"], "20261130");
  // Unmapped elements are kept, by path; mapped ones are not repeated.
  EXPECT_EQ(origin["unmapped"]["xml:RecordSubject/PersonOccupationText"], "welder");
  EXPECT_EQ(origin["unmapped"]["xml:RecordActivity/CaseNumber"], "MPD-26-0815");
  EXPECT_FALSE(origin["unmapped"].contains("xml:RecordSubject/PersonName/PersonFullName"));

  // The agency's own mapping file names its elements.
  auto mapping = ParseBookingMapping(
      R"({"fields": {"booking_number": ["2.009", "xml:RecordActivity/CaseNumber"],
                     "name": ["xml:PersonFullName"], "charge": ["xml:PersonOccupationText"]}})");
  ASSERT_TRUE(mapping.ok()) << mapping.status().ToString();
  auto mapped = TransactionPhotos("booking.xml", Bytes(xml), *mapping);
  ASSERT_EQ(mapped[0].reject_reason, "");
  EXPECT_EQ(mapped[0].booking.booking_number, "MPD-26-0815");
  EXPECT_EQ(mapped[0].booking.name, "DOE,JANE");
  EXPECT_EQ(mapped[0].booking.charge, "welder");
  EXPECT_EQ(mapped[0].booking.dob, std::nullopt);  // not mapped here: kept raw
  EXPECT_EQ(nlohmann::json::parse(
                mapped[0].photo.origin)["unmapped"]["xml:RecordSubject/PersonBirthDate/Date"],
            "1990-07-14");

  // A mapped date that is not a date refuses the package, naming the element.
  const std::string bad_date =
      Package("<nc:PersonBirthDate><nc:Date>14.07.1990</nc:Date></nc:PersonBirthDate>",
              {Face(1, "F", face64)});
  auto refused = TransactionPhotos("bad.xml", Bytes(bad_date), DefaultEbtsMapping());
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].reject_reason,
            "malformed field: NIEM XML Type-2 element xml:PersonBirthDate/Date (dob): '14.07.1990' "
            "is not a date");
  for (const std::string bad :
       {R"({"fields": {"name": ["xml:"]}})", R"({"fields": {"name": ["xml:a//b"]}})",
        R"({"fields": {"name": ["xml:a b"]}})"}) {
    EXPECT_FALSE(ParseBookingMapping(bad).ok()) << bad;
  }
}

TEST(NiemXml, NoFaceRecordAndFolderListing) {
  auto photos = TransactionPhotos("nofaces.xml", Bytes(Package(kPerson, {})), DefaultEbtsMapping());
  ASSERT_EQ(photos.size(), 1u);
  EXPECT_EQ(photos[0].reject_reason, "no face record: the transaction has no Type-10 record");
  auto files = ListTransactionFiles({kSamples});
  ASSERT_TRUE(files.ok());
  EXPECT_NE(
      std::find(files->begin(), files->end(), kSamples + "/All-Supported-Records-test-comp.xml"),
      files->end());
}

Status ReadStatus(const std::string& xml, const NiemOptions& options = {}) {
  const auto bytes = Bytes(xml);
  return ReadNiemXml(bytes, options).status();
}

TEST(NiemXml, HostileXmlRefused) {
  const std::string face64 = Base64(RealFace());
  const std::string good = Package(kPerson, {Face(1, "F", face64)});
  ASSERT_TRUE(ReadStatus(good).ok()) << ReadStatus(good).ToString();
  const std::string root_open = good.substr(good.find("<itl:NIST"));

  // External entities (a file, the network) and a DTD of any kind are refused; nothing is read.
  for (
      const std::string& dtd :
      {std::string(R"(<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>)"),
       std::string(R"(<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">)"),
       std::string(
           R"(<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">)"
           R"(<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">)"
           R"(<!ENTITY e2 "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e2;&e2;&e2;&e2;&e2;&e2;&e2;&e2;&e2;&e2;">]>)")}) {
    std::string xml = "<?xml version=\"1.0\"?>\n" + dtd + "\n" + root_open;
    const std::string entity_use = dtd.find("passwd") != std::string::npos ? "&e;" : "&f;";
    xml.replace(xml.find("welder"), 6, entity_use);
    Status s = ReadStatus(xml);
    EXPECT_FALSE(s.ok()) << dtd;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.message().find("root:"), std::string::npos) << s.ToString();  // no file content
  }
  // An entity reference without a DTD: not well-formed.
  {
    std::string xml = good;
    xml.replace(xml.find("welder"), 6, "&undefined;");
    EXPECT_FALSE(ReadStatus(xml).ok());
  }
  // Depth, element count, size and image limits.
  {
    std::string deep;
    for (int i = 0; i < 40; ++i) deep += "<ebts:D>";
    deep += "x";
    for (int i = 0; i < 40; ++i) deep += "</ebts:D>";
    Status s = ReadStatus(Package(deep, {}));
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
    NiemOptions few;
    few.max_elements = 10;
    EXPECT_EQ(ReadStatus(good, few).code(), StatusCode::kResourceExhausted);
    NiemOptions small;
    small.max_bytes = 100;
    EXPECT_EQ(ReadStatus(good, small).code(), StatusCode::kResourceExhausted);
    NiemOptions tiny_image;
    tiny_image.max_image_bytes = 1000;
    EXPECT_EQ(ReadStatus(good, tiny_image).code(), StatusCode::kResourceExhausted);
    NiemOptions one_record;
    one_record.max_records = 1;
    EXPECT_EQ(ReadStatus(good, one_record).code(), StatusCode::kResourceExhausted);
  }
  // Not base64, a bad IDC, a wrong root, a missing header, the header not first.
  EXPECT_EQ(
      ReadStatus(Package(kPerson, {Face(1, "F", "%%%notbase64%%%")})).message(),
      "NIEM XML record 2 (itl:PackageFacialAndSMTImageRecord) BinaryBase64Object: not base64");
  EXPECT_FALSE(ReadStatus(Package(kPerson, {Face(1000, "F", face64)})).ok());
  EXPECT_FALSE(ReadStatus("<?xml version=\"1.0\"?><html><body/></html>").ok());
  EXPECT_FALSE(ReadStatus("<itl:NISTBiometricInformationExchangePackage "
                          "xmlns:itl=\"http://example.com/\"/>")
                   .ok());
  {
    std::string xml = good;
    const size_t a = xml.find("<itl:PackageInformationRecord>");
    const size_t b = xml.find("</itl:PackageInformationRecord>") + 31;
    xml.erase(a, b - a);
    EXPECT_FALSE(ReadStatus(xml).ok());
  }
  {
    const auto sample = Sample("All-Supported-Records-test-comp.xml");
    std::string xml(sample.begin(), sample.end());
    xml.replace(xml.find("<ansi-nist:ContentRecordCount>22<"), 33,
                "<ansi-nist:ContentRecordCount>21<");
    EXPECT_EQ(
        ReadStatus(xml).message(),
        "NIEM XML record 0 ContentRecordCount: announces 21 records but the package holds 22");
  }
  // Cut anywhere: an error, never a crash (every 61st byte; under FACETRAIL_SANITIZE no over-read).
  for (size_t n = 0; n < good.size(); n += 61) {
    EXPECT_FALSE(ReadStatus(good.substr(0, n)).ok()) << n;
  }
}

}  // namespace
}  // namespace facetrail::interop
