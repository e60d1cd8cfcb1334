#include <gtest/gtest.h>

#include "audit/audit.h"
#include "audit_test_util.h"

namespace facetrail::audit {
namespace {

using testing::StepClock;

SqliteDb OpenMemory() {
  auto db = SqliteDb::Open(":memory:");
  EXPECT_TRUE(db.ok());
  EXPECT_TRUE(Migrate(*db).ok());
  return std::move(*db);
}

TEST(AuditLogTest, AppendRequiresTransaction) {
  SqliteDb db = OpenMemory();
  AuditLog log(db, StepClock());
  auto e = log.Append({"alice", "search.request", "case:1", {}});
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(log.Head()->first, 0);
}

TEST(AuditLogTest, ChainLinksEntries) {
  SqliteDb db = OpenMemory();
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

TEST(AuditLogTest, RollbackRemovesEntryWithAction) {
  SqliteDb db = OpenMemory();
  AuditLog log(db, StepClock());
  Status s = db.InTransaction([&]() -> Status {
    FT_RETURN_IF_ERROR(log.Append({"alice", "search.request", "case:1", {}}).status());
    return PermissionDenied("the action failed after its entry was written");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(log.Head()->first, 0);
}

TEST(AuditLogTest, TriggersRefuseUpdateAndDelete) {
  SqliteDb db = OpenMemory();
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

TEST(CheckpointTest, SignVerifyAndKeyFilePermissions) {
  testing::ScratchDir dir;
  std::string key_path = dir.File("audit.key");
  auto key = CreateSigningKey(key_path);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(CreateSigningKey(key_path).status().code(), StatusCode::kAlreadyExists);
  auto loaded = LoadSigningKey(key_path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key.bytes, key->public_key.bytes);
  auto pub = LoadPublicKey(key_path + ".pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->bytes, key->public_key.bytes);
  ASSERT_EQ(::chmod(key_path.c_str(), 0640), 0);
  EXPECT_EQ(LoadSigningKey(key_path).status().code(), StatusCode::kPermissionDenied);

  SqliteDb db = OpenMemory();
  AuditLog log(db, StepClock());
  EXPECT_EQ(CreateCheckpoint(log, *key, "sup").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(log.AppendInOwnTransaction({"alice", "login", "user:alice", {}}).ok());
  auto cp = CreateCheckpoint(log, *key, "sup");
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->seq, 1);
  EXPECT_TRUE(CheckpointSignatureValid(*cp, key->public_key));
  Checkpoint forged = *cp;
  forged.seq = 2;
  EXPECT_FALSE(CheckpointSignatureValid(forged, key->public_key));
  auto line = ParseCheckpointLine(ExportCheckpointLine(*cp));
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->signature, cp->signature);

  auto report = Verify(db, {key->public_key, {}});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->num_checkpoints, 1);
  auto other = CreateSigningKey(dir.File("other.key"));
  ASSERT_TRUE(other.ok());
  report = Verify(db, {other->public_key, {}});
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->problems.front().kind, ProblemKind::kBadCheckpoint);
}

}  // namespace
}  // namespace facetrail::audit
