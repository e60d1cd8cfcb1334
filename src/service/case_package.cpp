// ExportCasePackage and VerifyCasePackage (service/case_package.h).
#include "service/case_package.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "common/file.h"
#include "common/sha256.h"

namespace facetrail::service {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kManifest = "manifest.txt";
constexpr std::string_view kSignature = "manifest.sig";
constexpr std::string_view kPublicKey = "signing-key.pub";
constexpr size_t kMaxEntries = 10'000;
constexpr size_t kMaxManifestBytes = size_t{1} << 20;

// Writes a new file (O_EXCL, mode 0600 whatever the umask) and syncs it.
Status WriteNew(const std::string& path, std::span<const uint8_t> data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError(path + ": cannot create: " + ErrnoMessage(errno));
  size_t done = 0;
  bool ok = ::fchmod(fd, 0600) == 0;
  while (ok && done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return IoError(path + ": cannot write: " + ErrnoMessage(err));
  return Status::Ok();
}

Status WriteNew(const std::string& path, std::string_view text) {
  return WriteNew(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status SyncDir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError(path + ": cannot open folder: " + ErrnoMessage(errno));
  const bool ok = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return IoError(path + ": cannot sync folder: " + ErrnoMessage(err));
  return Status::Ok();
}

bool IsLowerHex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A path as the manifest may list it: one or two components of [A-Za-z0-9._-], none starting
// with '.', and not one of the package's own files.
bool IsListablePath(std::string_view path) {
  if (path.empty() || path.size() > 200) return false;
  if (path == kManifest || path == kSignature || path == kPublicKey) return false;
  size_t parts = 0;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part[0] == '.') return false;
    for (char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
    ++parts;
    start = end + 1;
  }
  return parts <= 2;
}

std::string AsText(const std::vector<uint8_t>& bytes) {
  return {bytes.begin(), bytes.end()};
}

// Reads a small file of the package that must be exactly `hex_chars` lower-case hex and "\n".
std::optional<std::string> ReadHexLine(const std::string& path, size_t hex_chars) {
  auto bytes = ReadFileBytes(path, hex_chars + 1);
  if (!bytes.ok()) return std::nullopt;
  std::string text = AsText(*bytes);
  if (text.size() != hex_chars + 1 || text.back() != '\n') return std::nullopt;
  text.pop_back();
  if (!IsLowerHex(text, hex_chars)) return std::nullopt;
  return text;
}

struct Manifest {
  int64_t request_id = 0;
  std::string key_id;
  std::map<std::string, std::string> files;  // path -> sha256
};

// Parses a signed manifest; the error names what is wrong (a signed manifest that does not
// parse was made by another program).
Expected<Manifest> ParseManifest(std::string_view text) {
  Manifest m;
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return InvalidArgument("the last line has no newline");
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() < 4 || lines[0] != kCasePackageFormat) {
    return InvalidArgument("not a " + std::string(kCasePackageFormat) + " manifest");
  }
  if (lines[1].rfind("request: ", 0) != 0 || lines[2].rfind("created: ", 0) != 0 ||
      lines[3].rfind("key-id: ", 0) != 0) {
    return InvalidArgument("the header lines (request, created, key-id) are malformed");
  }
  try {
    size_t used = 0;
    const std::string id(lines[1].substr(9));
    m.request_id = std::stoll(id, &used);
    if (used != id.size()) return InvalidArgument("the request id is not a number");
  } catch (const std::exception&) {
    return InvalidArgument("the request id is not a number");
  }
  m.key_id = std::string(lines[3].substr(8));
  std::string previous;
  for (size_t i = 4; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.size() < 67 || line.substr(64, 2) != "  " || !IsLowerHex(line.substr(0, 64), 64)) {
      return InvalidArgument("line " + std::to_string(i + 1) + " is not '<sha256>  <path>'");
    }
    std::string path(line.substr(66));
    if (!IsListablePath(path)) {
      return InvalidArgument("line " + std::to_string(i + 1) + ": path '" + path +
                             "' is not allowed in a package");
    }
    if (!previous.empty() && path <= previous) {
      return InvalidArgument("line " + std::to_string(i + 1) + ": paths not sorted or repeated");
    }
    previous = path;
    m.files[path] = std::string(line.substr(0, 64));
  }
  return m;
}

}  // namespace

Expected<CasePackage> ExportCasePackage(Context& ctx, const Actor& actor,
                                        gallery::GalleryStore& gallery, int64_t request_id,
                                        const audit::SigningKey& key, const std::string& dir) {
  if (dir.empty()) return InvalidArgument("--out: the package folder is empty");
  std::error_code ec;
  if (fs::symlink_status(dir, ec).type() != fs::file_type::not_found) {
    return AlreadyExists(dir + ": exists; a package is written to a new folder");
  }
  FT_ASSIGN_OR_RETURN(CaseFile file,
                      BuildCaseFile(ctx, actor, gallery, request_id, CaseFileUse::kExport));

  // Every file of the package, by path.
  std::map<std::string, std::vector<uint8_t>> files;
  nlohmann::json j = CaseFileJson(file, /*inline_images=*/false);
  if (!file.probe.bytes.empty()) {
    const std::string probe_name = "probe." + ImageExtension(file.probe.bytes);
    j["probe"]["file"] = probe_name;
    files[probe_name] = file.probe.bytes;
  }
  for (size_t i = 0; i < file.candidates.size(); ++i) {
    const CaseCandidate& c = file.candidates[i];
    if (!c.photo || c.photo->bytes.empty()) continue;
    const std::string name = "photos/rank-" + std::to_string(c.candidate.rank) + "-photo-" +
                             std::to_string(c.photo->id) + "." + ImageExtension(c.photo->bytes);
    j["candidates"][i]["photo"]["file"] = name;
    files[name] = c.photo->bytes;
  }
  const std::string case_json = j.dump(2) + "\n";
  files["case.json"] = std::vector<uint8_t>(case_json.begin(), case_json.end());

  CasePackage out{dir, request_id, file.case_number, key.public_key.KeyId(), {}};
  std::string manifest = std::string(kCasePackageFormat) +
                         "\nrequest: " + std::to_string(request_id) +
                         "\ncreated: " + file.generated_at + "\nkey-id: " + out.key_id + "\n";
  for (const auto& [path, bytes] : files) {
    manifest += Sha256Hex(bytes) + "  " + path + "\n";
    out.files.push_back(path);
  }
  const std::string signature = audit::SignMessage(key, manifest) + "\n";
  const std::string public_key = ToHex(key.public_key.bytes) + "\n";

  // Written beside the destination, then renamed into place.
  fs::path target = fs::absolute(fs::path(dir), ec).lexically_normal();
  if (ec) return IoError(dir + ": " + ec.message());
  if (target.filename().empty()) target = target.parent_path();  // written as "out/"
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (parent / (target.filename().string() + ".partial-XXXXXX")).string();
  if (::mkdtemp(tmp.data()) == nullptr) {
    return IoError(parent.string() + ": cannot create a folder: " + ErrnoMessage(errno));
  }
  auto write_all = [&]() -> Status {
    if (::chmod(tmp.c_str(), 0700) != 0) return IoError(tmp + ": " + ErrnoMessage(errno));
    bool photos = false;
    for (const auto& [path, bytes] : files) {
      if (path.rfind("photos/", 0) == 0 && !photos) {
        if (::mkdir((tmp + "/photos").c_str(), 0700) != 0) {
          return IoError(tmp + "/photos: " + ErrnoMessage(errno));
        }
        photos = true;
      }
      std::string full = tmp;
      full += '/';
      full += path;
      FT_RETURN_IF_ERROR(WriteNew(full, bytes));
    }
    if (photos) FT_RETURN_IF_ERROR(SyncDir(tmp + "/photos"));
    FT_RETURN_IF_ERROR(WriteNew(tmp + "/" + std::string(kManifest), manifest));
    FT_RETURN_IF_ERROR(WriteNew(tmp + "/" + std::string(kSignature), signature));
    FT_RETURN_IF_ERROR(WriteNew(tmp + "/" + std::string(kPublicKey), public_key));
    FT_RETURN_IF_ERROR(SyncDir(tmp));
    // rename(2) refuses a non-empty destination; a folder made meanwhile is not overwritten.
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
      return IoError(dir + ": cannot move the package into place: " + ErrnoMessage(errno));
    }
    return SyncDir(parent.string());
  };
  Status st = write_all();
  if (!st.ok()) {
    fs::remove_all(tmp, ec);
    return st;
  }
  return out;
}

Expected<CasePackageCheck> VerifyCasePackage(const std::string& dir, const CaseTrust& trust) {
  if (trust.keys.empty() && trust.key_ids.empty()) {
    return InvalidArgument(
        "no trusted key given: the key inside a package proves nothing (anyone can re-sign); "
        "give the department's public key or its key id (facetrail admin signing-key)");
  }
  std::error_code ec;
  if (fs::symlink_status(dir, ec).type() != fs::file_type::directory) {
    return NotFound(dir + ": not a folder (a case package is a folder)");
  }
  CasePackageCheck check;
  const std::string base = dir + "/";

  // 1. The signer is a key the verifier trusts.
  std::optional<std::string> key_hex = ReadHexLine(base + std::string(kPublicKey), 64);
  if (!key_hex) {
    check.problems.push_back(std::string(kPublicKey) +
                             ": missing or not a public key (64 lower-case hex and a newline)");
    return check;
  }
  FT_ASSIGN_OR_RETURN(audit::PublicKey key, audit::ParsePublicKeyHex(*key_hex));
  check.key_id = key.KeyId();
  bool trusted = false;
  for (const audit::PublicKey& k : trust.keys) trusted = trusted || k.bytes == key.bytes;
  for (const std::string& id : trust.key_ids) trusted = trusted || id == check.key_id;
  if (!trusted) {
    check.problems.push_back(std::string(kPublicKey) + ": the package is signed with key " +
                             check.key_id +
                             ", which is not the trusted key: a package re-signed by someone "
                             "else, or the wrong key given to verify-case");
    return check;
  }

  // 2. The manifest is signed by it.
  auto manifest_bytes = ReadFileBytes(base + std::string(kManifest), kMaxManifestBytes);
  if (!manifest_bytes.ok()) {
    check.problems.push_back(std::string(kManifest) + ": " + manifest_bytes.status().message());
    return check;
  }
  const std::string manifest = AsText(*manifest_bytes);
  std::optional<std::string> signature = ReadHexLine(base + std::string(kSignature), 128);
  if (!signature) {
    check.problems.push_back(std::string(kSignature) +
                             ": missing or not a signature (128 lower-case hex and a newline)");
    return check;
  }
  if (!audit::MessageSignatureValid(key, manifest, *signature)) {
    check.problems.push_back(std::string(kManifest) + " / " + std::string(kSignature) +
                             ": the signature does not verify: the manifest or its signature "
                             "was changed");
    return check;
  }
  auto parsed = ParseManifest(manifest);
  if (!parsed.ok()) {
    check.problems.push_back(std::string(kManifest) + ": " + parsed.status().message());
    return check;
  }
  if (parsed->key_id != check.key_id) {
    check.problems.push_back(std::string(kManifest) + ": names key " + parsed->key_id +
                             " but was signed with " + check.key_id);
  }
  check.request_id = parsed->request_id;
  for (const auto& [path, sha] : parsed->files) check.files.push_back(path);

  // 3. Nothing in the folder but the listed files and the package's own three.
  size_t entries = 0;
  fs::path root = fs::path(dir).lexically_normal();
  if (root.filename().empty()) root = root.parent_path();  // written as "pkg/"
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return IoError(dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return IoError(dir + ": " + ec.message());
    if (++entries > kMaxEntries) {
      check.problems.push_back(dir + ": more than " + std::to_string(kMaxEntries) + " entries");
      return check;
    }
    // Lexically: a link is named as it is, never by where it points.
    const std::string rel = it->path().lexically_relative(root).generic_string();
    const fs::file_status st = it->symlink_status(ec);
    if (st.type() == fs::file_type::directory) continue;
    if (st.type() != fs::file_type::regular) {
      check.problems.push_back(rel + ": not a regular file (a link or a device)");
      continue;
    }
    if (rel == kManifest || rel == kSignature || rel == kPublicKey) continue;
    if (!parsed->files.count(rel)) {
      check.problems.push_back(rel + ": not in the manifest (a file was added)");
    }
  }

  // 4. Every listed file is there with its SHA-256.
  for (const auto& [path, sha] : parsed->files) {
    const std::string full = base + path;
    const fs::file_status st = fs::symlink_status(full, ec);
    if (st.type() == fs::file_type::not_found) {
      check.problems.push_back(path + ": listed in the manifest but missing (removed)");
      continue;
    }
    if (st.type() != fs::file_type::regular) continue;  // reported above
    auto actual = Sha256FileHex(full);
    if (!actual.ok()) {
      check.problems.push_back(path + ": " + actual.status().message());
    } else if (*actual != sha) {
      std::string problem = path;
      problem += ": changed (SHA-256 ";
      problem += *actual;
      problem += ", the manifest says ";
      problem += sha;
      problem += ")";
      check.problems.push_back(std::move(problem));
    }
  }
  std::sort(check.problems.begin(), check.problems.end());
  return check;
}

}  // namespace facetrail::service
