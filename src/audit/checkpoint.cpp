// Ed25519 signing keys (libsodium) and signed checkpoints of the audit chain.
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "audit/audit.h"
#include "audit/internal/hex.h"
#include "common/file.h"
#include "common/sha256.h"

namespace facetrail::audit {

namespace {

Status EnsureSodium() {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  return Status::Ok();
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExists(path + ": file exists; refusing to overwrite a key");
    return IoError(path + ": cannot create: " + ErrnoMessage(errno));
  }
  // The umask may have removed bits but never adds any; fchmod makes the mode exact.
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return IoError(path + ": cannot write: " + ErrnoMessage(err));
  return Status::Ok();
}

Expected<std::string> ReadSmallText(const std::string& path) {
  FT_ASSIGN_OR_RETURN(auto bytes, ReadFileBytes(path, 4096));
  return Trim(std::string(bytes.begin(), bytes.end()));
}

Checkpoint FromRow(const SqliteStmt& stmt) {
  Checkpoint c;
  c.seq = stmt.Int(0);
  c.head_hash = stmt.Text(1);
  c.time = stmt.Text(2);
  c.key_id = stmt.Text(3);
  c.signature = stmt.Text(4);
  return c;
}

}  // namespace

std::string PublicKey::KeyId() const {
  return Sha256Hex(bytes).substr(0, 16);
}

Expected<SigningKey> CreateSigningKey(const std::string& path) {
  FT_RETURN_IF_ERROR(EnsureSodium());
  SigningKey key;
  crypto_sign_keypair(key.public_key.bytes.data(), key.secret.data());
  FT_RETURN_IF_ERROR(WriteNewFile(path, ToHex(key.secret) + "\n", 0600));
  Status s = WriteNewFile(path + ".pub", ToHex(key.public_key.bytes) + "\n", 0644);
  if (!s.ok()) {
    ::unlink(path.c_str());
    return s;
  }
  return key;
}

Expected<SigningKey> LoadSigningKey(const std::string& path) {
  FT_RETURN_IF_ERROR(EnsureSodium());
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound(path + ": no such signing key file");
    return IoError(path + ": " + ErrnoMessage(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return PermissionDenied(
        path + ": signing key is accessible to group or others; run chmod 600 " + path);
  }
  FT_ASSIGN_OR_RETURN(std::string text, ReadSmallText(path));
  auto bytes = internal::FromHex(text);
  if (!bytes || bytes->size() != 64) {
    return DataLoss(path + ": not an Ed25519 secret key (expected 128 hex characters)");
  }
  SigningKey key;
  std::copy(bytes->begin(), bytes->end(), key.secret.begin());
  crypto_sign_ed25519_sk_to_pk(key.public_key.bytes.data(), key.secret.data());
  sodium_memzero(bytes->data(), bytes->size());
  return key;
}

Expected<PublicKey> LoadPublicKey(const std::string& path) {
  FT_ASSIGN_OR_RETURN(std::string text, ReadSmallText(path));
  auto bytes = internal::FromHex(text);
  if (bytes && bytes->size() == 32) {
    PublicKey key;
    std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
    return key;
  }
  if (bytes && bytes->size() == 64) {
    FT_ASSIGN_OR_RETURN(SigningKey key, LoadSigningKey(path));
    return key.public_key;
  }
  return DataLoss(path + ": not an Ed25519 public key (64 hex) or secret key (128 hex)");
}

std::string CheckpointMessage(const Checkpoint& c) {
  return "facetrail-checkpoint-v1\n" + std::to_string(c.seq) + "\n" + c.head_hash + "\n" + c.time +
         "\n" + c.key_id + "\n";
}

bool CheckpointSignatureValid(const Checkpoint& c, const PublicKey& key) {
  if (sodium_init() < 0) return false;
  if (c.key_id != key.KeyId()) return false;
  auto sig = internal::FromHex(c.signature);
  if (!sig || sig->size() != crypto_sign_BYTES) return false;
  std::string msg = CheckpointMessage(c);
  return crypto_sign_verify_detached(sig->data(), reinterpret_cast<const uint8_t*>(msg.data()),
                                     msg.size(), key.bytes.data()) == 0;
}

Expected<Checkpoint> CreateCheckpoint(AuditLog& log, const SigningKey& key,
                                      std::string_view actor) {
  FT_RETURN_IF_ERROR(EnsureSodium());
  Checkpoint c;
  Status s = log.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(auto head, log.Head());
    if (head.first == 0) return FailedPrecondition("the audit log is empty; nothing to checkpoint");
    c.seq = head.first;
    c.head_hash = head.second;
    c.time = FormatUtc(log.Now());
    c.key_id = key.public_key.KeyId();
    std::string msg = CheckpointMessage(c);
    std::array<uint8_t, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(msg.data()),
                         msg.size(), key.secret.data());
    c.signature = ToHex(sig);
    FT_ASSIGN_OR_RETURN(auto stmt,
                        log.db().Prepare("INSERT INTO audit_checkpoints(seq, head_hash, time, "
                                         "key_id, signature) VALUES (?, ?, ?, ?, ?)"));
    stmt.Bind(1, c.seq).Bind(2, c.head_hash).Bind(3, c.time).Bind(4, c.key_id).Bind(5, c.signature);
    FT_RETURN_IF_ERROR(stmt.Run());
    NewEntry e{std::string(actor),
               "audit.checkpoint",
               "audit",
               {{"seq", c.seq}, {"head_hash", c.head_hash}, {"key_id", c.key_id}}};
    return log.Append(e).status();
  });
  if (!s.ok()) return s.WithContext("creating audit checkpoint");
  return c;
}

Expected<std::vector<Checkpoint>> ReadCheckpoints(SqliteDb& db) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT seq, head_hash, time, key_id, signature FROM "
                                            "audit_checkpoints ORDER BY id"));
  std::vector<Checkpoint> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(FromRow(stmt));
  }
  return out;
}

std::string ExportCheckpointLine(const Checkpoint& c) {
  nlohmann::json j = {
      {"seq", c.seq},       {"head_hash", c.head_hash}, {"time", c.time},
      {"key_id", c.key_id}, {"signature", c.signature}, {"format", "facetrail-checkpoint-v1"}};
  return j.dump();
}

Expected<Checkpoint> ParseCheckpointLine(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("not a JSON object");
  try {
    if (j.value("format", "") != "facetrail-checkpoint-v1") {
      return InvalidArgument("unknown checkpoint format '" + j.value("format", "") + "'");
    }
    Checkpoint c;
    c.seq = j.at("seq").get<int64_t>();
    c.head_hash = j.at("head_hash").get<std::string>();
    c.time = j.at("time").get<std::string>();
    c.key_id = j.at("key_id").get<std::string>();
    c.signature = j.at("signature").get<std::string>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("checkpoint field: ") + e.what());
  }
}

Expected<std::vector<Checkpoint>> ReadCheckpointFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": cannot open checkpoint file");
  std::vector<Checkpoint> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (Trim(line).empty()) continue;
    auto c = ParseCheckpointLine(line);
    if (!c.ok()) return c.status().WithContext(path + " line " + std::to_string(number));
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace facetrail::audit
