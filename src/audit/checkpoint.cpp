// Ed25519 signing keys (libsodium), signed checkpoints of the audit chain, and the append-only
// external checkpoint log. Formats: docs/AUDIT.md.
#include <fcntl.h>
#include <linux/fs.h>
#include <sodium.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "audit/audit.h"
#include "audit/internal/hex.h"
#include "common/db_uri.h"
#include "common/file.h"
#include "common/sha256.h"

namespace facetrail::audit {

namespace {

constexpr std::string_view kFormatV1 = "facetrail-checkpoint-v1";
constexpr std::string_view kFormatV2 = "facetrail-checkpoint-v2";

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

constexpr const char* kCheckpointColumns =
    "version, seq, head_hash, time, key_id, from_seq, entry_hashes, signature";

Checkpoint FromRow(const Stmt& stmt) {
  Checkpoint c;
  c.version = static_cast<int>(stmt.Int(0));
  c.seq = stmt.Int(1);
  c.head_hash = stmt.Text(2);
  c.time = stmt.Text(3);
  c.key_id = stmt.Text(4);
  c.from_seq = stmt.Int(5);
  c.entry_hashes = stmt.Text(6);
  c.signature = stmt.Text(7);
  return c;
}

// The newest checkpoint row that `key` signed (rows nobody can forge without the key), if any.
Expected<std::optional<Checkpoint>> NewestOwnCheckpoint(Db& db, const PublicKey& key) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(std::string("SELECT ") + kCheckpointColumns +
                                            " FROM audit_checkpoints ORDER BY seq DESC, id DESC"));
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<Checkpoint>();
    Checkpoint c = FromRow(stmt);
    if (CheckpointSignatureValid(c, key)) return std::optional<Checkpoint>(std::move(c));
  }
}

Expected<std::string> EntryHash(Db& db, int64_t seq) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT hash FROM audit_entries WHERE seq = ?"));
  stmt.Bind(1, seq);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("entry " + std::to_string(seq) + " is missing");
  return stmt.Text(0);
}

Status Damaged(int64_t seq, const std::string& what) {
  return DataLoss("the audit log is damaged at entry " + std::to_string(seq) + ": " + what +
                  "; not signing a checkpoint over it (run 'facetrail audit verify')");
}

// Checks entries from_seq..to_seq (each matches its hash and links to the one before, the first to
// `prev_hash`) and returns the prefixes of their hashes, concatenated. Streams the rows: the first
// checkpoint of a large log lists up to kMaxListedEntries of them.
Expected<std::string> CheckAndListEntries(Db& db, int64_t from_seq, int64_t to_seq,
                                          std::string prev_hash) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare("SELECT seq, time, actor, action, subject, details, "
                                            "prev_hash, hash FROM audit_entries WHERE seq >= ? "
                                            "AND seq <= ? ORDER BY seq"));
  stmt.Bind(1, from_seq).Bind(2, to_seq);
  std::string list;
  list.reserve(static_cast<size_t>(to_seq - from_seq + 1) * kEntryHashPrefixChars);
  int64_t expected = from_seq;
  for (;; ++expected) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    Entry e{stmt.Int(0),  stmt.Text(1), stmt.Text(2), stmt.Text(3),
            stmt.Text(4), stmt.Text(5), stmt.Text(6), stmt.Text(7)};
    if (e.seq != expected) return Damaged(expected, "it is missing");
    if (e.prev_hash != prev_hash) return Damaged(e.seq, "it does not link to the entry before it");
    auto h = ChainHash(e.prev_hash, e);
    if (!h.ok() || *h != e.hash) return Damaged(e.seq, "it does not match its hash");
    list.append(e.hash, 0, kEntryHashPrefixChars);
    prev_hash = std::move(e.hash);
  }
  if (expected != to_seq + 1) return Damaged(expected, "it is missing");
  return list;
}

// In the caller's transaction: everything CreateCheckpointIfDue does.
Expected<std::optional<Checkpoint>> SignHead(AuditLog& log, const SigningKey& key,
                                             std::string_view actor,
                                             const CheckpointOptions& options) {
  Db& db = log.db();
  FT_ASSIGN_OR_RETURN(auto head, log.Head());
  if (head.first == 0) return FailedPrecondition("the audit log is empty; nothing to checkpoint");
  FT_ASSIGN_OR_RETURN(std::optional<Checkpoint> previous, NewestOwnCheckpoint(db, key.public_key));
  if (previous) {
    if (previous->seq >= head.first) {
      return Damaged(head.first + 1, "it is missing, yet the checkpoint of entry " +
                                         std::to_string(previous->seq) + " was signed");
    }
    FT_ASSIGN_OR_RETURN(std::string now, EntryHash(db, previous->seq));
    if (now != previous->head_hash) {
      return Damaged(previous->seq, "it no longer has the hash its checkpoint signed");
    }
  }
  const int64_t num_new = head.first - (previous ? previous->seq + 1 : 0);
  if (num_new < options.min_new_entries) return std::optional<Checkpoint>();
  if (options.verified_head) {
    const auto& [seq, hash] = *options.verified_head;
    if (seq > head.first) {
      return Damaged(seq, "it was verified earlier but the log now ends at entry " +
                              std::to_string(head.first));
    }
    FT_ASSIGN_OR_RETURN(std::string now, EntryHash(db, seq));
    if (now != hash) return Damaged(seq, "its hash changed since this signer verified it");
  }
  Checkpoint c;
  c.seq = head.first;
  c.head_hash = head.second;
  c.time = FormatUtc(log.Now());
  c.from_seq = std::max(previous ? previous->seq + 1 : 1, c.seq - kMaxListedEntries + 1);
  std::string prev_hash(kGenesisHash);
  if (c.from_seq > 1) {
    FT_ASSIGN_OR_RETURN(prev_hash, EntryHash(db, c.from_seq - 1));
  }
  FT_ASSIGN_OR_RETURN(c.entry_hashes, CheckAndListEntries(db, c.from_seq, c.seq, prev_hash));
  SignCheckpoint(c, key);
  FT_ASSIGN_OR_RETURN(auto stmt,
                      db.Prepare("INSERT INTO audit_checkpoints(version, seq, head_hash, time, "
                                 "key_id, from_seq, entry_hashes, signature) VALUES (?, ?, ?, ?, "
                                 "?, ?, ?, ?)"));
  stmt.Bind(1, int64_t{c.version})
      .Bind(2, c.seq)
      .Bind(3, c.head_hash)
      .Bind(4, c.time)
      .Bind(5, c.key_id)
      .Bind(6, c.from_seq)
      .Bind(7, c.entry_hashes)
      .Bind(8, c.signature);
  FT_RETURN_IF_ERROR(stmt.Run());
  NewEntry e{
      std::string(actor),
      "audit.checkpoint",
      "audit",
      {{"seq", c.seq}, {"head_hash", c.head_hash}, {"key_id", c.key_id}, {"from_seq", c.from_seq}}};
  FT_RETURN_IF_ERROR(log.Append(e).status());
  return std::optional<Checkpoint>(std::move(c));
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
  // The public key is no secret, but least privilege costs nothing: give it out deliberately.
  Status s = WriteNewFile(path + ".pub", ToHex(key.public_key.bytes) + "\n", 0600);
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

Status CheckOutsideDatabaseFolder(const std::string& path, const std::string& db_path,
                                  std::string_view what) {
  // The check is about a SQLite file's folder. A database on a PostgreSQL server has no folder
  // here: its writers are the server's roles, not this machine's accounts (docs/DEPLOYMENT.md).
  if (IsPostgresUri(db_path)) return Status::Ok();
  // The file SQLite opens, whatever the spelling (sqlite:PATH, file:///PATH…): the text as
  // given is not a path ("sqlite:/var/lib/f.db" would name a folder "sqlite:/var/lib").
  Expected<std::string> file = DatabaseFilePath(db_path);
  if (!file.ok()) return file.status().WithContext(std::string(what) + ": the database");
  if (*file == ":memory:") return Status::Ok();  // no file, no folder
  // The folder as named, and the real one when the database is a symbolic link (SQLite puts
  // -wal and -shm beside the file it resolves to, so that folder is writable too).
  const std::filesystem::path db(*file);
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::weakly_canonical(db, ec);
  for (const std::filesystem::path& p : {db, ec ? db : real}) {
    const std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
    if (!IsWithinFolder(path, folder)) continue;
    std::string m(what);
    m += " ";
    m += path;
    m += " is inside the database's folder (";
    m += folder;
    m += "): whoever can write the database can replace it there; keep it in a folder the ";
    m += "database's writers cannot write (docs/AUDIT.md)";
    return InvalidArgument(std::move(m));
  }
  return Status::Ok();
}

Expected<PublicKey> LoadPinnedPublicKey(const std::string& path, const std::string& db_path) {
  FT_RETURN_IF_ERROR(CheckOutsideDatabaseFolder(path, db_path, "the pinned public key"));
  return LoadPublicKey(path);
}

std::string CheckpointMessage(const Checkpoint& c) {
  std::string m = std::string(c.version == 1 ? kFormatV1 : kFormatV2) + "\n" +
                  std::to_string(c.seq) + "\n" + c.head_hash + "\n" + c.time + "\n" + c.key_id +
                  "\n";
  if (c.version != 1) m += std::to_string(c.from_seq) + "\n" + Sha256Hex(c.entry_hashes) + "\n";
  return m;
}

void SignCheckpoint(Checkpoint& c, const SigningKey& key) {
  c.key_id = key.public_key.KeyId();
  std::string msg = CheckpointMessage(c);
  std::array<uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(msg.data()),
                       msg.size(), key.secret.data());
  c.signature = ToHex(sig);
}

bool CheckpointSignatureValid(const Checkpoint& c, const PublicKey& key) {
  if (sodium_init() < 0) return false;
  if (c.version != 1 && c.version != 2) return false;
  if (c.key_id != key.KeyId()) return false;
  auto sig = internal::FromHex(c.signature);
  if (!sig || sig->size() != crypto_sign_BYTES) return false;
  std::string msg = CheckpointMessage(c);
  return crypto_sign_verify_detached(sig->data(), reinterpret_cast<const uint8_t*>(msg.data()),
                                     msg.size(), key.bytes.data()) == 0;
}

std::string SignMessage(const SigningKey& key, std::string_view message) {
  // sodium_init is idempotent and thread-safe; it cannot fail once a key was made or loaded.
  if (sodium_init() < 0) return {};
  std::array<uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(message.data()),
                       message.size(), key.secret.data());
  return ToHex(sig);
}

bool MessageSignatureValid(const PublicKey& key, std::string_view message,
                           std::string_view signature_hex) {
  if (sodium_init() < 0) return false;
  if (signature_hex.size() != size_t{2} * crypto_sign_BYTES) return false;
  for (char c : signature_hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  auto sig = internal::FromHex(signature_hex);
  if (!sig) return false;
  return crypto_sign_verify_detached(sig->data(), reinterpret_cast<const uint8_t*>(message.data()),
                                     message.size(), key.bytes.data()) == 0;
}

Expected<PublicKey> ParsePublicKeyHex(std::string_view hex) {
  if (!internal::IsSha256Hex(hex)) {
    return InvalidArgument("not an Ed25519 public key (expected 64 lower-case hex characters)");
  }
  auto bytes = internal::FromHex(hex);
  if (!bytes || bytes->size() != 32) return InvalidArgument("not an Ed25519 public key");
  PublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
  return key;
}

Expected<std::optional<Checkpoint>> CreateCheckpointIfDue(AuditLog& log, const SigningKey& key,
                                                          std::string_view actor,
                                                          const CheckpointOptions& options) {
  FT_RETURN_IF_ERROR(EnsureSodium());
  std::optional<Checkpoint> made;
  Status s = log.db().InTransaction([&]() -> Status {
    FT_ASSIGN_OR_RETURN(made, SignHead(log, key, actor, options));
    return Status::Ok();
  });
  if (!s.ok()) return s.WithContext("creating audit checkpoint");
  return made;
}

Expected<Checkpoint> CreateCheckpoint(AuditLog& log, const SigningKey& key,
                                      std::string_view actor) {
  FT_ASSIGN_OR_RETURN(std::optional<Checkpoint> c, CreateCheckpointIfDue(log, key, actor, {}));
  if (!c) return Internal("creating audit checkpoint: nothing signed with min_new_entries 0");
  return std::move(*c);
}

Expected<std::vector<Checkpoint>> ReadCheckpoints(Db& db) {
  FT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(std::string("SELECT ") + kCheckpointColumns +
                                            " FROM audit_checkpoints ORDER BY id"));
  std::vector<Checkpoint> out;
  for (;;) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(FromRow(stmt));
  }
  return out;
}

std::string ExportCheckpointLine(const Checkpoint& c) {
  nlohmann::json j = {{"seq", c.seq},
                      {"head_hash", c.head_hash},
                      {"time", c.time},
                      {"key_id", c.key_id},
                      {"signature", c.signature}};
  if (c.version == 1) {
    j["format"] = kFormatV1;
  } else {
    j["format"] = kFormatV2;
    j["from_seq"] = c.from_seq;
    j["entry_hashes"] = c.entry_hashes;
  }
  return j.dump();
}

Expected<Checkpoint> ParseCheckpointLine(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("not a JSON object");
  try {
    const std::string format = j.value("format", "");
    Checkpoint c;
    if (format == kFormatV1) {
      c.version = 1;
    } else if (format == kFormatV2) {
      c.version = 2;
      c.from_seq = j.at("from_seq").get<int64_t>();
      c.entry_hashes = j.at("entry_hashes").get<std::string>();
    } else {
      return InvalidArgument("unknown checkpoint format '" + format + "'");
    }
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
  // A regular file of bounded size (ReadFileBytes refuses others): a verifier must not hang on a
  // device or a runaway file. 1M entries of checkpoints make about 17 MB.
  auto bytes = ReadFileBytes(path, size_t{256} << 20);
  if (!bytes.ok()) return bytes.status().WithContext("checkpoint file");
  std::vector<Checkpoint> out;
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  int number = 0;
  while (!text.empty()) {
    ++number;
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (Trim(line).empty()) continue;
    auto c = ParseCheckpointLine(line);
    if (!c.ok()) return c.status().WithContext(path + " line " + std::to_string(number));
    out.push_back(std::move(*c));
  }
  return out;
}

// ---- CheckpointLog ----

Expected<CheckpointLog> CheckpointLog::Open(const std::string& path, const std::string& db_path) {
  FT_RETURN_IF_ERROR(CheckOutsideDatabaseFolder(path, db_path, "the external checkpoint log"));
  // O_APPEND: every write lands at the end, and it is the only way to write a `chattr +a` file.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return IoError(
        path + ": cannot open the external checkpoint log for appending: " + ErrnoMessage(errno));
  }
  return CheckpointLog(fd, path);
}

CheckpointLog::CheckpointLog(CheckpointLog&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

CheckpointLog& CheckpointLog::operator=(CheckpointLog&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

CheckpointLog::~CheckpointLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status CheckpointLog::Append(const Checkpoint& c) {
  const std::string line = ExportCheckpointLine(c) + "\n";
  // One write(2): with O_APPEND, concurrent writers' lines do not interleave on a local file.
  const ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    const int err = n < 0 ? errno : EIO;
    return IoError(path_ + ": cannot append checkpoint of entry " + std::to_string(c.seq) + ": " +
                   ErrnoMessage(err));
  }
  if (::fsync(fd_) != 0) return IoError(path_ + ": fsync failed: " + ErrnoMessage(errno));
  return Status::Ok();
}

std::optional<bool> CheckpointLog::IsAppendOnly() const {
  int flags = 0;
  if (::ioctl(fd_, FS_IOC_GETFLAGS, &flags) != 0) return std::nullopt;
  return (flags & FS_APPEND_FL) != 0;
}

}  // namespace facetrail::audit
