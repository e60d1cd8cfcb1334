#include "interop/niem_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sodium.h>

#include <climits>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "interop/ansi_nist.h"

namespace facetrail::interop {
namespace {

void IgnoreGenericError(void* /*ctx*/, const char* /*msg*/, ...) {}
void IgnoreStructuredError(void* /*ctx*/, xmlErrorPtr /*error*/) {}

std::string_view LocalName(const xmlNode* n) {
  return n->name ? std::string_view(reinterpret_cast<const char*>(n->name)) : std::string_view();
}

bool IsElement(const xmlNode* n) {
  return n->type == XML_ELEMENT_NODE;
}

// The first child element named `name` (local name), or nullptr.
const xmlNode* Child(const xmlNode* n, std::string_view name) {
  if (!n) return nullptr;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (IsElement(c) && LocalName(c) == name) return c;
  }
  return nullptr;
}

// Follows a path of local names from `n`; nullptr when a step is missing.
const xmlNode* Path(const xmlNode* n, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) n = Child(n, name);
  return n;
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() &&
         (v.front() == ' ' || v.front() == '\t' || v.front() == '\r' || v.front() == '\n')) {
    v.remove_prefix(1);
  }
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) {
    v.remove_suffix(1);
  }
  return v;
}

// The text directly inside `n` (text and CDATA children), trimmed; "" for nullptr.
std::string Text(const xmlNode* n) {
  std::string out;
  if (!n) return out;
  for (const xmlNode* c = n->children; c; c = c->next) {
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
      out += reinterpret_cast<const char*>(c->content);
    }
  }
  return std::string(Trim(out));
}

bool HasElementChild(const xmlNode* n) {
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (IsElement(c)) return true;
  }
  return false;
}

class Reader {
 public:
  explicit Reader(const NiemOptions& options) : options_(options) {}

  // Counts elements and depth, refuses entity references (none can be substituted).
  Status CheckTree(const xmlNode* n, int depth) {
    if (depth > options_.max_depth) {
      return ResourceExhausted("NIEM XML line " + std::to_string(xmlGetLineNo(n)) +
                               ": elements nested deeper than " +
                               std::to_string(options_.max_depth) + " levels");
    }
    for (const xmlNode* c = n->children; c; c = c->next) {
      if (c->type == XML_ENTITY_REF_NODE || c->type == XML_ENTITY_NODE) {
        return InvalidArgument("NIEM XML line " + std::to_string(xmlGetLineNo(c)) +
                               ": entity references are not allowed");
      }
      if (!IsElement(c)) continue;
      if (++elements_ > options_.max_elements) {
        return ResourceExhausted("NIEM XML: more than " + std::to_string(options_.max_elements) +
                                 " elements");
      }
      FT_RETURN_IF_ERROR(CheckTree(c, depth + 1));
    }
    return Status::Ok();
  }

  // A text value within the size limit; `what` names it in errors.
  Expected<std::string> Value(const xmlNode* n, const std::string& what) const {
    std::string v = Text(n);
    if (v.size() > options_.max_text_bytes) {
      return InvalidArgument(what + ": text of " + std::to_string(v.size()) + " bytes (at most " +
                             std::to_string(options_.max_text_bytes) + ")");
    }
    return v;
  }

  Expected<std::vector<uint8_t>> Base64(const xmlNode* n, const std::string& what) const {
    std::string text = Text(n);
    if (text.size() / 4 > options_.max_image_bytes / 3 + 1) {
      return ResourceExhausted(what + ": an image of more than " +
                               std::to_string(options_.max_image_bytes) + " bytes");
    }
    std::vector<uint8_t> out(text.size() / 4 * 3 + 3);
    size_t len = 0;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), " \t\r\n", &len,
                          nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
      return InvalidArgument(what + ": not base64");
    }
    out.resize(len);
    return out;
  }

 private:
  const NiemOptions& options_;
  size_t elements_ = 0;
};

// "1953-04-23" → "19530423"; anything else unchanged (the Type-10 reader names what is wrong).
std::string CompactDate(const std::string& v) {
  if (v.size() == 10 && v[4] == '-' && v[7] == '-')
    return v.substr(0, 4) + v.substr(5, 2) + v.substr(8, 2);
  return v;
}

std::string RecordName(int index, const xmlNode* n) {
  const char* prefix =
      n->ns && n->ns->prefix ? reinterpret_cast<const char*>(n->ns->prefix) : nullptr;
  return "NIEM XML record " + std::to_string(index) + " (" +
         (prefix ? std::string(prefix) + ":" : std::string()) + std::string(LocalName(n)) + ")";
}

Expected<int> Number(const std::string& v, int max, const std::string& what) {
  std::string message = what;
  message.append(": '").append(v).append("' is not a number");
  if (v.empty() || v.size() > 3) return InvalidArgument(message);
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return InvalidArgument(message);
    n = n * 10 + (c - '0');
  }
  if (n > max) {
    message = what;
    message.append(": ").append(v).append(" is out of range (at most ");
    return InvalidArgument(message.append(std::to_string(max)).append(")"));
  }
  return n;
}

// The Type-1 fields of itl:PackageInformationRecord.
Status ReadHeader(const Reader& r, const xmlNode* rec, const std::string& name,
                  std::string* version, std::vector<std::pair<int, std::string>>* fields) {
  const xmlNode* t = Child(rec, "Transaction");
  if (!t) return InvalidArgument(name + ": no Transaction element");
  FT_ASSIGN_OR_RETURN(std::string major, r.Value(Child(t, "TransactionMajorVersionValue"),
                                                 name + " TransactionMajorVersionValue"));
  FT_ASSIGN_OR_RETURN(std::string minor, r.Value(Child(t, "TransactionMinorVersionValue"),
                                                 name + " TransactionMinorVersionValue"));
  if (major.size() != 2 || minor.size() != 2) {
    return InvalidArgument(name +
                           ": TransactionMajorVersionValue and TransactionMinorVersionValue must "
                           "be two digits each ('" +
                           major + "', '" + minor + "')");
  }
  *version = major + minor;
  const std::pair<int, const xmlNode*> sources[] = {
      {4, Child(t, "TransactionCategoryCode")},
      {5, Path(t, {"TransactionDate", "Date"})},
      {7, Path(t, {"TransactionDestinationOrganization", "OrganizationIdentification",
                   "IdentificationID"})},
      {8, Path(t, {"TransactionOriginatingOrganization", "OrganizationIdentification",
                   "IdentificationID"})},
      {9, Path(t, {"TransactionControlIdentification", "IdentificationID"})}};
  for (const auto& [number, node] : sources) {
    FT_ASSIGN_OR_RETURN(std::string v,
                        r.Value(node, name + " field 1.00" + std::to_string(number)));
    if (number == 5) v = CompactDate(v);
    if (!v.empty()) fields->emplace_back(number, std::move(v));
  }
  return Status::Ok();
}

// A Type-10 record (itl:PackageFacialAndSMTImageRecord) as the traditional fields.
Expected<RecordToWrite> ReadFace(const Reader& r, const xmlNode* rec, const std::string& name) {
  RecordToWrite out;
  out.type = 10;
  FT_ASSIGN_OR_RETURN(std::string idc_text,
                      r.Value(Path(rec, {"ImageReferenceIdentification", "IdentificationID"}),
                              name + " ImageReferenceIdentification"));
  FT_ASSIGN_OR_RETURN(out.idc, Number(idc_text, 255, name + " ImageReferenceIdentification"));
  const xmlNode* img = Child(rec, "FaceImage");
  if (!img) img = Child(rec, "PhysicalFeatureImage");
  if (!img) return InvalidArgument(name + ": no FaceImage or PhysicalFeatureImage element");
  const std::pair<int, const xmlNode*> sources[] = {
      {3, Child(img, "ImageCategoryCode")},
      {4, Path(img, {"ImageCaptureDetail", "CaptureOrganization", "OrganizationIdentification",
                     "IdentificationID"})},
      {5, Path(img, {"ImageCaptureDetail", "CaptureDate", "Date"})},
      {6, Child(img, "ImageHorizontalLineLengthPixelQuantity")},
      {7, Child(img, "ImageVerticalLineLengthPixelQuantity")},
      {11, Child(img, "ImageCompressionAlgorithmText")
               ? Child(img, "ImageCompressionAlgorithmText")
               : Child(img, "ImageCompressionAlgorithmCode")},
      {12, Child(img, "ImageColorSpaceCode")},
      {13, Child(img, "FaceImageAcquisitionProfileCode")},
      {20, Child(img, "FaceImageSubjectPoseCode")},
      {21, Child(img, "FaceImagePoseOffsetAngleMeasure")}};
  for (const auto& [number, node] : sources) {
    if (!node) continue;
    FT_ASSIGN_OR_RETURN(std::string v, r.Value(node, name + " " + std::string(LocalName(node))));
    if (number == 5) v = CompactDate(v);
    if (!v.empty()) out.fields.emplace_back(number, std::move(v));
  }
  if (const xmlNode* data = Child(img, "BinaryBase64Object")) {
    FT_ASSIGN_OR_RETURN(out.image, r.Base64(data, name + " BinaryBase64Object"));
  }
  return out;
}

// The leaf elements with text below `n`, named by their path of local names below `base`.
Status CollectLeaves(const Reader& r, const xmlNode* n, const std::string& path,
                     const std::string& name,
                     std::vector<std::pair<std::string, std::string>>* out) {
  for (const xmlNode* c = n->children; c; c = c->next) {
    if (!IsElement(c)) continue;
    const std::string p =
        path.empty() ? std::string(LocalName(c)) : path + "/" + std::string(LocalName(c));
    if (HasElementChild(c)) {
      FT_RETURN_IF_ERROR(CollectLeaves(r, c, p, name, out));
      continue;
    }
    std::string what = name;
    what.append(" ").append(p);
    FT_ASSIGN_OR_RETURN(std::string v, r.Value(c, what));
    if (!v.empty()) out->emplace_back(p, std::move(v));
  }
  return Status::Ok();
}

}  // namespace

bool LooksLikeXml(std::span<const uint8_t> bytes) {
  size_t i = 0;
  if (bytes.size() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) i = 3;
  while (i < bytes.size() &&
         (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\r' || bytes[i] == '\n')) {
    ++i;
  }
  return i < bytes.size() && bytes[i] == '<';
}

Expected<NiemPackage> ReadNiemXml(std::span<const uint8_t> bytes, const NiemOptions& options) {
  if (bytes.size() > options.max_bytes || bytes.size() > static_cast<size_t>(INT_MAX)) {
    return ResourceExhausted("NIEM XML: " + std::to_string(bytes.size()) + " bytes (at most " +
                             std::to_string(options.max_bytes) + ")");
  }
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  // libxml2's error handlers are per thread: nothing is printed, the context keeps the error.
  xmlSetGenericErrorFunc(nullptr, IgnoreGenericError);
  xmlSetStructuredErrorFunc(nullptr, IgnoreStructuredError);
  std::unique_ptr<xmlParserCtxt, void (*)(xmlParserCtxtPtr)> ctxt(xmlNewParserCtxt(),
                                                                  xmlFreeParserCtxt);
  if (!ctxt) return Internal("NIEM XML: cannot allocate a parser");
  // NONET: no network; no NOENT (entities are not substituted), no DTDLOAD, no HUGE (libxml2's
  // limits on text size, depth and entity amplification stay on), no XINCLUDE.
  const int flags = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
      xmlCtxtReadMemory(ctxt.get(), reinterpret_cast<const char*>(bytes.data()),
                        static_cast<int>(bytes.size()), nullptr, nullptr, flags),
      xmlFreeDoc);
  if (!doc) {
    const xmlError* e = xmlCtxtGetLastError(ctxt.get());
    std::string message = e && e->message ? std::string(Trim(e->message)) : "not well-formed";
    return InvalidArgument("NIEM XML line " + std::to_string(e ? e->line : 0) + ": " + message);
  }
  if (doc->intSubset || doc->extSubset) {
    return InvalidArgument("NIEM XML: a document type declaration (DTD) is not allowed");
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!root || LocalName(root) != "NISTBiometricInformationExchangePackage" || !root->ns ||
      !root->ns->href ||
      std::string_view(reinterpret_cast<const char*>(root->ns->href))
              .rfind("http://biometrics.nist.gov/standard/", 0) != 0) {
    return InvalidArgument(
        "NIEM XML: the root element is not itl:NISTBiometricInformationExchangePackage");
  }
  Reader reader(options);
  FT_RETURN_IF_ERROR(reader.CheckTree(root, 1));

  NiemPackage out;
  out.xml_positions.push_back(0);
  std::string version;
  std::vector<std::pair<int, std::string>> type1;
  std::vector<RecordToWrite> faces;
  bool type2_seen = false;
  for (const xmlNode* rec = root->children; rec; rec = rec->next) {
    if (!IsElement(rec)) continue;
    const int index = out.records;
    const std::string name = RecordName(index, rec);
    if (static_cast<size_t>(++out.records) > options.max_records) {
      return ResourceExhausted("NIEM XML: more than " + std::to_string(options.max_records) +
                               " records");
    }
    FT_ASSIGN_OR_RETURN(std::string code_text, reader.Value(Child(rec, "RecordCategoryCode"),
                                                            name + " RecordCategoryCode"));
    FT_ASSIGN_OR_RETURN(int type, Number(code_text, 99, name + " RecordCategoryCode"));
    if ((index == 0) != (type == 1)) {
      return InvalidArgument(
          name + ": " +
          (index == 0 ? "the first record is not the Type-1 record" : "a second Type-1 record"));
    }
    if (type == 1) {
      FT_RETURN_IF_ERROR(ReadHeader(reader, rec, name, &version, &type1));
    } else if (type == 10) {
      FT_ASSIGN_OR_RETURN(RecordToWrite face, ReadFace(reader, rec, name));
      faces.push_back(std::move(face));
      out.xml_positions.push_back(index);
    } else if (type == 2 && !type2_seen) {
      type2_seen = true;
      const xmlNode* content = Child(rec, "UserDefinedDescriptiveText");
      if (!content) content = Child(rec, "UserDefinedDescriptiveDetail");
      if (content)
        FT_RETURN_IF_ERROR(CollectLeaves(reader, content, "", name, &out.type2_elements));
    }
  }
  if (out.records == 0) return InvalidArgument("NIEM XML: the package holds no record");
  // The header's record count (1.003's first subfield), when given, must match, as it must in a
  // traditional file.
  const xmlNode* count = Path(root, {"PackageInformationRecord", "Transaction",
                                     "TransactionContentSummary", "ContentRecordCount"});
  if (count) {
    FT_ASSIGN_OR_RETURN(std::string text, reader.Value(count, "ContentRecordCount"));
    auto announced = Number(text, 999, "NIEM XML record 0 ContentRecordCount");
    if (!announced.ok()) return announced.status();
    if (*announced != out.records - 1) {
      return InvalidArgument("NIEM XML record 0 ContentRecordCount: announces " + text +
                             " records but the package holds " + std::to_string(out.records - 1));
    }
  }
  auto traditional = WriteTransaction(version, type1, faces);
  if (!traditional.ok()) return traditional.status().WithContext("NIEM XML");
  out.traditional = std::move(*traditional);
  return out;
}

}  // namespace facetrail::interop
