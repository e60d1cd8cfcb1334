// Automatic checkpoints (audit/checkpointer.h): when they are signed, that they reach the external
// log, that the signer refuses a log it cannot verify, and that they bound the window in which the
// newest entries can be deleted unnoticed (docs/AUDIT.md, "Threat model"). On both back-ends.
#include "audit/checkpointer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "audit_test_util.h"

namespace facetrail::audit {
namespace {

namespace fs = std::filesystem;
using testing::Backend;

class CheckpointerTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.File("db"));
    fs::create_directories(dir_.File("keys"));
    FT_AUDIT_TEST_DB(GetParam(), dir_.File("db/facetrail.db"), db_path_);
    external_path_ = dir_.File("external.jsonl");
    key_ = *CreateSigningKey(dir_.File("keys/audit.key"));
    auto db = Db::Open(db_path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(*db).ok());
  }

  void Append(int n) {
    auto db = Db::Open(db_path_);
    AuditLog log(*db);
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(log.AppendInOwnTransaction({"sam", "search.request", "request:x", {}}).ok());
    }
  }

  std::unique_ptr<Checkpointer> Make(int64_t every_entries, int64_t every_seconds = 3600,
                                     int64_t poll_ms = 1000) {
    CheckpointerOptions o;
    o.every_entries = every_entries;
    o.every_seconds = every_seconds;
    o.poll_ms = poll_ms;
    o.log = [this](const std::string& line) {
      std::lock_guard lock(mu_);
      notes_.push_back(line);
    };
    auto c = Checkpointer::Create(db_path_, key_, {key_.public_key}, external_path_, o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  size_t NumRows() {
    auto db = Db::Open(db_path_);
    return ReadCheckpoints(*db)->size();
  }
  size_t NumLines() {
    auto lines = ReadCheckpointFile(external_path_);
    return lines.ok() ? lines->size() : 0;
  }

  VerifyReport VerifyWithExternal() {
    auto db = Db::Open(db_path_);
    VerifyOptions options;
    options.public_keys = {key_.public_key};
    options.require_checkpoint = true;
    options.external_checkpoints = *ReadCheckpointFile(external_path_);
    return *Verify(*db, options);
  }

  testing::ScratchDir dir_;
  std::string db_path_, external_path_;
  SigningKey key_;
  std::mutex mu_;
  std::vector<std::string> notes_;  // guarded by mu_
};

TEST_P(CheckpointerTest, SignsAtStartThenEveryNEntries) {
  Append(5);
  auto cp = Make(3);
  ASSERT_TRUE(cp->VerifyAndCatchUp().ok());
  EXPECT_EQ(NumRows(), 1u);  // entries 1..5, whatever N: the start catches up
  EXPECT_EQ(NumLines(), 1u);
  Append(2);  // 7, 8 (6 is the checkpoint's own entry)
  auto none = cp->RunOnce(false);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());  // 2 new entries < 3
  Append(1);
  auto made = cp->RunOnce(false);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_TRUE(made->has_value());
  EXPECT_EQ((*made)->seq, 9);
  EXPECT_EQ((*made)->from_seq, 6);
  EXPECT_EQ(NumLines(), 2u);
  auto nothing = cp->RunOnce(true);  // forced, but nothing new since its own entry
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  VerifyReport r = VerifyWithExternal();
  EXPECT_TRUE(r.ok()) << r.problems.front().message;
  EXPECT_EQ(r.proven_seq, 9);
  EXPECT_TRUE(r.last_checkpoint_external);
}

// admin init signs the first checkpoint into the database only; the signer copies it (and any
// other this key signed) to the external log once the log verifies.
TEST_P(CheckpointerTest, CheckpointsOnlyInTheDatabaseAreCopiedToTheExternalLog) {
  Append(3);
  {
    auto db = Db::Open(db_path_);
    AuditLog log(*db);
    ASSERT_TRUE(CreateCheckpoint(log, key_, "admin").ok());
  }
  Append(2);
  auto cp = Make(100);
  ASSERT_TRUE(cp->VerifyAndCatchUp().ok());
  auto lines = ReadCheckpointFile(external_path_);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].seq, 3);  // the copy, first
  EXPECT_EQ((*lines)[0].from_seq, 1);
  EXPECT_EQ((*lines)[1].seq, 6);
  ASSERT_TRUE(cp->VerifyAndCatchUp().ok());  // a restart: nothing copied twice
  EXPECT_EQ(NumLines(), 2u);
}

TEST_P(CheckpointerTest, SignsWhenTheIntervalPassedAndAnythingIsNew) {
  Append(1);
  auto cp = Make(1000, /*every_seconds=*/1);
  ASSERT_TRUE(cp->VerifyAndCatchUp().ok());
  Append(1);
  EXPECT_FALSE(cp->RunOnce(false)->has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto made = cp->RunOnce(false);
  ASSERT_TRUE(made.ok());
  EXPECT_TRUE(made->has_value());
}

TEST_P(CheckpointerTest, RefusesToSignALogItCannotVerify) {
  Append(4);
  {
    auto cp = Make(1);
    ASSERT_TRUE(cp->VerifyAndCatchUp().ok());
  }
  ASSERT_EQ(testing::Tamper(GetParam(), db_path_,
                            "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2;"),
            "");
  const size_t rows = NumRows();
  auto cp = Make(1);
  Status s = cp->VerifyAndCatchUp();
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("entry 2"), std::string::npos) << s.ToString();
  EXPECT_EQ(cp->status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(cp->RunOnce(true).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(NumRows(), rows);  // nothing signed over the damage
}

// The past rewritten while the signer runs, and the checkpoint rows deleted so that its next
// checkpoint would otherwise start from entry 1: it still remembers what it verified.
TEST_P(CheckpointerTest, StopsSigningWhenThePastChangesUnderIt) {
  Append(4);
  auto cp = Make(1);
  ASSERT_TRUE(cp->VerifyAndCatchUp().ok());
  auto db = Db::Open(db_path_);
  std::vector<Entry> entries = *AuditLog(*db).Read();
  std::string sql = "DELETE FROM audit_checkpoints;";
  std::string prev(kGenesisHash);
  for (Entry& e : entries) {
    if (e.seq == 2) e.actor = "mallory";
    e.prev_hash = prev;
    e.hash = *ChainHash(prev, e);
    prev = e.hash;
    sql += "UPDATE audit_entries SET actor = '" + e.actor + "', prev_hash = '" + e.prev_hash +
           "', hash = '" + e.hash + "' WHERE seq = " + std::to_string(e.seq) + ";";
  }
  ASSERT_EQ(testing::Tamper(GetParam(), db_path_, sql), "");
  Append(1);
  auto made = cp->RunOnce(true);
  EXPECT_EQ(made.status().code(), StatusCode::kDataLoss) << made.status().ToString();
  EXPECT_EQ(NumRows(), 0u);
  EXPECT_FALSE(cp->status().ok());
  EXPECT_EQ(cp->RunOnce(true).status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(CheckpointerTest, SigningKeyMustBePinnedAndTheLogOutsideTheDatabaseFolder) {
  auto other = CreateSigningKey(dir_.File("keys/other.key"));
  ASSERT_TRUE(other.ok());
  auto unpinned = Checkpointer::Create(db_path_, key_, {other->public_key}, external_path_, {});
  EXPECT_EQ(unpinned.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unpinned.status().message().find("not one of the pinned public keys"),
            std::string::npos);
  if (GetParam() == Backend::kSqlite) {  // a PostgreSQL database has no folder here
    auto inside =
        Checkpointer::Create(db_path_, key_, {key_.public_key}, dir_.File("db/cps.jsonl"), {});
    EXPECT_EQ(inside.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_P(CheckpointerTest, ThreadSignsWhileRunningAndOnceMoreAtStop) {
  Append(1);
  auto cp = Make(2, 3600, /*poll_ms=*/10);
  cp->Start();
  for (int i = 0; i < 500 && NumLines() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(NumLines(), 1u);  // the start's catch-up
  Append(2);
  for (int i = 0; i < 500 && NumLines() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(NumLines(), 2u);
  Append(1);  // fewer than 2: left to the stop
  cp->Stop();
  EXPECT_EQ(NumLines(), 3u);
  EXPECT_TRUE(cp->status().ok());
  VerifyReport r = VerifyWithExternal();
  EXPECT_TRUE(r.ok()) << r.problems.front().message;
  EXPECT_EQ(r.proven_seq, r.last_seq - 1);  // everything but the last checkpoint's own entry
}

// The window the threat model states: with a checkpoint every N entries reaching the external
// log, deleting more than the newest N + 1 entries (the tail and the last checkpoint's own entry)
// is caught, even with every checkpoint row deleted too; deleting only the tail is not.
TEST_P(CheckpointerTest, AutomaticCheckpointsBoundWhatCanBeDeletedUnnoticed) {
  constexpr int kEvery = 5;
  Append(1);
  auto cp = Make(kEvery);
  ASSERT_TRUE(cp->VerifyAndCatchUp().ok());
  for (int i = 0; i < 37; ++i) {  // one request after another, the thread's rounds in between
    Append(1);
    ASSERT_TRUE(cp->RunOnce(false).ok());
  }
  cp.reset();
  auto db = Db::Open(db_path_);
  const auto rows = *ReadCheckpoints(*db);
  const int64_t last_seq = AuditLog(*db).Head()->first;
  const int64_t last_checkpoint = rows.back().seq;
  ASSERT_GE(last_seq - last_checkpoint - 1, 0);
  EXPECT_LE(last_seq - last_checkpoint - 1, kEvery - 1);  // the unproven tail
  ASSERT_EQ(NumLines(), rows.size());
  // Deleting the tail after the last checkpoint's own entry: unnoticed (the stated window).
  ASSERT_EQ(testing::Tamper(GetParam(), db_path_,
                            "DELETE FROM audit_entries WHERE seq > " +
                                std::to_string(last_checkpoint + 1) + ";"),
            "");
  EXPECT_TRUE(VerifyWithExternal().ok());
  // One entry more (the checkpoint's own entry) and every checkpoint row: caught.
  ASSERT_EQ(
      testing::Tamper(GetParam(), db_path_,
                      "DELETE FROM audit_entries WHERE seq > " + std::to_string(last_checkpoint) +
                          "; DELETE FROM audit_checkpoints;"),
      "");
  VerifyReport r = VerifyWithExternal();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.problems.front().kind, ProblemKind::kTruncated);
  EXPECT_EQ(r.problems.front().seq, last_checkpoint + 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, CheckpointerTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace facetrail::audit
