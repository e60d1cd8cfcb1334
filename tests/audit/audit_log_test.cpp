#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "audit/audit.h"
#include "audit_test_util.h"

namespace facetrail::audit {
namespace {

using testing::StepClock;

using testing::Backend;

// The storage-facing cases, on SQLite (in memory) and on a fresh PostgreSQL database.
class AuditLogDbTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string uri;
    FT_AUDIT_TEST_DB(GetParam(), ":memory:", uri);
    auto db = Db::Open(uri);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(Migrate(*db).ok());
    db_.emplace(std::move(*db));
  }
  std::optional<Db> db_;
};

TEST_P(AuditLogDbTest, AppendRequiresTransaction) {
  Db& db = *db_;
  AuditLog log(db, StepClock());
  auto e = log.Append({"alice", "search.request", "case:1", {}});
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(log.Head()->first, 0);
}

TEST_P(AuditLogDbTest, ChainLinksEntries) {
  Db& db = *db_;
  AuditLog log(db, StepClock());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(log.AppendInOwnTransaction({"alice", "login", "user:alice", {{"n", i}}}).ok());
  }
  auto entries = log.Read();
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].prev_hash, kGenesisHash);
  EXPECT_EQ((*entries)[0].time, "2026-03-02T09:00:00Z");
  EXPECT_EQ((*entries)[1].prev_hash, (*entries)[0].hash);
  EXPECT_EQ((*entries)[2].prev_hash, (*entries)[1].hash);
  EXPECT_EQ((*entries)[2].details, R"({"n":2})");
  for (const auto& e : *entries) EXPECT_EQ(*ChainHash(e.prev_hash, e), e.hash);
  auto report = Verify(db, {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->num_entries, 3);
}

TEST(AuditLogTest, CanonicalEncodingIsUnambiguous) {
  // Moving a byte from one field to the next must change the encoding (length prefixes).
  Entry a{1, "t", "ab", "c", "s", "{}", "", ""};
  Entry b{1, "t", "a", "bc", "s", "{}", "", ""};
  EXPECT_NE(CanonicalEncoding(a), CanonicalEncoding(b));
  // Known answer (computed independently with Python from docs/AUDIT.md), so that the documented
  // format (docs/AUDIT.md) cannot drift silently.
  Entry k{1,
          "2026-01-01T00:00:00Z",
          "admin",
          "user.add",
          "user:bob",
          R"({"roles":["searcher"]})",
          std::string(kGenesisHash),
          ""};
  std::string enc = CanonicalEncoding(k);
  EXPECT_EQ(enc.substr(0, 8), "FTAUDIT1");
  EXPECT_EQ(enc.size(), 8u + 8u + 5 * 4u + 20 + 5 + 8 + 8 + 22);
  EXPECT_EQ(*ChainHash(kGenesisHash, k),
            "b2b95685e072417dbd3bac512bb2ca2ff8b3e220ea6051b9140cd6245c79e7d6");
}

TEST_P(AuditLogDbTest, RollbackRemovesEntryWithAction) {
  Db& db = *db_;
  AuditLog log(db, StepClock());
  Status s = db.InTransaction([&]() -> Status {
    FT_RETURN_IF_ERROR(log.Append({"alice", "search.request", "case:1", {}}).status());
    return PermissionDenied("the action failed after its entry was written");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(log.Head()->first, 0);
}

TEST_P(AuditLogDbTest, TriggersRefuseUpdateAndDelete) {
  Db& db = *db_;
  AuditLog log(db, StepClock());
  ASSERT_TRUE(log.AppendInOwnTransaction({"alice", "login", "user:alice", {}}).ok());
  EXPECT_FALSE(db.Exec("UPDATE audit_entries SET actor = 'bob'").ok());
  EXPECT_FALSE(db.Exec("DELETE FROM audit_entries").ok());
  EXPECT_TRUE(Verify(db, {})->ok());
}

TEST(AuditLogTest, UtcRoundTrip) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*ParseUtc("2026-11-22T00:42:03Z"), 1795308123);
  EXPECT_EQ(FormatUtc(*ParseUtc("2026-11-22T00:42:03Z")), "2026-11-22T00:42:03Z");
  EXPECT_FALSE(ParseUtc("2026-11-22 00:42:03").ok());
}

TEST_P(AuditLogDbTest, SignVerifyAndKeyFilePermissions) {
  testing::ScratchDir dir;
  std::string key_path = dir.File("audit.key");
  const mode_t old_umask = ::umask(0);  // even so: both files owner-only
  auto key = CreateSigningKey(key_path);
  ::umask(old_umask);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  for (const std::string& f : {key_path, key_path + ".pub"}) {
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  EXPECT_EQ(CreateSigningKey(key_path).status().code(), StatusCode::kAlreadyExists);
  auto loaded = LoadSigningKey(key_path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key.bytes, key->public_key.bytes);
  auto pub = LoadPublicKey(key_path + ".pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->bytes, key->public_key.bytes);
  ASSERT_EQ(::chmod(key_path.c_str(), 0640), 0);
  EXPECT_EQ(LoadSigningKey(key_path).status().code(), StatusCode::kPermissionDenied);

  Db& db = *db_;
  AuditLog log(db, StepClock());
  EXPECT_EQ(CreateCheckpoint(log, *key, "sup").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(log.AppendInOwnTransaction({"alice", "login", "user:alice", {}}).ok());
  auto cp = CreateCheckpoint(log, *key, "sup");
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->version, 2);
  EXPECT_EQ(cp->seq, 1);
  EXPECT_EQ(cp->from_seq, 1);
  EXPECT_EQ(cp->entry_hashes, cp->head_hash.substr(0, kEntryHashPrefixChars));
  EXPECT_TRUE(CheckpointSignatureValid(*cp, key->public_key));
  Checkpoint forged = *cp;
  forged.seq = 2;
  EXPECT_FALSE(CheckpointSignatureValid(forged, key->public_key));
  forged = *cp;
  forged.entry_hashes[0] = forged.entry_hashes[0] == '0' ? '1' : '0';  // the list is signed too
  EXPECT_FALSE(CheckpointSignatureValid(forged, key->public_key));
  auto line = ParseCheckpointLine(ExportCheckpointLine(*cp));
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->signature, cp->signature);
  EXPECT_EQ(line->entry_hashes, cp->entry_hashes);
  EXPECT_TRUE(CheckpointSignatureValid(*line, key->public_key));

  // The next checkpoint lists the entries since this one: its own entry (2) and entry 3.
  ASSERT_TRUE(log.AppendInOwnTransaction({"bob", "login", "user:bob", {}}).ok());
  auto next = CreateCheckpoint(log, *key, "sup");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->from_seq, 2);
  EXPECT_EQ(next->seq, 3);
  EXPECT_EQ(next->entry_hashes.size(), 2 * kEntryHashPrefixChars);

  VerifyOptions options;
  options.public_keys = {key->public_key};
  auto report = Verify(db, options);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  EXPECT_EQ(report->num_checkpoints, 2);
  EXPECT_EQ(report->proven_seq, 3);
  ASSERT_TRUE(report->last_checkpoint.has_value());
  EXPECT_EQ(report->last_checkpoint->signature, next->signature);
  EXPECT_EQ(report->pinned_key_ids, std::vector<std::string>{key->public_key.KeyId()});
  auto other = CreateSigningKey(dir.File("other.key"));
  ASSERT_TRUE(other.ok());
  options.public_keys = {other->public_key};
  report = Verify(db, options);
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->problems.front().kind, ProblemKind::kBadCheckpoint);
  EXPECT_NE(report->problems.front().message.find("which is not pinned"), std::string::npos);
}

// The signed text of both versions, byte for byte (docs/AUDIT.md). The SHA-256 of the list was
// computed independently: hashlib.sha256(b'0123456789abcdeffedcba9876543210').hexdigest().
TEST(CheckpointTest, MessageFormatsArePinned) {
  Checkpoint c;
  c.version = 1;
  c.seq = 7;
  c.head_hash = std::string(64, 'a');
  c.time = "2026-03-02T09:00:00Z";
  c.key_id = "0123456789abcdef";
  EXPECT_EQ(CheckpointMessage(c), "facetrail-checkpoint-v1\n7\n" + c.head_hash +
                                      "\n2026-03-02T09:00:00Z\n0123456789abcdef\n");
  c.version = 2;
  c.from_seq = 6;
  c.entry_hashes = "0123456789abcdeffedcba9876543210";
  EXPECT_EQ(CheckpointMessage(c),
            "facetrail-checkpoint-v2\n7\n" + c.head_hash +
                "\n2026-03-02T09:00:00Z\n0123456789abcdef\n6\n"
                "ba4f290c4e996ff09f764b7a316e184a85e2ac6766183b66102d1dea7cd3c15d\n");
  auto v1 = ParseCheckpointLine(
      R"({"format":"facetrail-checkpoint-v1","seq":7,"head_hash":"aa","time":"t","key_id":"k",)"
      R"("signature":"00"})");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->version, 1);
  EXPECT_FALSE(ParseCheckpointLine(R"({"format":"facetrail-checkpoint-v3","seq":1})").ok());
}

// A version 1 checkpoint (written before version 2 existed) still verifies.
TEST_P(AuditLogDbTest, VersionOneCheckpointsStillVerify) {
  testing::ScratchDir dir;
  auto key = CreateSigningKey(dir.File("k"));
  ASSERT_TRUE(key.ok());
  Db& db = *db_;
  AuditLog log(db, StepClock());
  ASSERT_TRUE(log.AppendInOwnTransaction({"alice", "login", "user:alice", {}}).ok());
  auto head = log.Head();
  Checkpoint c;
  c.version = 1;
  c.seq = head->first;
  c.head_hash = head->second;
  c.time = "2026-03-02T10:00:00Z";
  SignCheckpoint(c, *key);
  ASSERT_TRUE(db.InTransaction([&]() -> Status {
                  auto stmt = db.Prepare(
                      "INSERT INTO audit_checkpoints(seq, head_hash, time, key_id, signature) "
                      "VALUES (?, ?, ?, ?, ?)");
                  FT_RETURN_IF_ERROR(stmt.status());
                  stmt->Bind(1, c.seq).Bind(2, c.head_hash).Bind(3, c.time).Bind(4, c.key_id);
                  FT_RETURN_IF_ERROR(stmt->Bind(5, c.signature).Run());
                  return log
                      .Append({"sup",
                               "audit.checkpoint",
                               "audit",
                               {{"seq", c.seq}, {"head_hash", c.head_hash}, {"key_id", c.key_id}}})
                      .status();
                }).ok());
  VerifyOptions options;
  options.public_keys = {key->public_key};
  auto report = Verify(db, options);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  EXPECT_EQ(report->proven_seq, 1);
  auto stored = ReadCheckpoints(db);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->front().version, 1);
  // The next (version 2) checkpoint starts after it.
  auto next = CreateCheckpoint(log, *key, "sup");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->from_seq, 2);
}

TEST(CheckpointTest, TrustedFilesMustLiveOutsideTheDatabaseFolder) {
  testing::ScratchDir dir;
  std::filesystem::create_directories(dir.File("db"));
  std::filesystem::create_directories(dir.File("keys"));
  auto key = CreateSigningKey(dir.File("db/f.db.audit-key"));
  ASSERT_TRUE(key.ok());
  std::filesystem::copy_file(dir.File("db/f.db.audit-key.pub"), dir.File("keys/audit.pub"));
  const std::string db = dir.File("db/f.db");
  auto beside = LoadPinnedPublicKey(dir.File("db/f.db.audit-key.pub"), db);
  EXPECT_EQ(beside.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(beside.status().message().find("inside the database's folder"), std::string::npos)
      << beside.status().ToString();
  auto pinned = LoadPinnedPublicKey(dir.File("keys/audit.pub"), db);
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  EXPECT_EQ(pinned->bytes, key->public_key.bytes);
  EXPECT_EQ(CheckpointLog::Open(dir.File("db/checkpoints.jsonl"), db).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckpointLog::Open(dir.File("db/sub/checkpoints.jsonl"), db).status().code(),
            StatusCode::kInvalidArgument);
  // The database named through a link in another folder: its real folder counts too.
  std::ofstream(db) << "";
  std::filesystem::create_directories(dir.File("link"));
  std::filesystem::create_symlink(db, dir.File("link/f.db"));
  EXPECT_EQ(
      LoadPinnedPublicKey(dir.File("db/f.db.audit-key.pub"), dir.File("link/f.db")).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadPinnedPublicKey(dir.File("link/k.pub"), dir.File("link/f.db")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(LoadPinnedPublicKey(dir.File("keys/audit.pub"), dir.File("link/f.db")).ok());
  // A PostgreSQL database has no folder on this machine: nothing here is beside it.
  EXPECT_TRUE(CheckOutsideDatabaseFolder(dir.File("db/checkpoints.jsonl"),
                                         "postgresql://facetrail@db.example:5432/facetrail",
                                         "the external checkpoint log")
                  .ok());
  EXPECT_TRUE(CheckOutsideDatabaseFolder(dir.File("db/checkpoints.jsonl"),
                                         "postgres://facetrail@/facetrail?host=/run/postgresql",
                                         "the external checkpoint log")
                  .ok());
}

// The SQLite spellings every --db accepts (common/db_uri.h) name the same file as the bare path:
// the check looks at that file's folder, not at the text ("sqlite:/abs/f.db" is no folder
// "sqlite:/abs"), so a key beside the database is refused however the database is written.
TEST(CheckpointTest, TrustedFilesBesideADatabaseAreRefusedWhateverItsSpelling) {
  testing::ScratchDir dir;
  std::filesystem::create_directories(dir.File("db"));
  std::filesystem::create_directories(dir.File("keys"));
  const std::string db = dir.File("db/f.db");
  ASSERT_EQ(db.front(), '/');
  for (const std::string& spelling :
       {db, "sqlite:" + db, "sqlite://" + db, "file:" + db, "file://" + db}) {
    SCOPED_TRACE(spelling);
    Status beside =
        CheckOutsideDatabaseFolder(dir.File("db/checkpoints.jsonl"), spelling, "the log");
    EXPECT_EQ(beside.code(), StatusCode::kInvalidArgument) << beside.ToString();
    EXPECT_NE(beside.message().find("inside the database's folder (" + dir.File("db") + ")"),
              std::string::npos)
        << beside.ToString();
    EXPECT_TRUE(
        CheckOutsideDatabaseFolder(dir.File("keys/checkpoints.jsonl"), spelling, "the log").ok());
  }
  // No file, no folder.
  EXPECT_TRUE(
      CheckOutsideDatabaseFolder(dir.File("checkpoints.jsonl"), ":memory:", "the log").ok());
  // Not a database spelling at all: refused, not read as a path.
  EXPECT_EQ(CheckOutsideDatabaseFolder(dir.File("keys/c.jsonl"), "mysql://h/db", "the log").code(),
            StatusCode::kInvalidArgument);
}

TEST(CheckpointTest, ExternalLogAppendsOwnerOnlyLines) {
  testing::ScratchDir dir;
  auto key = CreateSigningKey(dir.File("k"));
  ASSERT_TRUE(key.ok());
  std::filesystem::create_directories(dir.File("db"));
  const std::string path = dir.File("checkpoints.jsonl");
  std::ofstream(path) << "";  // an existing file is appended to, never truncated
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  auto log_file = CheckpointLog::Open(path, dir.File("db/f.db"));
  ASSERT_TRUE(log_file.ok()) << log_file.status().ToString();
  Checkpoint c;
  c.seq = 1;
  c.head_hash = std::string(64, 'b');
  c.time = "2026-03-02T09:00:00Z";
  c.from_seq = 1;
  c.entry_hashes = c.head_hash.substr(0, kEntryHashPrefixChars);
  SignCheckpoint(c, *key);
  ASSERT_TRUE(log_file->Append(c).ok());
  c.seq = 2;
  c.from_seq = 2;
  SignCheckpoint(c, *key);
  ASSERT_TRUE(log_file->Append(c).ok());
  auto lines = ReadCheckpointFile(path);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[1].seq, 2);
  EXPECT_TRUE(CheckpointSignatureValid((*lines)[1], key->public_key));
  const std::string fresh = dir.File("new.jsonl");
  const mode_t old_umask = ::umask(0);
  ASSERT_TRUE(CheckpointLog::Open(fresh, dir.File("db/f.db")).ok());
  ::umask(old_umask);
  struct stat st {};
  ASSERT_EQ(::stat(fresh.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogDbTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace facetrail::audit
