// The signed case package (issue 16, "Export for court and for another agency's examiner"): the
// case file of one released lead (service/case_file.h) written to a folder with a manifest of
// SHA-256 sums signed with the department's Ed25519 audit key, and its offline verification.
//
// THE PACKAGE (a folder; format "facetrail-case-package-v1", docs/REVIEW.md)
//   case.json          CaseFileJson(file, /*inline_images=*/false) plus the file name of the
//                      probe ("probe.file") and of each photo ("candidates[i].photo.file")
//   probe.<ext>        the probe, byte for byte as uploaded (absent once purged under retention)
//   photos/rank-<R>-photo-<ID>.<ext>   the photo of each examined candidate the exporter's role
//                      may see
//   manifest.txt       "facetrail-case-package-v1\n" "request: <N>\n" "created: <UTC>\n"
//                      "key-id: <16 hex>\n", then one line per file above, sorted by path:
//                      "<sha256 hex>  <path>\n"
//   manifest.sig       the Ed25519 signature of manifest.txt's bytes, 128 hex and "\n"
//   signing-key.pub    the signer's public key, 64 hex and "\n"
//
// TRUST
//   The signature proves nothing by itself: anyone can re-sign a changed package with their own
//   key and put that key in signing-key.pub. VerifyCasePackage therefore requires the verifier's
//   own trusted key (a copy of the department's audit public key obtained outside the package,
//   or its key id as `facetrail admin signing-key` and `admin init` print it) and fails unless
//   the package's key is that key. The key is the audit log's checkpoint key (audit/audit.h,
//   docs/AUDIT.md): one key for the department's signed records, its first line keeping a case
//   manifest from ever reading as a checkpoint.
#pragma once

#include <string>
#include <vector>

#include "audit/audit.h"
#include "gallery/gallery_store.h"
#include "service/case_file.h"
#include "service/context.h"

namespace facetrail::service {

inline constexpr std::string_view kCasePackageFormat = "facetrail-case-package-v1";

struct CasePackage {
  std::string dir;
  int64_t request_id = 0;
  std::string case_number;
  std::string key_id;
  std::vector<std::string> files;  // the paths the manifest lists, sorted
};

// Builds the case file (BuildCaseFile, audited "case.export"; its refusals and errors are
// returned unchanged) and writes the package to `dir`, which must not exist (kAlreadyExists);
// the folder is made 0700 and the files 0600 in a temporary folder beside it and renamed into
// place, so `dir` is either the complete package or absent.
Expected<CasePackage> ExportCasePackage(Context& ctx, const Actor& actor,
                                        gallery::GalleryStore& gallery, int64_t request_id,
                                        const audit::SigningKey& key, const std::string& dir);

// The keys a verifier trusts, from outside the package: full public keys and/or key ids.
struct CaseTrust {
  std::vector<audit::PublicKey> keys;
  std::vector<std::string> key_ids;  // PublicKey::KeyId(), 16 hex
};

struct CasePackageCheck {
  int64_t request_id = 0;
  std::string key_id;              // of signing-key.pub, when readable
  std::vector<std::string> files;  // listed in the manifest
  // Empty when the package verifies. Each names the file concerned: "probe.jpg: changed
  // (SHA-256 …, the manifest says …)", "photos/x.jpg: not in the manifest (added)", ...
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// Checks a package offline (no database): signing-key.pub is one of `trust`'s keys, manifest.sig
// is its signature of manifest.txt, every listed file exists and has its SHA-256, and no other
// file or link is in the folder. kInvalidArgument when `trust` is empty (a package's own key
// proves nothing); kNotFound when `dir` is not a folder. Everything else is a problem in the
// result. Input limits: at most 10,000 entries; manifest.txt at most 1 MiB.
Expected<CasePackageCheck> VerifyCasePackage(const std::string& dir, const CaseTrust& trust);

}  // namespace facetrail::service
