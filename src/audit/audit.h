// The audit log: append-only, SHA-256 hash-chained, with Ed25519-signed checkpoints.
//
// WHAT THIS REPRESENTS
//   Every accountable action (login, refusal, search, review, release, outcome, user and
//   certificate change, purge, configuration change) is one Entry, appended by the use case that
//   performs the action *inside the same SQLite transaction* as the action's own rows: either
//   both are committed or neither. Entries are numbered 1, 2, 3, ... (seq) and each carries
//   hash = SHA-256(prev_hash || CanonicalEncoding(entry)); the first entry's prev_hash is 32 zero
//   bytes. A Checkpoint is a signed statement "the log's entry N has hash H", kept in the
//   database and, better, also outside it (ExportCheckpointLine). Verify() recomputes all of it.
//   The formats are described in docs/AUDIT.md; change them only with a new version tag.
//
// WHAT IS GUARANTEED
//   No function here updates or deletes an entry or a checkpoint, and the schema installs
//   triggers that make UPDATE and DELETE of those rows fail (defence in depth: someone with the
//   file and the sqlite3 program can drop the triggers, which Verify reports).
//
// THREAD SAFETY
//   AuditLog holds a reference to one SqliteDb (one thread at a time, see common/sqlite.h).
//   Appends from several processes are serialised by SQLite's write lock (BEGIN IMMEDIATE).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sqlite.h"
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
Status Migrate(SqliteDb& db);

class AuditLog {
 public:
  // requires: Migrate(db) succeeded; db outlives this object.
  explicit AuditLog(SqliteDb& db, Clock clock = SystemClock());

  // Appends one entry. requires: called inside db.InTransaction(...) (else kFailedPrecondition,
  // so an entry can never be committed apart from its action). On failure nothing is appended
  // and the caller's transaction must roll back (returning the status does that).
  Expected<Entry> Append(const NewEntry& entry);

  // Convenience: a transaction holding only this entry (for actions with no rows of their own,
  // e.g. a failed login whose counter update is part of fn). fn may be empty.
  Status AppendInOwnTransaction(const NewEntry& entry);

  // Entries with from_seq <= seq <= to_seq (to_seq 0 = to the end), in seq order.
  Expected<std::vector<Entry>> Read(int64_t from_seq = 1, int64_t to_seq = 0);
  // seq and hash of the last entry; {0, kGenesisHash} for an empty log.
  Expected<std::pair<int64_t, std::string>> Head();

  int64_t Now() const { return clock_(); }
  SqliteDb& db() { return db_; }

 private:
  SqliteDb& db_;
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

// Creates a new Ed25519 key: `path` holds the secret key as hex (mode 0600, created with
// O_EXCL: kAlreadyExists if the file exists) and `path`.pub the public key as hex (0644).
Expected<SigningKey> CreateSigningKey(const std::string& path);
// Loads a secret key file. kPermissionDenied when the file is readable or writable by group or
// others (fix: chmod 600), kDataLoss when the content is not a valid key.
Expected<SigningKey> LoadSigningKey(const std::string& path);
// Loads a public key from a ".pub" file (64 hex) or derives it from a secret key file.
Expected<PublicKey> LoadPublicKey(const std::string& path);

struct Checkpoint {
  int64_t seq = 0;        // the last entry covered
  std::string head_hash;  // that entry's hash
  std::string time;       // when signed
  std::string key_id;     // PublicKey::KeyId() of the signer
  std::string signature;  // Ed25519 detached signature of CheckpointMessage(), hex
};

// "facetrail-checkpoint-v1\n<seq>\n<head_hash>\n<time>\n<key_id>\n"
std::string CheckpointMessage(const Checkpoint& c);
bool CheckpointSignatureValid(const Checkpoint& c, const PublicKey& key);

// Signs the current head, stores the checkpoint and appends an "audit.checkpoint" entry (the
// checkpoint covers the entries before that entry). kFailedPrecondition on an empty log.
Expected<Checkpoint> CreateCheckpoint(AuditLog& log, const SigningKey& key, std::string_view actor);
Expected<std::vector<Checkpoint>> ReadCheckpoints(SqliteDb& db);
// One line of JSON for keeping checkpoints outside the database, and its parser.
std::string ExportCheckpointLine(const Checkpoint& c);
Expected<Checkpoint> ParseCheckpointLine(std::string_view line);
// Reads a file of checkpoint lines (blank lines ignored); errors name the line.
Expected<std::vector<Checkpoint>> ReadCheckpointFile(const std::string& path);

// ---- Verification ----

struct VerifyOptions {
  // Trusted key for checkpoint signatures. Without it signatures are not checked (a warning).
  std::optional<PublicKey> public_key;
  // Checkpoints kept outside the database; they catch truncation of the log and of the
  // checkpoint table.
  std::vector<Checkpoint> external_checkpoints;
};

enum class ProblemKind { kChanged, kRemoved, kInserted, kReordered, kTruncated, kBadCheckpoint };
std::string_view ProblemKindName(ProblemKind kind);  // "changed", "removed", ...

struct Problem {
  ProblemKind kind;
  int64_t seq;          // the entry named (for kTruncated: the first missing seq)
  std::string message;  // says what was found and where
};

struct VerifyReport {
  int64_t num_entries = 0;
  int64_t last_seq = 0;
  int num_checkpoints = 0;            // checked (database and external)
  std::vector<Problem> problems;      // sorted by seq; problems.front() is the first
  std::vector<std::string> warnings;  // e.g. missing triggers, unchecked signatures
  bool ok() const { return problems.empty(); }
};

// Recomputes the chain and checks every checkpoint. Returns a report even when the log is
// damaged (the damage is in report.problems); a non-OK status only when it cannot read.
Expected<VerifyReport> Verify(SqliteDb& db, const VerifyOptions& options);

}  // namespace facetrail::audit
