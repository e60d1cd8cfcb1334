// The audit log: append-only, SHA-256 hash-chained, with Ed25519-signed checkpoints.
//
// WHAT THIS REPRESENTS
//   Every accountable action (login, refusal, search, review, release, outcome, user and
//   certificate change, purge, configuration change) is one Entry, appended by the use case that
//   performs the action *inside the same database transaction* as the action's own rows: either
//   both are committed or neither. Entries are numbered 1, 2, 3, ... (seq) and each carries
//   hash = SHA-256(prev_hash || CanonicalEncoding(entry)); the first entry's prev_hash is 32 zero
//   bytes. A Checkpoint is a signed statement "the log's entry N has hash H" (and, since version
//   2, the hashes of the entries since the previous one), kept in the database and also outside
//   it (CheckpointLog; checkpointer.h writes them automatically). Verify() recomputes all of it
//   against keys pinned by the verifier's configuration, never a key found beside the database.
//   The formats are described in docs/AUDIT.md; change them only with a new version tag.
//
// WHAT IS GUARANTEED
//   No function here updates or deletes an entry or a checkpoint, and the schema installs
//   triggers that make UPDATE and DELETE (on PostgreSQL also TRUNCATE) of those rows fail, for
//   every role including the tables' owner (defence in depth: someone with the file and the
//   sqlite3 program, or PostgreSQL's owner or a superuser, can drop or disable the triggers,
//   which Verify reports). On PostgreSQL the application role should not even hold UPDATE,
//   DELETE or TRUNCATE on them (packaging/postgresql/roles.sql, docs/DEPLOYMENT.md).
//
// THREAD SAFETY
//   AuditLog holds a reference to one Db (one thread at a time, see common/db.h).
//   Appends from several processes (and servers) are serialised by the writing transaction's
//   lock: SQLite's write lock (BEGIN IMMEDIATE), PostgreSQL's facetrail-wide advisory lock
//   (common/postgres.cpp), taken before Append reads the chain head. The primary key on seq is
//   the last guard: a second entry with the same seq is refused, never stored.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/db.h"
#include "common/status.h"

namespace facetrail::audit {

// Seconds since the Unix epoch, UTC. Injected so tests can control time.
using Clock = std::function<int64_t()>;
Clock SystemClock();
// "2026-11-22T00:42:03Z". requires: t within years 1970..9999.
std::string FormatUtc(int64_t unix_seconds);
// Inverse of FormatUtc; kInvalidArgument for anything else.
Expected<int64_t> ParseUtc(std::string_view text);

// 64 hex zeros: the prev_hash of entry 1.
inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// What a use case supplies; seq, time and hashes are assigned by Append.
struct NewEntry {
  std::string actor;    // user name, or "system" / "cli" when no user is established
  std::string action;   // dotted verb, e.g. "search.request", "search.refused", "user.add"
  std::string subject;  // what it concerns: "request:17", "user:alice", "case:2026-0042"
  nlohmann::json details = nlohmann::json::object();  // an object (null = {}); never image bytes
};

struct Entry {
  int64_t seq = 0;
  std::string time;  // FormatUtc(...)
  std::string actor;
  std::string action;
  std::string subject;
  std::string details;    // JSON object text exactly as stored and hashed (sorted keys, compact)
  std::string prev_hash;  // 64 lower-case hex
  std::string hash;       // 64 lower-case hex
};

// The bytes that are hashed for `e` (everything but prev_hash and hash); see docs/AUDIT.md.
std::string CanonicalEncoding(const Entry& e);
// Lower-case hex SHA-256 of raw(prev_hash_hex) || CanonicalEncoding(e). kInvalidArgument when
// prev_hash_hex is not 64 hex characters.
Expected<std::string> ChainHash(std::string_view prev_hash_hex, const Entry& e);

// Creates or upgrades the audit tables (component "audit"). Idempotent.
Status Migrate(Db& db);

class AuditLog {
 public:
  // requires: Migrate(db) succeeded; db outlives this object.
  explicit AuditLog(Db& db, Clock clock = SystemClock());

  // Appends one entry. requires: called inside db.InTransaction(...) (else kFailedPrecondition,
  // so an entry can never be committed apart from its action). On failure nothing is appended
  // and the caller's transaction must roll back (returning the status does that).
  Expected<Entry> Append(const NewEntry& entry);

  // Convenience: a transaction holding only this entry (for actions with no rows of their own,
  // e.g. a failed login whose counter update is part of fn). fn may be empty.
  Status AppendInOwnTransaction(const NewEntry& entry);

  // Entries with from_seq <= seq <= to_seq (to_seq 0 = to the end), in seq order.
  Expected<std::vector<Entry>> Read(int64_t from_seq = 1, int64_t to_seq = 0);
  // Every entry whose subject is exactly `subject` ("request:17"), in seq order. A scan of the
  // table (no index on subject): fine for one case file, not for a loop over many.
  Expected<std::vector<Entry>> ReadSubject(std::string_view subject);
  // seq and hash of the last entry; {0, kGenesisHash} for an empty log.
  Expected<std::pair<int64_t, std::string>> Head();

  int64_t Now() const { return clock_(); }
  Db& db() { return db_; }

 private:
  Db& db_;
  Clock clock_;
};

// ---- Signing keys and checkpoints ----

struct PublicKey {
  std::array<uint8_t, 32> bytes{};
  // First 16 hex characters of SHA-256(bytes); names the key in checkpoints.
  std::string KeyId() const;
};

struct SigningKey {
  std::array<uint8_t, 64> secret{};  // libsodium Ed25519 secret key (seed || public key)
  PublicKey public_key;
};

// Creates a new Ed25519 key: `path` holds the secret key as hex and `path`.pub the public key as
// hex, both mode 0600 whatever the umask and created with O_EXCL (kAlreadyExists if one exists).
Expected<SigningKey> CreateSigningKey(const std::string& path);
// Loads a secret key file. kPermissionDenied when the file is readable or writable by group or
// others (fix: chmod 600), kDataLoss when the content is not a valid key.
Expected<SigningKey> LoadSigningKey(const std::string& path);
// Loads a public key from a ".pub" file (64 hex) or derives it from a secret key file.
Expected<PublicKey> LoadPublicKey(const std::string& path);

// kInvalidArgument naming `what` and both folders when `path` lies in the folder of the database
// `db_path` or below it: whoever can write the database can write there too (SQLite needs the
// folder writable for its -wal and -shm), so a trusted key or an external checkpoint log kept
// there proves nothing. See docs/AUDIT.md, "Threat model". The check applies to SQLite files
// only: `db_path` is resolved as every --db is (common/db_uri.h: PATH, sqlite:PATH, file:PATH),
// and a PostgreSQL URI or ":memory:" is OK (no folder on this machine holds that database).
// kInvalidArgument too when `db_path` is not a database spelling DatabaseFilePath accepts.
Status CheckOutsideDatabaseFolder(const std::string& path, const std::string& db_path,
                                  std::string_view what);
// A trusted ("pinned") public key for verification: CheckOutsideDatabaseFolder, then
// LoadPublicKey.
Expected<PublicKey> LoadPinnedPublicKey(const std::string& path, const std::string& db_path);

// A version 2 checkpoint lists the first kEntryHashPrefixChars hex characters (8 bytes) of the
// hash of every entry it covers since the previous checkpoint, so that Verify names the first
// entry of a rewritten stretch exactly. The prefixes only locate a change: integrity rests on the
// full head hash, which is signed with them.
inline constexpr size_t kEntryHashPrefixChars = 16;
// At most this many entries are listed (about 1.6 MB of hex); entries before them are still
// covered by the head hash through the chain.
inline constexpr int64_t kMaxListedEntries = 100'000;

struct Checkpoint {
  int version = 2;        // 1: "facetrail-checkpoint-v1" (no list), 2: "facetrail-checkpoint-v2"
  int64_t seq = 0;        // the last entry covered
  std::string head_hash;  // that entry's hash
  std::string time;       // when signed
  std::string key_id;     // PublicKey::KeyId() of the signer
  // Version 2 only: entries from_seq..seq are listed in entry_hashes, kEntryHashPrefixChars hex
  // characters each, in seq order; from_seq is the previous checkpoint's seq + 1 (or 1).
  int64_t from_seq = 0;
  std::string entry_hashes;
  std::string signature;  // Ed25519 detached signature of CheckpointMessage(), hex
};

// v1: "facetrail-checkpoint-v1\n<seq>\n<head_hash>\n<time>\n<key_id>\n"
// v2: "facetrail-checkpoint-v2\n<seq>\n<head_hash>\n<time>\n<key_id>\n<from_seq>\n"
//     "<SHA-256 hex of entry_hashes>\n"
std::string CheckpointMessage(const Checkpoint& c);
// Sets c.key_id to key's and c.signature to the signature of CheckpointMessage(c).
void SignCheckpoint(Checkpoint& c, const SigningKey& key);
// True when c.key_id names `key` and the signature over CheckpointMessage(c) is valid.
bool CheckpointSignatureValid(const Checkpoint& c, const PublicKey& key);

struct CheckpointOptions {
  // Sign only when at least this many entries follow the previous checkpoint's own entry
  // (0: sign the head whatever it is).
  int64_t min_new_entries = 0;
  // When set: the newest entry the signer has already verified (seq, hash). The log must still
  // hold it, or nothing is signed (kDataLoss): a signer never blesses a rewritten past.
  std::optional<std::pair<int64_t, std::string>> verified_head;
};

// Signs the current head (version 2), stores the checkpoint and appends an "audit.checkpoint"
// entry (the checkpoint covers the entries before that entry), in one transaction. Before
// signing it checks every entry it lists: each matches its hash and links to the one before it,
// and the first links to the previous checkpoint's head (the newest one valid under `key`);
// kDataLoss naming the entry otherwise. Returns nullopt when fewer than
// options.min_new_entries entries are new; kFailedPrecondition on an empty log.
Expected<std::optional<Checkpoint>> CreateCheckpointIfDue(AuditLog& log, const SigningKey& key,
                                                          std::string_view actor,
                                                          const CheckpointOptions& options);
// CreateCheckpointIfDue with default options: always signs.
Expected<Checkpoint> CreateCheckpoint(AuditLog& log, const SigningKey& key, std::string_view actor);
Expected<std::vector<Checkpoint>> ReadCheckpoints(Db& db);
// One line of JSON for keeping checkpoints outside the database, and its parser (both versions).
std::string ExportCheckpointLine(const Checkpoint& c);
Expected<Checkpoint> ParseCheckpointLine(std::string_view line);
// Reads a file of checkpoint lines (blank lines ignored); errors name the file and the line.
Expected<std::vector<Checkpoint>> ReadCheckpointFile(const std::string& path);

// An append-only file of checkpoint lines outside the database folder: the external record that
// survives an insider who rewrites the database (docs/AUDIT.md). Opened O_APPEND, created 0600;
// each Append is one write(2) of one line followed by fsync. Keep it where the database's writers
// cannot rewrite it: `chattr +a` (only root can lift it), another account, or shipped off the
// machine. THREAD SAFETY: one thread at a time.
class CheckpointLog {
 public:
  // kInvalidArgument when `path` is inside the database's folder (CheckOutsideDatabaseFolder),
  // kIoError when it cannot be opened for appending.
  static Expected<CheckpointLog> Open(const std::string& path, const std::string& db_path);
  CheckpointLog(CheckpointLog&& other) noexcept;
  CheckpointLog& operator=(CheckpointLog&& other) noexcept;
  CheckpointLog(const CheckpointLog&) = delete;
  CheckpointLog& operator=(const CheckpointLog&) = delete;
  ~CheckpointLog();

  // kIoError naming the file when the line cannot be written and synced.
  Status Append(const Checkpoint& c);
  // Whether the file carries the append-only attribute (chattr +a); nullopt when the file system
  // cannot say (tmpfs, overlayfs).
  std::optional<bool> IsAppendOnly() const;
  const std::string& path() const { return path_; }

 private:
  CheckpointLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// ---- Signing other documents with the same key (service/case_package.h) ----

// The Ed25519 detached signature of `message` as 128 lower-case hex characters ("" only if
// libsodium cannot start, which no verification accepts). Callers give
// every kind of document its own first line ("facetrail-case-package-v1\n", ...), so a signature
// over one kind can never be read as a signature over another (checkpoints start with
// "facetrail-checkpoint-v").
std::string SignMessage(const SigningKey& key, std::string_view message);
// True when `signature_hex` (exactly 128 lower-case hex) is key's valid signature of `message`.
bool MessageSignatureValid(const PublicKey& key, std::string_view message,
                           std::string_view signature_hex);
// Exactly 64 lower-case hex characters to a public key; kInvalidArgument otherwise.
Expected<PublicKey> ParsePublicKeyHex(std::string_view hex);

// ---- Verification ----

struct VerifyOptions {
  // The trusted ("pinned") keys: a checkpoint signed by any other key is a problem. Without any,
  // existing checkpoints cannot be checked, which is a problem too (kUnverified), not a warning.
  std::vector<PublicKey> public_keys;
  // Checkpoints kept outside the database (CheckpointLog); they catch the deletion of checkpoint
  // rows and the truncation of the log.
  std::vector<Checkpoint> external_checkpoints;
  // Checkpoints are expected: a non-empty log that no valid checkpoint covers is kUnverified.
  bool require_checkpoint = false;
  Clock clock = SystemClock();  // for VerifyReport::verified_at
};

enum class ProblemKind {
  kChanged,
  kRemoved,
  kInserted,
  kReordered,
  kTruncated,
  kBadCheckpoint,      // a checkpoint with a bad signature, an unpinned key, or malformed
  kMissingCheckpoint,  // the chain or the external log names a checkpoint the table lacks
  kUnverified,         // checkpoints are expected but none can be checked
};
std::string_view ProblemKindName(ProblemKind kind);  // "changed", "removed", ...

struct Problem {
  ProblemKind kind;
  // The entry named: the first damaged one (kTruncated: the first missing seq; kBadCheckpoint
  // and kMissingCheckpoint: the checkpoint's seq; kUnverified: the first unproven entry).
  int64_t seq;
  std::string message;  // says what was found and where
};

struct VerifyReport {
  int64_t num_entries = 0;
  int64_t last_seq = 0;
  int num_checkpoints = 0;           // distinct checkpoints examined (database and external)
  int num_external_checkpoints = 0;  // of which in the external record
  std::vector<std::string> pinned_key_ids;
  // The newest checkpoint that verified (signature by a pinned key, entries matching), if any;
  // entries 1..proven_seq are proven by it, the ones after it are not yet.
  std::optional<Checkpoint> last_checkpoint;
  bool last_checkpoint_external = false;  // it is also in the external record
  int64_t proven_seq = 0;
  std::string verified_at;            // FormatUtc(options.clock())
  std::vector<Problem> problems;      // sorted by seq; problems.front() is the first
  std::vector<std::string> warnings;  // e.g. missing triggers, entries after the last checkpoint
  bool ok() const { return problems.empty(); }
};

// Recomputes the chain and checks every checkpoint: signatures against the pinned keys, the
// entries each one lists, its own "audit.checkpoint" entry, and every "audit.checkpoint" entry of
// the chain against the checkpoint rows. Entries and checkpoints are read on one snapshot of the
// database (a read transaction, unless the caller is in one), so appends by other connections
// meanwhile cannot look like damage. Returns a report even when the log is damaged (the damage
// is in report.problems); a non-OK status only when it cannot read.
Expected<VerifyReport> Verify(Db& db, const VerifyOptions& options);
// The report as JSON (the CLI's --json and GET /api/v1/audit/verify): ok, entries, last_seq,
// checkpoints, external_checkpoints, pinned_keys, verified_at, last_checkpoint ({seq, time,
// key_id, external} or null), proven_seq, unchecked_entries, problems ([{kind, seq, message}]),
// warnings.
nlohmann::json VerifyReportJson(const VerifyReport& r);

}  // namespace facetrail::audit
