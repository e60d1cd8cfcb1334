// Issue 14 §3 through the server: GET /api/v1/audit/verify trusts only the keys pinned in the
// server's configuration (never a key file beside the database), says which key verified and
// when, fails when checkpoints cannot be checked; automatic checkpoints reach the external log;
// the start-up refuses trusted files inside the database's folder and an unpinned signing key,
// and names database files open to group or others.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "audit/audit.h"
#include "common/command.h"
#include "server_test_util.h"

namespace facetrail::server::testing {
namespace {

namespace fs = std::filesystem;

class ServerAuditTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    std::string templ = (fs::temp_directory_path() / "ft-keys-XXXXXX").string();
    keys_ = ::mkdtemp(templ.data());  // outside the database's folder
    auto key = audit::CreateSigningKey(keys_ + "/audit.key");
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
    log_path_ = keys_ + "/checkpoints.jsonl";
  }
  void TearDown() override {
    ServerTest::TearDown();
    fs::remove_all(keys_);
  }

  ServerOptions Pinned(bool sign) const {
    ServerOptions o;
    o.audit_public_key_paths = {keys_ + "/audit.key.pub"};
    if (sign) {
      o.audit_signing_key_path = keys_ + "/audit.key";
      o.audit_checkpoint_log_path = log_path_;
      o.audit_checkpoint_entries = 2;
      o.audit_checkpoint_poll_ms = 10;
    }
    return o;
  }

  size_t NumLines() const {
    auto lines = audit::ReadCheckpointFile(log_path_);
    return lines.ok() ? lines->size() : 0;
  }
  void WaitForLines(size_t n) const {
    for (int i = 0; i < 1000 && NumLines() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // An auditor, signed in.
  Caller Auditor() {
    Caller admin = Login("admin", kAdminPassword);
    MakeUser(admin, "al", {"auditor"}, false);
    return Login("al", "al-password-1");
  }

  void Sqlite(const std::string& sql) {
    auto r = facetrail::testing::RunCommand("sqlite3 -bail '" + db_path_ + "' \"" + sql + "\"");
    ASSERT_EQ(r.exit_code, 0) << sql << ": " << r.out;
  }

  std::string keys_, log_path_;
  audit::SigningKey key_;
};

TEST_F(ServerAuditTest, VerifyNamesThePinnedKeyAndWhenAndAutomaticCheckpointsReachTheLog) {
  StartServer(Pinned(/*sign=*/true));
  WaitForLines(1);
  ASSERT_EQ(NumLines(), 1u);  // the start's checkpoint of what admin init wrote
  Caller al = Auditor();      // user.add, logins, session.create: a few entries
  WaitForLines(2);
  ASSERT_GE(NumLines(), 2u);
  Reply v = Send("GET", "/api/v1/audit/verify", al);
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_TRUE(v.body["ok"].get<bool>()) << v.raw;
  EXPECT_EQ(v.body["pinned_keys"], json::array({key_.public_key.KeyId()}));
  EXPECT_EQ(v.body["last_checkpoint"]["key_id"], key_.public_key.KeyId());
  EXPECT_TRUE(v.body["last_checkpoint"]["external"].get<bool>());
  EXPECT_TRUE(audit::ParseUtc(v.body["verified_at"].get<std::string>()).ok()) << v.raw;
  EXPECT_EQ(v.body["automatic_checkpoints"], "running");
  EXPECT_TRUE(v.body["external_log"].get<bool>());
  EXPECT_GE(v.body["proven_seq"].get<int64_t>(), 1);
  StopServer();  // a last checkpoint at stop
  auto db = Db::Open(db_path_, false);
  audit::VerifyOptions options;
  options.public_keys = {key_.public_key};
  options.require_checkpoint = true;
  options.external_checkpoints = *audit::ReadCheckpointFile(log_path_);
  auto r = audit::Verify(*db, options);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok()) << r->problems.front().message;
  EXPECT_EQ(r->proven_seq, r->last_seq - 1);  // all but the last checkpoint's own entry
}

// The attack on today's main: checkpoints re-signed with the attacker's key, whose .pub
// is put beside the database. Main took that file as the key and said "intact".
TEST_F(ServerAuditTest, KeyFileBesideTheDatabaseIsNeverTrusted) {
  auto mallory = audit::CreateSigningKey(db_path_ + ".audit-key");  // beside the database
  ASSERT_TRUE(mallory.ok());
  {
    auto db = Db::Open(db_path_);
    audit::AuditLog log(*db);
    ASSERT_TRUE(audit::CreateCheckpoint(log, *mallory, "mallory").ok());
  }
  StartServer();  // no pinned key
  Caller al = Auditor();
  Reply v = Send("GET", "/api/v1/audit/verify", al);
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_FALSE(v.body["ok"].get<bool>()) << v.raw;
  EXPECT_EQ(v.body["problems"][0]["kind"], "unverified") << v.raw;
  EXPECT_TRUE(v.body["pinned_keys"].empty());
  StopServer();
  StartServer(Pinned(false));
  al = Login("al", "al-password-1");
  v = Send("GET", "/api/v1/audit/verify", al);
  EXPECT_FALSE(v.body["ok"].get<bool>()) << v.raw;
  EXPECT_EQ(v.body["problems"][0]["kind"], "bad_checkpoint") << v.raw;
}

// Rewrite an entry, recompute every later hash, delete the checkpoint rows (sqlite3), restart.
TEST_F(ServerAuditTest, RewriteWithRecomputedHashesAndDeletedCheckpointRowsFails) {
  StartServer(Pinned(/*sign=*/true));
  WaitForLines(1);
  Caller al = Auditor();
  WaitForLines(2);
  StopServer();
  auto db = Db::Open(db_path_);
  std::vector<audit::Entry> entries = *audit::AuditLog(*db).Read();
  ASSERT_GE(entries.size(), 4u);
  std::string sql =
      "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_checkpoints_no_delete; "
      "DELETE FROM audit_checkpoints;";
  std::string prev(audit::kGenesisHash);
  for (audit::Entry& e : entries) {
    if (e.seq == 1) e.actor = "mallory";
    e.prev_hash = prev;
    e.hash = *audit::ChainHash(prev, e);
    prev = e.hash;
    sql += "UPDATE audit_entries SET actor = '" + e.actor + "', prev_hash = '" + e.prev_hash +
           "', hash = '" + e.hash + "' WHERE seq = " + std::to_string(e.seq) + ";";
  }
  Sqlite(sql);
  const size_t lines = NumLines();
  StartServer(Pinned(/*sign=*/true));
  al = Login("al", "al-password-1");
  Reply v;
  for (int i = 0; i < 500; ++i) {  // until the signer's start-up verification has run
    v = Send("GET", "/api/v1/audit/verify", al);
    if (v.body.value("automatic_checkpoints", "") == "stopped") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(v.status, 200) << v.raw;
  EXPECT_FALSE(v.body["ok"].get<bool>()) << v.raw;
  EXPECT_EQ(v.body["problems"][0]["kind"], "changed") << v.raw;
  EXPECT_EQ(v.body["problems"][0]["seq"], 1) << v.raw;  // named by the external log
  // The signer refuses to sign over it: no new checkpoint, and the dashboard says so.
  EXPECT_EQ(v.body["automatic_checkpoints"], "stopped") << v.raw;
  EXPECT_EQ(NumLines(), lines);
}

TEST_F(ServerAuditTest, StartUpRefusesTrustedFilesBesideTheDatabaseAndAnUnpinnedSigningKey) {
  fs::copy_file(keys_ + "/audit.key.pub", dir_ + "/pinned.pub");
  struct Case {
    ServerOptions options;
    std::string message;
  };
  std::vector<Case> cases(4);
  cases[0].options.audit_public_key_paths = {dir_ + "/pinned.pub"};
  cases[0].message = "inside the database's folder";
  cases[1].options = Pinned(true);
  cases[1].options.audit_checkpoint_log_path = dir_ + "/checkpoints.jsonl";
  cases[1].message = "inside the database's folder";
  cases[2].options.audit_signing_key_path = keys_ + "/audit.key";
  cases[2].message = "not one of the pinned public keys";
  cases[3].options = Pinned(false);
  cases[3].options.audit_checkpoint_log_path = keys_ + "/missing.jsonl";
  cases[3].message = "no such external checkpoint log";
  for (Case& c : cases) {
    SCOPED_TRACE(c.message);
    c.options.db_path = db_path_;
    auto s = Server::Create(c.options);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find(c.message), std::string::npos) << s.status().ToString();
  }
}

TEST_F(ServerAuditTest, StartUpNamesDatabaseFilesOpenToOthers) {
  ASSERT_EQ(::chmod(db_path_.c_str(), 0644), 0);
  ServerOptions o;
  o.db_path = db_path_;
  ::testing::internal::CaptureStderr();
  auto s = Server::Create(o);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_NE(err.find(db_path_ + " is open to group or others (mode 0644)"), std::string::npos)
      << err;
  EXPECT_NE(err.find(db_path_ + "-wal is open to group or others (mode 0644)"), std::string::npos)
      << err;  // SQLite gave the write-ahead log the database's mode
  for (const std::string& f : {db_path_, db_path_ + "-wal", db_path_ + "-shm"}) {
    if (fs::exists(f)) {
      ASSERT_EQ(::chmod(f.c_str(), 0600), 0) << f;
    }
  }
  ::testing::internal::CaptureStderr();
  auto again = Server::Create(o);
  EXPECT_EQ(::testing::internal::GetCapturedStderr().find("open to group or others"),
            std::string::npos);
}

TEST_F(ServerAuditTest, NewDatabaseFilesAreOwnerOnly) {
  for (const std::string& f : {db_path_, db_path_ + "-wal", db_path_ + "-shm"}) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) continue;  // -wal/-shm exist only while connections are open
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
}

}  // namespace
}  // namespace facetrail::server::testing
