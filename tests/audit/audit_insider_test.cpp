// Issue 14 §3: the audit log against an insider who can write the database (and its folder) but
// does not hold the signing key. Every attack is a real edit of the database behind facetrail's
// back, on both back-ends: the sqlite3 program on the file (triggers dropped), or a PostgreSQL
// connection with the tables' owner's or a superuser's rights (triggers disabled, rows rewritten);
// every hash is recomputed from public data as a careful forger would; each test states
// the verdict of a database-only verification (pinned key, checkpoints required) and of one that
// also reads the external checkpoint log, and the entry named. docs/AUDIT.md, "Threat model",
// states the same table.
//
// The log built by SetUp: entries 1..10, checkpoint A of entry 10 (its own entry 11), entries
// 12..19, checkpoint B of entry 19 (own entry 20), entries 21..25 (not yet checkpointed).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "audit/audit.h"
#include "audit_test_util.h"

namespace facetrail::audit {
namespace {

namespace fs = std::filesystem;
using testing::Backend;
using testing::RunSqlite3;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void ExpectFirst(const VerifyReport& report, ProblemKind kind, int64_t seq) {
  ASSERT_FALSE(report.ok()) << "tampering not detected";
  const Problem& p = report.problems.front();
  EXPECT_EQ(ProblemKindName(p.kind), ProblemKindName(kind)) << p.message;
  EXPECT_EQ(p.seq, seq) << p.message;
}

class AuditInsiderTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    for (const char* d : {"db", "keys", "external", "attacker"})
      fs::create_directories(dir_.File(d));
    FT_AUDIT_TEST_DB(GetParam(), dir_.File("db/facetrail.db"), db_path_);
    external_path_ = dir_.File("external/checkpoints.jsonl");
    auto key = CreateSigningKey(dir_.File("keys/audit.key"));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
    auto db = Db::Open(db_path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(*db).ok());
    Append(10);
    Sign();  // A: entry 10, own entry 11
    Append(8);
    Sign();  // B: entry 19, own entry 20
    Append(5);
    ASSERT_EQ(Entries().size(), 25u);
  }

  void Append(int n) {
    auto db = Db::Open(db_path_);
    AuditLog log(*db, testing::StepClock(clock_));
    for (int i = 0; i < n; ++i) {
      const int k = next_++;
      ASSERT_TRUE(log.AppendInOwnTransaction({"user" + std::to_string(k % 3),
                                              "search.request",
                                              "request:" + std::to_string(k),
                                              {{"case", "MPD-2026-" + std::to_string(k)}}})
                      .ok());
      clock_ += 60;
    }
  }

  // What the automatic checkpointer does: sign, then append the line to the external log.
  Checkpoint Sign() {
    auto db = Db::Open(db_path_);
    AuditLog log(*db, testing::StepClock(clock_));
    clock_ += 60;
    auto c = CreateCheckpoint(log, key_, "system");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    auto external = CheckpointLog::Open(external_path_, db_path_);
    EXPECT_TRUE(external.ok()) << external.status().ToString();
    EXPECT_TRUE(external->Append(*c).ok());
    return *c;
  }

  std::vector<Entry> Entries() {
    auto db = Db::Open(db_path_);
    return *AuditLog(*db).Read();
  }

  void Sql(const std::string& sql) {
    ASSERT_EQ(testing::Tamper(GetParam(), db_path_, sql), "") << sql;
  }

  // Replaces the whole table with `entries`, renumbered 1..n and re-chained: a log consistent in
  // itself. With `fix_records`, every audit.checkpoint entry's recorded head hash is made to
  // match the forged entry it names, as a careful forger would.
  void Forge(std::vector<Entry> entries, bool fix_records = true) {
    std::string sql = "DELETE FROM audit_entries;";
    std::string prev(kGenesisHash);
    std::map<int64_t, std::string> hash_of;
    for (size_t i = 0; i < entries.size(); ++i) {
      Entry& e = entries[i];
      e.seq = static_cast<int64_t>(i) + 1;
      if (fix_records && e.action == "audit.checkpoint") {
        auto d = nlohmann::json::parse(e.details);
        d["head_hash"] = hash_of[d["seq"].get<int64_t>()];
        e.details = d.dump();
      }
      e.prev_hash = prev;
      e.hash = *ChainHash(e.prev_hash, e);
      prev = e.hash;
      hash_of[e.seq] = e.hash;
      sql += "INSERT INTO audit_entries VALUES (" + std::to_string(e.seq) + ", " + Quote(e.time) +
             ", " + Quote(e.actor) + ", " + Quote(e.action) + ", " + Quote(e.subject) + ", " +
             Quote(e.details) + ", " + Quote(e.prev_hash) + ", " + Quote(e.hash) + ");";
    }
    Sql(sql);
  }

  // The honest log with entry `seq`'s actor changed, every hash after it recomputed.
  void RewriteEntry(int64_t seq) {
    std::vector<Entry> entries = Entries();
    entries[static_cast<size_t>(seq - 1)].actor = "mallory";
    Forge(entries);
  }

  VerifyReport Check(bool with_external) {
    auto db = Db::Open(db_path_, /*create=*/false);
    EXPECT_TRUE(db.ok());
    VerifyOptions options;
    options.public_keys = {key_.public_key};  // pinned from keys/, outside the database folder
    options.require_checkpoint = true;
    if (with_external) options.external_checkpoints = *ReadCheckpointFile(external_path_);
    auto report = Verify(*db, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return *report;
  }
  VerifyReport DbOnly() { return Check(false); }
  VerifyReport WithExternal() { return Check(true); }

  testing::ScratchDir dir_;
  std::string db_path_, external_path_;
  SigningKey key_;
  int next_ = 1;
  int64_t clock_ = 1772442000;
};

TEST_P(AuditInsiderTest, IntactLogVerifiesAndNamesTheUnprovenTail) {
  for (const VerifyReport& r : {DbOnly(), WithExternal()}) {
    EXPECT_TRUE(r.ok()) << r.problems.front().message;
    EXPECT_EQ(r.proven_seq, 19);
    ASSERT_TRUE(r.last_checkpoint.has_value());
    EXPECT_EQ(r.last_checkpoint->key_id, key_.public_key.KeyId());
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].rfind("entries 20..25 are newer than the last verified checkpoint", 0),
              0u)
        << r.warnings[0];
  }
  EXPECT_TRUE(WithExternal().last_checkpoint_external);
  EXPECT_EQ(WithExternal().num_external_checkpoints, 2);
}

TEST_P(AuditInsiderTest, RewrittenEntryWithRecomputedHashesIsNamedExactly) {
  RewriteEntry(6);
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 6);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 6);
  RewriteEntry(14);  // in the second checkpoint's stretch
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 6);
}

TEST_P(AuditInsiderTest, RewriteInTheSecondStretchIsNamedExactly) {
  RewriteEntry(14);
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 14);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 14);
}

// The first attack: rewrite, recompute, delete the checkpoint rows. The chain's own
// audit.checkpoint entries still name the deleted checkpoints.
TEST_P(AuditInsiderTest, RewriteThenDeleteCheckpointRows) {
  RewriteEntry(6);
  Sql("DELETE FROM audit_checkpoints;");
  VerifyReport db_only = DbOnly();
  ExpectFirst(db_only, ProblemKind::kMissingCheckpoint, 10);
  EXPECT_NE(db_only.problems.front().message.find("entry 11 records a checkpoint of entry 10"),
            std::string::npos)
      << db_only.problems.front().message;
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 6);
}

// The external log lacks the first checkpoint (say it was only ever in the database): the second
// lists entries 11..19 only, so a rewrite of entry 6 shows first at entry 11; the verdict names
// the stretch no checkpoint examined, from its first entry, rather than entry 11.
TEST_P(AuditInsiderTest, RewriteBeforeTheFirstListedEntryIsNamedAsTheUnexaminedStretch) {
  std::vector<Checkpoint> lines = *ReadCheckpointFile(external_path_);
  std::ofstream(external_path_, std::ios::trunc) << ExportCheckpointLine(lines[1]) << "\n";
  RewriteEntry(6);
  Sql("DELETE FROM audit_checkpoints;");
  VerifyReport r = WithExternal();
  ExpectFirst(r, ProblemKind::kChanged, 1);
  EXPECT_NE(r.problems.front().message.find("it or one of entries 1..10 before it"),
            std::string::npos)
      << r.problems.front().message;
}

TEST_P(AuditInsiderTest, CheckpointRowsDeletedWithoutRewriteFail) {
  Sql("DELETE FROM audit_checkpoints WHERE seq = 19;");
  ExpectFirst(DbOnly(), ProblemKind::kMissingCheckpoint, 19);
  ExpectFirst(WithExternal(), ProblemKind::kMissingCheckpoint, 19);
}

// Every trace of the checkpoints removed: rows, and their entries (the log renumbered and
// re-chained). The database alone then shows a log that was never checkpointed: a verifier that
// pins a key expects checkpoints and fails; the external log names the altered entry.
TEST_P(AuditInsiderTest, RewriteThenRemoveEveryTraceOfCheckpoints) {
  std::vector<Entry> entries = Entries();
  entries[5].actor = "mallory";
  std::erase_if(entries, [](const Entry& e) { return e.action == "audit.checkpoint"; });
  Forge(entries);
  Sql("DELETE FROM audit_checkpoints;");
  VerifyReport db_only = DbOnly();
  ExpectFirst(db_only, ProblemKind::kUnverified, 1);
  ASSERT_EQ(db_only.problems.size(), 1u);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 6);
}

TEST_P(AuditInsiderTest, RemovingOnlyACheckpointsOwnEntryIsNamed) {
  std::vector<Entry> entries = Entries();
  entries.erase(entries.begin() + 10);  // entry 11, A's own entry; 12.. renumbered
  Forge(entries);
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 11);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 11);
}

TEST_P(AuditInsiderTest, CheckpointsOwnEntryRewrittenIsNamed) {
  std::vector<Entry> entries = Entries();
  auto d = nlohmann::json::parse(entries[10].details);
  d["key_id"] = "0000000000000000";
  entries[10].details = d.dump();
  Forge(entries);
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 11);
}

TEST_P(AuditInsiderTest, InsertedEntryWithRecomputedHashesIsNamed) {
  std::vector<Entry> entries = Entries();
  Entry forged = entries[6];
  forged.subject = "request:forged";
  entries.insert(entries.begin() + 7, forged);  // becomes entry 8
  Forge(entries);
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 8);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 8);
}

TEST_P(AuditInsiderTest, DeletedEntryWithRenumberingAndRecomputedHashesIsNamed) {
  std::vector<Entry> entries = Entries();
  entries.erase(entries.begin() + 4);  // entry 5
  Forge(entries);
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 5);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 5);
}

TEST_P(AuditInsiderTest, ReorderedEntriesWithRecomputedHashesAreNamed) {
  std::vector<Entry> entries = Entries();
  std::swap(entries[2], entries[6]);  // entries 3 and 7
  Forge(entries);
  ExpectFirst(DbOnly(), ProblemKind::kChanged, 3);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 3);
}

// The key file beside the database replaced by the attacker's, and every checkpoint re-signed
// with the attacker's key over the rewritten log. Nothing trusts the file beside the database;
// the pinned key does not know the new signatures.
TEST_P(AuditInsiderTest, SwappedKeyFileAndResignedCheckpointsFail) {
  auto mallory = CreateSigningKey(dir_.File("attacker/k"));
  ASSERT_TRUE(mallory.ok());
  if (GetParam() == Backend::kSqlite) {  // a PostgreSQL database has no folder beside it
    fs::copy_file(dir_.File("attacker/k.pub"), db_path_ + ".audit-key.pub");
    EXPECT_EQ(LoadPinnedPublicKey(db_path_ + ".audit-key.pub", db_path_).status().code(),
              StatusCode::kInvalidArgument);
  }

  std::vector<Entry> entries = Entries();
  entries[5].actor = "mallory";
  for (Entry& e : entries) {
    if (e.action != "audit.checkpoint") continue;
    auto d = nlohmann::json::parse(e.details);
    d["key_id"] = mallory->public_key.KeyId();
    e.details = d.dump();
  }
  Forge(entries);
  std::vector<Entry> forged = Entries();
  std::string sql;
  auto db = Db::Open(db_path_);
  const std::vector<Checkpoint> rows = *ReadCheckpoints(*db);
  for (Checkpoint c : rows) {
    c.head_hash = forged[static_cast<size_t>(c.seq - 1)].hash;
    c.entry_hashes.clear();
    for (int64_t i = c.from_seq; i <= c.seq; ++i) {
      c.entry_hashes += forged[static_cast<size_t>(i - 1)].hash.substr(0, kEntryHashPrefixChars);
    }
    SignCheckpoint(c, *mallory);
    ASSERT_TRUE(CheckpointSignatureValid(c, mallory->public_key));
    sql += "UPDATE audit_checkpoints SET head_hash = " + Quote(c.head_hash) +
           ", entry_hashes = " + Quote(c.entry_hashes) + ", key_id = " + Quote(c.key_id) +
           ", signature = " + Quote(c.signature) + " WHERE seq = " + std::to_string(c.seq) + ";";
  }
  Sql(sql);
  VerifyReport db_only = DbOnly();
  ExpectFirst(db_only, ProblemKind::kBadCheckpoint, 10);
  EXPECT_NE(db_only.problems.front().message.find("which is not pinned"), std::string::npos)
      << db_only.problems.front().message;
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 6);

  // Pinning the attacker's key (as a verifier that trusted the file beside the database would):
  // the database then looks intact, but the external log still names the rewrite.
  auto db2 = Db::Open(db_path_);
  VerifyOptions fooled;
  fooled.public_keys = {mallory->public_key};
  fooled.require_checkpoint = true;
  EXPECT_TRUE(Verify(*db2, fooled)->ok());
  fooled.external_checkpoints = *ReadCheckpointFile(external_path_);
  EXPECT_FALSE(Verify(*db2, fooled)->ok());
}

TEST_P(AuditInsiderTest, CheckpointSignedByAnUnpinnedKeyFails) {
  auto mallory = CreateSigningKey(dir_.File("attacker/k"));
  ASSERT_TRUE(mallory.ok());
  {
    auto db = Db::Open(db_path_);
    AuditLog log(*db, testing::StepClock(clock_));
    ASSERT_TRUE(CreateCheckpoint(log, *mallory, "mallory").ok());
  }
  VerifyReport r = DbOnly();
  ExpectFirst(r, ProblemKind::kBadCheckpoint, 25);
  EXPECT_NE(r.problems.front().message.find("signed by key " + mallory->public_key.KeyId() +
                                            ", which is not pinned"),
            std::string::npos)
      << r.problems.front().message;
}

// Deleting the newest entries: caught while a checkpoint row still covers them; once the rows go
// too, only the external log can tell (rollback to an earlier checkpoint).
TEST_P(AuditInsiderTest, DeletedNewestEntriesAreCaughtByTheCheckpointThatCoversThem) {
  Sql("DELETE FROM audit_entries WHERE seq >= 18;");
  ExpectFirst(DbOnly(), ProblemKind::kTruncated, 18);
  ExpectFirst(WithExternal(), ProblemKind::kTruncated, 18);
}

TEST_P(AuditInsiderTest, RollbackToAnEarlierCheckpointNeedsTheExternalLog) {
  Sql("DELETE FROM audit_entries WHERE seq >= 18; DELETE FROM audit_checkpoints WHERE seq = 19;");
  VerifyReport db_only = DbOnly();
  EXPECT_TRUE(db_only.ok()) << db_only.problems.front().message;  // the documented limit
  EXPECT_EQ(db_only.proven_seq, 10);  // and the report says how far the proof goes
  ExpectFirst(WithExternal(), ProblemKind::kTruncated, 18);
}

// A replayed old checkpoint: the attacker rewrites inside B's stretch, deletes B's row and inserts
// a second copy of the (genuine) row A. A proves only 1..10; B is still recorded by entry 20.
TEST_P(AuditInsiderTest, ReplayedOldCheckpointProvesNothingNew) {
  RewriteEntry(15);
  Sql("DELETE FROM audit_checkpoints WHERE seq = 19; INSERT INTO audit_checkpoints(version, seq, "
      "head_hash, time, key_id, from_seq, entry_hashes, signature) SELECT version, seq, "
      "head_hash, time, key_id, from_seq, entry_hashes, signature FROM audit_checkpoints WHERE "
      "seq = 10;");
  VerifyReport db_only = DbOnly();
  ExpectFirst(db_only, ProblemKind::kMissingCheckpoint, 19);
  EXPECT_EQ(db_only.proven_seq, 10);
  ExpectFirst(WithExternal(), ProblemKind::kChanged, 15);
}

// Replay by restoring an old copy of the database (a backup): consistent in itself, and with
// genuine checkpoints; only the external log knows the log went on. SQLite: the file copied back;
// PostgreSQL: the database recreated from a copy made earlier (CREATE DATABASE … TEMPLATE, as a
// restore of an old dump would leave it).
TEST_P(AuditInsiderTest, RestoredOldCopyOfTheDatabaseNeedsTheExternalLog) {
  const bool pg = GetParam() == Backend::kPostgres;
  std::string admin_uri, name;
  if (pg) {
    admin_uri = ::facetrail::testing::PgCluster::Get(nullptr)->Uri("postgres");
    name = testing::PgDatabaseName(db_path_);
    ASSERT_EQ(testing::RunAsInsider(GetParam(), admin_uri,
                                    "CREATE DATABASE " + name + "_old TEMPLATE " + name),
              "");  // entries 1..25, A and B
  } else {
    ASSERT_EQ(RunSqlite3(db_path_, "PRAGMA wal_checkpoint(TRUNCATE);"), 0);
    fs::copy_file(db_path_, dir_.File("attacker/old.db"));  // entries 1..25, A and B
  }
  Append(6);
  Sign();  // C: entry 31, own entry 32
  Append(2);
  if (pg) {
    ASSERT_EQ(testing::RunAsInsider(GetParam(), admin_uri, "DROP DATABASE " + name), "");
    ASSERT_EQ(testing::RunAsInsider(GetParam(), admin_uri,
                                    "CREATE DATABASE " + name + " TEMPLATE " + name + "_old"),
              "");
  } else {
    fs::remove(db_path_ + "-wal");
    fs::remove(db_path_ + "-shm");
    fs::copy_file(dir_.File("attacker/old.db"), db_path_, fs::copy_options::overwrite_existing);
  }
  EXPECT_TRUE(DbOnly().ok());
  ExpectFirst(WithExternal(), ProblemKind::kTruncated, 26);
}

// The window: entries after the last checkpoint's own entry can be deleted (or rewritten)
// unnoticed, by any verifier; the report says which entries are unproven.
TEST_P(AuditInsiderTest, TailAfterTheLastCheckpointIsTheStatedWindow) {
  Sql("DELETE FROM audit_entries WHERE seq >= 21;");
  VerifyReport r = WithExternal();
  EXPECT_TRUE(r.ok()) << r.problems.front().message;
  EXPECT_EQ(r.proven_seq, 19);
  Sql("DELETE FROM audit_entries WHERE seq = 20;");  // the checkpoint's own entry: one too many
  ExpectFirst(DbOnly(), ProblemKind::kTruncated, 20);
  ExpectFirst(WithExternal(), ProblemKind::kTruncated, 20);
}

TEST_P(AuditInsiderTest, ForgedLineInTheExternalLogFails) {
  auto mallory = CreateSigningKey(dir_.File("attacker/k"));
  ASSERT_TRUE(mallory.ok());
  std::vector<Checkpoint> lines = *ReadCheckpointFile(external_path_);
  Checkpoint c = lines.back();
  c.seq = 25;
  SignCheckpoint(c, *mallory);
  std::ofstream(external_path_, std::ios::app) << ExportCheckpointLine(c) << "\n";
  ExpectFirst(WithExternal(), ProblemKind::kBadCheckpoint, 25);
  std::ofstream(external_path_, std::ios::app) << "{not json\n";
  auto read = ReadCheckpointFile(external_path_);
  ASSERT_FALSE(read.ok());  // a verifier reading it fails instead of ignoring the line
  EXPECT_NE(read.status().message().find("line 4"), std::string::npos) << read.status().ToString();
}

TEST_P(AuditInsiderTest, CheckpointsWithoutAPinnedKeyAreUnverified) {
  auto db = Db::Open(db_path_);
  auto r = Verify(*db, VerifyOptions{});
  ASSERT_TRUE(r.ok());
  ExpectFirst(*r, ProblemKind::kUnverified, 1);
  EXPECT_NE(r->problems.front().message.find("no public key is pinned"), std::string::npos);
  // Damage found by comparison still comes first, then the verdict that nothing is proven.
  RewriteEntry(6);
  r = Verify(*db, VerifyOptions{});
  ExpectFirst(*r, ProblemKind::kChanged, 6);
  EXPECT_EQ(r->problems.back().kind, ProblemKind::kUnverified);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditInsiderTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

TEST(AuditInsiderFreshTest, PinnedKeyButNoCheckpointIsUnverifiedWhenRequired) {
  testing::ScratchDir dir;
  auto key = CreateSigningKey(dir.File("k"));
  auto db = Db::Open(dir.File("f.db"));
  ASSERT_TRUE(Migrate(*db).ok());
  VerifyOptions options;
  options.public_keys = {key->public_key};
  options.require_checkpoint = true;
  EXPECT_TRUE(Verify(*db, options)->ok());  // an empty log needs no proof
  AuditLog log(*db, testing::StepClock());
  ASSERT_TRUE(log.AppendInOwnTransaction({"admin", "admin.init", "user:admin", {}}).ok());
  auto r = Verify(*db, options);
  ExpectFirst(*r, ProblemKind::kUnverified, 1);
  options.require_checkpoint = false;  // a signer checking the log before its first checkpoint
  EXPECT_TRUE(Verify(*db, options)->ok());
  ASSERT_TRUE(CreateCheckpoint(log, *key, "admin").ok());
  options.require_checkpoint = true;
  EXPECT_TRUE(Verify(*db, options)->ok());
}

}  // namespace
}  // namespace facetrail::audit
