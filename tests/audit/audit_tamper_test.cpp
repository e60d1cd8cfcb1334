// Tamper detection with real edits of the database behind facetrail's back, on both back-ends: the
// sqlite3 command-line program on the file (triggers dropped), or a PostgreSQL superuser
// connection (triggers disabled): each edit must be caught by Verify and the first damaged entry
// named (docs/AUDIT.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "audit/audit.h"
#include "audit_test_util.h"

namespace facetrail::audit {
namespace {

using testing::Backend;

class AuditTamperTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    FT_AUDIT_TEST_DB(GetParam(), dir_.File("facetrail.db"), path_);
    key_path_ = dir_.File("audit.key");
    auto key = CreateSigningKey(key_path_);
    ASSERT_TRUE(key.ok());
    key_ = *key;
    auto db = Db::Open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(*db).ok());
    AuditLog log(*db, testing::StepClock());
    for (int i = 1; i <= 10; ++i) Add(log, i);
  }

  static void Add(AuditLog& log, int i) {
    ASSERT_TRUE(log.AppendInOwnTransaction({"user" + std::to_string(i % 3),
                                            "search.request",
                                            "request:" + std::to_string(i),
                                            {{"case", "2026-" + std::to_string(i)}}})
                    .ok());
  }

  // Checkpoints the 10 entries (logged as entry 11), then appends 12..16.
  void CheckpointAndContinue() {
    auto db = Db::Open(path_);
    ASSERT_TRUE(db.ok());
    AuditLog log(*db, testing::StepClock(1772500000));
    auto cp = CreateCheckpoint(log, key_, "supervisor");
    ASSERT_TRUE(cp.ok());
    std::ofstream(dir_.File("checkpoints.jsonl")) << ExportCheckpointLine(*cp) << "\n";
    for (int i = 12; i <= 16; ++i) Add(log, i);
  }

  Entry Read(int64_t seq) {
    auto db = Db::Open(path_);
    auto entries = AuditLog(*db).Read(seq, seq);
    EXPECT_EQ(entries->size(), 1u);
    return entries->front();
  }

  void Tamper(const std::string& sql) {
    ASSERT_EQ(testing::Tamper(GetParam(), path_, sql), "") << sql;
  }

  VerifyReport VerifyNow(bool with_external = false) {
    auto db = Db::Open(path_);
    EXPECT_TRUE(db.ok());
    VerifyOptions options;
    options.public_keys = {key_.public_key};
    if (with_external)
      options.external_checkpoints = *ReadCheckpointFile(dir_.File("checkpoints.jsonl"));
    auto report = Verify(*db, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return *report;
  }

  void ExpectFirst(const VerifyReport& report, ProblemKind kind, int64_t seq) {
    ASSERT_FALSE(report.ok()) << "tampering not detected";
    EXPECT_EQ(ProblemKindName(report.problems.front().kind), ProblemKindName(kind))
        << report.problems.front().message;
    EXPECT_EQ(report.problems.front().seq, seq) << report.problems.front().message;
  }

  testing::ScratchDir dir_;
  std::string path_;
  std::string key_path_;
  SigningKey key_;
};

TEST_P(AuditTamperTest, IntactLogVerifies) {
  CheckpointAndContinue();
  VerifyReport report = VerifyNow(true);
  EXPECT_TRUE(report.ok()) << report.problems.front().message;
  EXPECT_EQ(report.num_entries, 16);
  EXPECT_EQ(report.num_checkpoints, 1);
  ASSERT_EQ(report.warnings.size(), 1u);  // the entries after the checkpoint are not proven yet
  EXPECT_EQ(report.warnings[0].rfind("entries 11..16 are newer than the last verified", 0), 0u)
      << report.warnings[0];
}

TEST_P(AuditTamperTest, GuardsRefuseEditsWithoutDroppingTriggers) {
  const Backend b = GetParam();
  EXPECT_NE(testing::RunAsInsider(b, path_, "UPDATE audit_entries SET actor = 'x' WHERE seq = 4;"),
            "");
  EXPECT_NE(testing::RunAsInsider(b, path_, "DELETE FROM audit_entries WHERE seq = 4;"), "");
  if (b == Backend::kPostgres) {  // row triggers do not see TRUNCATE; statement triggers do
    const std::string truncate = testing::RunAsInsider(b, path_, "TRUNCATE audit_entries;");
    EXPECT_NE(truncate.find("append-only: TRUNCATE refused"), std::string::npos) << truncate;
    EXPECT_NE(testing::RunAsInsider(b, path_, "TRUNCATE audit_checkpoints;"), "");
  }
  VerifyReport report = VerifyNow();
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.num_entries, 10);
  EXPECT_TRUE(std::none_of(report.warnings.begin(), report.warnings.end(),
                           [](const auto& w) { return w.find("trigger") != std::string::npos; }));
}

TEST_P(AuditTamperTest, UpdatedRowIsNamed) {
  Tamper("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 4;");
  VerifyReport report = VerifyNow();
  ExpectFirst(report, ProblemKind::kChanged, 4);
  // The dropped (SQLite) or disabled (PostgreSQL) triggers are reported.
  EXPECT_TRUE(std::any_of(report.warnings.begin(), report.warnings.end(), [](const auto& w) {
    return w.find("append-only trigger audit_entries_no_update is") != std::string::npos;
  })) << (report.warnings.empty() ? "" : report.warnings.back());
}

TEST_P(AuditTamperTest, UpdatedDetailsIsNamed) {
  Tamper("UPDATE audit_entries SET details = '{\"case\":\"2026-999\"}' WHERE seq = 7;");
  ExpectFirst(VerifyNow(), ProblemKind::kChanged, 7);
}

TEST_P(AuditTamperTest, UpdatedAndRehashedRowIsNamed) {
  Entry e = Read(4);
  e.actor = "mallory";
  std::string new_hash = *ChainHash(e.prev_hash, e);
  Tamper("UPDATE audit_entries SET actor = 'mallory', hash = '" + new_hash + "' WHERE seq = 4;");
  ExpectFirst(VerifyNow(), ProblemKind::kChanged, 4);
}

TEST_P(AuditTamperTest, DeletedRowIsNamed) {
  Tamper("DELETE FROM audit_entries WHERE seq = 5;");
  ExpectFirst(VerifyNow(), ProblemKind::kRemoved, 5);
}

TEST_P(AuditTamperTest, DeletedRowWithRenumberingIsNamed) {
  Tamper(
      "DELETE FROM audit_entries WHERE seq = 5;"
      "UPDATE audit_entries SET seq = seq + 1000 WHERE seq > 5;"
      "UPDATE audit_entries SET seq = seq - 1001 WHERE seq > 1000;");
  ExpectFirst(VerifyNow(), ProblemKind::kRemoved, 5);
}

TEST_P(AuditTamperTest, SwappedRowsAreNamed) {
  Tamper(
      "UPDATE audit_entries SET seq = -3 WHERE seq = 3;"
      "UPDATE audit_entries SET seq = 3 WHERE seq = 6;"
      "UPDATE audit_entries SET seq = 6 WHERE seq = -3;");
  ExpectFirst(VerifyNow(), ProblemKind::kReordered, 3);
}

TEST_P(AuditTamperTest, AdjacentSwapIsNamed) {
  Tamper(
      "UPDATE audit_entries SET seq = -8 WHERE seq = 8;"
      "UPDATE audit_entries SET seq = 8 WHERE seq = 9;"
      "UPDATE audit_entries SET seq = 9 WHERE seq = -8;");
  ExpectFirst(VerifyNow(), ProblemKind::kReordered, 8);
}

TEST_P(AuditTamperTest, InsertedRowIsNamed) {
  Entry prev = Read(4);
  Tamper(
      "UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 5;"
      "UPDATE audit_entries SET seq = seq - 999 WHERE seq > 1000;"
      "INSERT INTO audit_entries VALUES (5, '2026-03-02T09:04:30Z', 'user1', 'search.request', "
      "'request:forged', '{}', '" +
      prev.hash + "', '" + std::string(64, 'a') + "');");
  ExpectFirst(VerifyNow(), ProblemKind::kInserted, 5);
}

TEST_P(AuditTamperTest, InsertedRowWithValidHashIsNamed) {
  Entry prev = Read(4);
  Entry forged{
      5, "2026-03-02T09:04:30Z", "user1", "search.request", "request:forged", "{}", prev.hash, ""};
  forged.hash = *ChainHash(forged.prev_hash, forged);
  Tamper(
      "UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 5;"
      "UPDATE audit_entries SET seq = seq - 999 WHERE seq > 1000;"
      "INSERT INTO audit_entries VALUES (5, '" +
      forged.time +
      "', 'user1', 'search.request', "
      "'request:forged', '{}', '" +
      prev.hash + "', '" + forged.hash + "');");
  ExpectFirst(VerifyNow(), ProblemKind::kInserted, 5);
}

TEST_P(AuditTamperTest, RowBeforeTheFirstIsNamed) {
  Entry first = Read(1);
  Tamper(
      "INSERT INTO audit_entries VALUES (0, '2026-03-02T08:00:00Z', 'x', 'login', 'user:x', "
      "'{}', '" +
      std::string(kGenesisHash) + "', '" + first.prev_hash + "');");
  ExpectFirst(VerifyNow(), ProblemKind::kInserted, 0);
}

TEST_P(AuditTamperTest, TruncationBelowCheckpointIsNamed) {
  CheckpointAndContinue();
  Tamper("DELETE FROM audit_entries WHERE seq > 8;");
  ExpectFirst(VerifyNow(), ProblemKind::kTruncated, 9);
}

TEST_P(AuditTamperTest, TruncationAfterLastCheckpointIsNamed) {
  CheckpointAndContinue();
  // Everything from the checkpoint's own entry (11) on is cut off.
  Tamper("DELETE FROM audit_entries WHERE seq >= 11;");
  ExpectFirst(VerifyNow(), ProblemKind::kTruncated, 11);
}

TEST_P(AuditTamperTest, TruncationWithCheckpointsRemovedIsCaughtByExternalCopy) {
  CheckpointAndContinue();
  Tamper("DELETE FROM audit_entries WHERE seq > 8; DELETE FROM audit_checkpoints;");
  EXPECT_TRUE(VerifyNow(false).problems.empty());  // the database alone cannot tell
  VerifyReport report = VerifyNow(true);
  ExpectFirst(report, ProblemKind::kTruncated, 9);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[1].kind, ProblemKind::kMissingCheckpoint);  // gone from the table
}

TEST_P(AuditTamperTest, RewrittenChainIsCaughtByCheckpoint) {
  CheckpointAndContinue();
  // Rewrite entry 6 and recompute every later hash, as a careful forger would.
  auto db = Db::Open(path_);
  auto entries = *AuditLog(*db).Read();
  std::string sql;
  std::string prev = entries[4].hash;
  for (size_t i = 5; i < entries.size(); ++i) {
    Entry e = entries[i];
    if (e.seq == 6) e.actor = "mallory";
    e.prev_hash = prev;
    e.hash = *ChainHash(e.prev_hash, e);
    prev = e.hash;
    sql += "UPDATE audit_entries SET actor = '" + e.actor + "', prev_hash = '" + e.prev_hash +
           "', hash = '" + e.hash + "' WHERE seq = " + std::to_string(e.seq) + ";";
  }
  db = std::move(*Db::Open(":memory:"));
  Tamper(sql);
  // The checkpoint (version 2) lists the hashes of entries 1..10: the first that differs is named.
  ExpectFirst(VerifyNow(), ProblemKind::kChanged, 6);
}

TEST_P(AuditTamperTest, ForgedCheckpointIsNamed) {
  CheckpointAndContinue();
  Tamper("UPDATE audit_checkpoints SET seq = 12;");
  // Entry 11 records a checkpoint of entry 10 that is gone; the row now claims entry 12.
  VerifyReport report = VerifyNow();
  ExpectFirst(report, ProblemKind::kMissingCheckpoint, 10);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[1].kind, ProblemKind::kBadCheckpoint);
  EXPECT_EQ(report.problems[1].seq, 12);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTamperTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace facetrail::audit
