// The command line end to end: admin init, users, certificates, the accountable search's
// refusals (exit status 3, {"refused": …} under --json), review, reports, and audit verify
// catching an edit made with the sqlite3 program.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "audit/audit.h"
#include "common/command.h"
#include "common/db_query.h"
#include "common/file.h"
#include "common/pg_cluster.h"

namespace {

namespace fs = std::filesystem;

using CliRun = facetrail::testing::CommandRun;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "ft-cli-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    db_ = dir_ + "/f.db";
    trust_ = dir_ + "-trust";  // outside the database's folder: the pinned key, the external log
    fs::create_directories(trust_);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(trust_);
  }

  // The public key of the key 'admin init' created, pinned from outside the database's folder.
  std::string Pinned() {
    const std::string pinned = trust_ + "/pinned.pub";
    if (!fs::exists(pinned)) fs::copy_file(db_ + ".audit-key.pub", pinned);
    return " --public-key '" + pinned + "'";
  }
  std::string External() const { return " --checkpoints '" + trust_ + "/checkpoints.jsonl'"; }

  // Runs facetrail with `args` (shell words) and the given password; captures stdout.
  CliRun Ft(const std::string& args, const std::string& password = "",
            const std::string& new_password = "") {
    std::string cmd = "cd '" + dir_ + "' && FACETRAIL_PASSWORD='" + password +
                      "' FACETRAIL_NEW_PASSWORD='" + new_password + "' '" +
                      FACETRAIL_BINARY_DIR "/facetrail' " + args + " 2>/dev/null </dev/null";
    return facetrail::testing::RunCommand(cmd);
  }

  void CreateUsers() {
    ASSERT_EQ(
        Ft("admin init " + Db() + Key() + " --name admin --agency 'Metro PD'", "admin-password-1")
            .exit_code,
        0);
    for (auto [name, roles] :
         {std::pair{"sam", "searcher"}, {"eve", "examiner"}, {"al", "auditor"}}) {
      ASSERT_EQ(Ft(std::string("admin user add " + Db() + " --user admin --name ") + name +
                       " --agency 'Metro PD' --roles " + roles,
                   "admin-password-1", std::string(name) + "-password-1")
                    .exit_code,
                0);
    }
    ASSERT_EQ(Ft("admin cert add " + Db() +
                     " --user admin --name sam --course FC --number FC-1 "
                     "--issued 2020-01-01 --expires 2099-12-31 --issued-by Academy",
                 "admin-password-1")
                  .exit_code,
              0);
  }

  CliRun Search(const std::string& extra, const std::string& probe = "probe.jpg") {
    return Ft("search " + Db() +
                  " --user sam --offense robbery --justification 'CCTV still' "
                  "--probe " +
                  probe + " --json --models '" FACETRAIL_MODELS_DIR "' " + extra,
              "sam-password-1");
  }

  static nlohmann::json Refused(const CliRun& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_object() && j.contains("refused") ? j["refused"] : nlohmann::json();
  }

  // `--db` of the test's database: f.db (the commands run in its folder), or the PostgreSQL URI.
  std::string Db() const { return pg_uri_.empty() ? "--db f.db" : "--db '" + pg_uri_ + "'"; }
  // The signing key: beside f.db by default; a PostgreSQL database has no folder, so there the
  // key is kept where it would be beside the file (db_.audit-key) and named with --key.
  std::string Key() const { return pg_uri_.empty() ? "" : " --key '" + db_ + ".audit-key'"; }
  bool postgres() const { return !pg_uri_.empty(); }

  // One text column of `sql` on the test's database, a line per row (what the sqlite3 program
  // prints), read the same way on either engine.
  std::string Query(const std::string& sql) const {
    return facetrail::testing::TextColumnLines(postgres() ? pg_uri_ : db_, sql);
  }

  std::string dir_, db_, trust_;
  std::string pg_uri_;  // set on the PostgreSQL parameter (CliBackendTest)
};

// The cases that are about what the commands store run on both engines: a SQLite file, and a
// fresh database on the PostgreSQL test cluster with the real binary given `--db postgresql://…`.
// (The SQLite-only ones are about the file itself: its mode, its spellings, edits with the
// sqlite3 program, `admin init` removing what it created; the insider edits have PostgreSQL
// counterparts in audit_test.)
enum class Backend { kSqlite, kPostgres };
std::string BackendName(const ::testing::TestParamInfo<Backend>& param) {
  return param.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class CliBackendTest : public CliTest, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    if (GetParam() == Backend::kPostgres) FT_PG_DATABASE_OR_SKIP(pg_uri_);
  }
};

TEST_P(CliBackendTest, RefusalsExitThreeWithJson) {
  CreateUsers();
  std::ofstream(dir_ + "/probe.jpg") << "\xFF\xD8\xFF\xE0 not really a jpeg";
  const std::string ok = "--case MPD-2026-0001 --purpose 'criminal investigation' ";
  struct Case {
    std::string args, probe, code;
  };
  const std::vector<Case> cases = {
      {ok + "--agency 'County Sheriff'", "probe.jpg", "outside_agency"},
      {"--case 'not a case' --purpose 'criminal investigation' --agency 'Metro PD'", "probe.jpg",
       "malformed_case_number"},
      {"--case MPD-2026-0001 --purpose 'curiosity' --agency 'Metro PD'", "probe.jpg",
       "purpose_not_allowed"},
      {ok + "--agency 'Metro PD'", "clip.mp4", "probe_is_video"},
      {ok + "--agency 'Metro PD'", "rtsp://camera/live", "probe_is_video"},
  };
  std::ofstream(dir_ + "/clip.mp4", std::ios::binary) << std::string(
      "\0\0\0\x18"
      "ftypisom\0\0\x02\0isomiso2",
      24);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.code);
    CliRun r = Search(c.args, c.probe);
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(Refused(r)["code"], c.code) << r.out;
  }
  CliRun bad = Ft("search " + Db() +
                      " --user sam --case MPD-2026-0001 --purpose x --offense o "
                      "--justification j --agency 'Metro PD' --probe probe.jpg --json",
                  "wrong-password");
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_EQ(Refused(bad)["code"], "unauthenticated");
  // Without --user a database under accountability refuses the search.
  CliRun plain = Ft("search " + Db() + " --probe probe.jpg --json");
  EXPECT_EQ(plain.exit_code, 3);
  EXPECT_EQ(Refused(plain)["code"], "unaccountable_search");
  // The admin cannot search, the searcher cannot administer.
  CliRun admin =
      Ft("search " + Db() +
             " --user admin --case MPD-2026-0001 --purpose "
             "'criminal investigation' --offense o --justification j --agency 'Metro PD' "
             "--probe probe.jpg --json",
         "admin-password-1");
  EXPECT_EQ(Refused(admin)["code"], "wrong_role");
  CliRun add = Ft("admin user add " + Db() +
                      " --user sam --name zed --agency 'Metro PD' --roles "
                      "searcher --json",
                  "sam-password-1", "zed-password-12");
  EXPECT_EQ(add.exit_code, 3);
  // All of it is in the report, which only the auditor may run.
  EXPECT_EQ(Ft("audit report " + Db() + " --user sam --json", "sam-password-1").exit_code, 3);
  CliRun report = Ft("audit report " + Db() + " --user al", "al-password-1");
  ASSERT_EQ(report.exit_code, 0);
  auto j = nlohmann::json::parse(report.out);
  EXPECT_EQ(j["refusals"]["per_code"]["probe_is_video"], 2);
  EXPECT_EQ(j["refusals"]["per_code"]["outside_agency"], 1);
  EXPECT_EQ(j["searches"]["total"], 0);
}

// Issue 17: a probe that is not there, under --json, prints JSON, exits 1 (an error, not a
// refusal), and the attempt is audited; a missing --agency says so.
TEST_P(CliBackendTest, MissingProbeAndMissingAgencyWithJson) {
  CreateUsers();
  const std::string ok = "--case MPD-2026-0001 --purpose 'criminal investigation' ";
  CliRun r = Search(ok + "--agency 'Metro PD'", "/missing/probe.jpg");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << "not JSON: " << r.out;
  EXPECT_EQ(j["error"]["code"], "not_found") << r.out;
  EXPECT_NE(j["error"]["message"].get<std::string>().find("/missing/probe.jpg"), std::string::npos);
  // Not an image: an input error (exit 2), audited too.
  std::ofstream(dir_ + "/notes.jpg") << "these are my notes, not a photograph";
  r = Search(ok + "--agency 'Metro PD'", "notes.jpg");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << "not JSON: " << r.out;
  EXPECT_EQ(j["error"]["code"], "invalid_argument") << r.out;
  // No agency at all.
  std::ofstream(dir_ + "/probe.jpg") << "\xFF\xD8\xFF\xE0 not really a jpeg";
  r = Search(ok, "probe.jpg");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_EQ(Refused(r)["code"], "missing_agency") << r.out;
  EXPECT_NE(Refused(r)["reason"].get<std::string>().find("missing agency"), std::string::npos);
  CliRun report = Ft("audit report " + Db() + " --user al --json", "al-password-1");
  ASSERT_EQ(report.exit_code, 0) << report.out;
  auto rep = nlohmann::json::parse(report.out);
  EXPECT_EQ(rep["refusals"]["per_code"]["probe_unreadable"], 2) << report.out;
  EXPECT_EQ(rep["refusals"]["per_code"]["missing_agency"], 1) << report.out;
}

// Help and limits agree (issue 17): --top's help names the policy's cap, not only the CLI's range.
// Issue 14 §4: command-line arguments are text checked at the edge, before any command runs:
// invalid UTF-8, control characters and oversized arguments are usage errors naming the
// argument, and nothing reaches the database or the audit log.
TEST_P(CliBackendTest, ArgumentsThatAreNotTextAreRefusedBeforeAnythingRuns) {
  CreateUsers();
  auto counts = [&] {
    return Query(
        "SELECT (SELECT count(*) FROM audit_entries) || '/' || (SELECT count(*) FROM "
        "policy_users)");
  };
  const std::string before = counts();
  ASSERT_FALSE(before.empty());
  const std::string bin = "'" FACETRAIL_BINARY_DIR "/facetrail'";
  for (const std::string& name :
       {std::string("\"$(printf 'a\\377b')\""), std::string("\"$(printf 'a\\001b')\""),
        std::string("\"$(head -c 9000 /dev/zero | tr '\\0' x)\"")}) {
    SCOPED_TRACE(name);
    auto r = facetrail::testing::RunCommand(
        "cd '" + dir_ +
        "' && FACETRAIL_PASSWORD=admin-password-1 FACETRAIL_NEW_PASSWORD=x-password-1 " + bin +
        " admin user add " + Db() + " --user admin --agency 'Metro PD' --roles searcher --name " +
        name + " 2>&1 </dev/null");
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_NE(r.out.find("argument 13 (the value of --name)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nothing was done"), std::string::npos) << r.out;
  }
  EXPECT_EQ(counts(), before);
}

TEST_F(CliTest, TopHelpNamesThePolicyCap) {
  CliRun help = Ft("search --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("max_top_k"), std::string::npos) << help.out;
}

TEST_P(CliBackendTest, AdminSignsAUserOutEverywhere) {
  CreateUsers();
  CliRun ok = Ft("admin sessions revoke " + Db() + " --user admin --name sam --reason 'phone lost'",
                 "admin-password-1");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("sam: signed out everywhere (0 session(s) and 0 API token(s) revoked)"),
            std::string::npos)
      << ok.out;
  CliRun refused = Ft("admin sessions revoke " + Db() + " --user sam --name eve --reason x --json",
                      "sam-password-1");
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_EQ(Refused(refused)["code"], "wrong_role");
  CliRun exported = Ft("audit export " + Db() + " --user al", "al-password-1");
  ASSERT_EQ(exported.exit_code, 0);
  EXPECT_NE(exported.out.find("\"action\":\"session.revoke\""), std::string::npos);
  EXPECT_NE(exported.out.find("phone lost"), std::string::npos);
}

TEST_F(CliTest, InitOnceAndVerifyCatchesSqliteEdit) {
  CreateUsers();
  EXPECT_NE(Ft("admin init --db f.db --name root --agency X", "admin-password-1").exit_code, 0);
  EXPECT_TRUE(fs::exists(dir_ + "/f.db.audit-key"));
  EXPECT_EQ((fs::status(dir_ + "/f.db.audit-key").permissions() & fs::perms::all),
            fs::perms::owner_read | fs::perms::owner_write);
  CliRun cp = Ft("audit checkpoint --db f.db --user admin --out '" + trust_ + "/checkpoints.jsonl'",
                 "admin-password-1");
  ASSERT_EQ(cp.exit_code, 0) << cp.out;
  EXPECT_EQ(Ft("audit verify --db f.db" + Pinned() + External()).exit_code, 0);
  ASSERT_EQ(std::system(("sqlite3 '" + db_ +
                         "' \"DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET "
                         "actor = 'mallory' WHERE seq = 3;\"")
                            .c_str()),
            0);
  CliRun v = Ft("audit verify --db f.db --json" + Pinned() + External());
  EXPECT_EQ(v.exit_code, 1);
  auto j = nlohmann::json::parse(v.out);
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["problems"][0]["seq"], 3);
  EXPECT_EQ(j["problems"][0]["kind"], "changed");
}

TEST_P(CliBackendTest, RealSearchAndReview) {
  const fs::path images = fs::path(FACETRAIL_SHARED_DIR) / "data/lfw-deepfunneled-dev/images";
  if (!fs::exists(fs::path(FACETRAIL_MODELS_DIR) / "face_recognition_model.bin") ||
      !fs::exists(images / "Aaron_Sorkin")) {
    GTEST_SKIP() << "models or LFW images missing (scripts/fetch-models)";
  }
  {
    std::ofstream m(dir_ + "/m.csv");
    m << "booking_number,photo,name\n";
    int i = 0;
    for (const char* p : {"Aaron_Sorkin", "Abdullah", "Abel_Pacheco", "Abdoulaye_Wade"}) {
      m << "B-" << ++i << "," << p << "/" << p << "_0001.jpg," << p << "\n";
    }
  }
  ASSERT_EQ(
      Ft("enroll " + Db() + " --manifest m.csv --models '" FACETRAIL_MODELS_DIR "' --images '" +
         images.string() + "'")
          .exit_code,
      0);
  CreateUsers();
  fs::copy_file(images / "Aaron_Sorkin/Aaron_Sorkin_0002.jpg", dir_ + "/probe.jpg");
  CliRun r = Search(
      "--case MPD-2026-0001 --purpose 'criminal investigation' --agency 'Metro PD' "
      "--top 3");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["notice"],
            "Investigative lead only \u2014 not a positive identification. Human review required.");
  ASSERT_FALSE(j["candidates"].empty());
  EXPECT_EQ(j["candidates"][0]["booking_number"], "B-1");
  EXPECT_EQ(j["status"], "pending_review");
  EXPECT_EQ(r.out.find("identified"), std::string::npos);
  // Issue 17: review list --json shows the candidates each pending list holds.
  ASSERT_EQ(Ft("admin user add " + Db() +
                   " --user admin --name sue --agency 'Metro PD' --roles "
                   "supervisor",
               "admin-password-1", "sue-password-1")
                .exit_code,
            0);
  CliRun listed = Ft("review list " + Db() + " --user sue --json", "sue-password-1");
  ASSERT_EQ(listed.exit_code, 0) << listed.out;
  auto lj = nlohmann::json::parse(listed.out);
  ASSERT_EQ(lj.size(), 1u) << listed.out;
  ASSERT_EQ(lj[0]["candidates"].size(), j["candidates"].size()) << listed.out;
  EXPECT_EQ(lj[0]["candidates"][0]["booking_number"], "B-1");
  EXPECT_FALSE(lj[0]["candidates"][0].contains("conclusion"));
  std::string marks;
  for (const auto& c : j["candidates"]) {
    const std::string rank = std::to_string(c["rank"].get<int>());
    marks += " --conclusion '" + rank + "=insufficient detail' --component " + rank +
             ":ears=not_visible";
  }
  CliRun ex = Ft("review examine " + Db() + " --user eve --request 1" + marks, "eve-password-1");
  EXPECT_EQ(ex.exit_code, 3);  // eve has no certificate
  CliRun bad = Ft("review examine " + Db() + " --user eve --request 1 --component 1:earz=similar",
                  "eve-password-1");
  EXPECT_NE(bad.exit_code, 0);  // refused before anything is attempted
  // The auditor exports the stored probe, byte for byte (audited probe.view).
  CliRun exported =
      Ft("review show " + Db() + " --user al --request 1 --export-probe out.jpg", "al-password-1");
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  EXPECT_NE(exported.out.find("select_face"), std::string::npos) << exported.out;
  auto out_bytes = facetrail::ReadFileBytes(dir_ + "/out.jpg", size_t{16} << 20);
  auto probe_bytes = facetrail::ReadFileBytes(dir_ + "/probe.jpg", size_t{16} << 20);
  ASSERT_TRUE(out_bytes.ok() && probe_bytes.ok());
  EXPECT_EQ(*out_bytes, *probe_bytes);
  EXPECT_EQ(Ft("audit verify " + Db() + Pinned()).exit_code, 0);
}

// Once 'admin init' ran, gallery changes and look-ups need a user with the right role; each is
// audited. Before it (a development gallery) they run as plain commands.
TEST_P(CliBackendTest, GalleryCommandsUnderAccountability) {
  const fs::path images = fs::path(FACETRAIL_SHARED_DIR) / "data/lfw-deepfunneled-dev/images";
  if (!fs::exists(fs::path(FACETRAIL_MODELS_DIR) / "face_recognition_model.bin") ||
      !fs::exists(images / "Aaron_Sorkin")) {
    GTEST_SKIP() << "models or LFW images missing (scripts/fetch-models)";
  }
  const std::string models = " --models '" FACETRAIL_MODELS_DIR "' --threads 1 --no-snapshot" +
                             std::string(" --images '") + images.string() + "'";
  std::ofstream(dir_ + "/m1.csv") << "booking_number,photo,name\n"
                                  << "B-1,Aaron_Sorkin/Aaron_Sorkin_0001.jpg,Aaron Sorkin\n";
  std::ofstream(dir_ + "/m2.csv") << "booking_number,photo,name\n"
                                  << "B-2,Abel_Pacheco/Abel_Pacheco_0001.jpg,Abel Pacheco\n";
  ASSERT_EQ(Ft("enroll " + Db() + " --manifest m1.csv" + models).exit_code, 0);
  ASSERT_EQ(Ft("gallery seal " + Db() + " B-1").exit_code, 0);  // development gallery: no users
  ASSERT_EQ(Ft("gallery unseal " + Db() + " B-1").exit_code, 0);

  CreateUsers();
  ASSERT_EQ(Ft("admin user add " + Db() +
                   " --user admin --name sue --agency 'Metro PD' --roles "
                   "supervisor",
               "admin-password-1", "sue-password-1")
                .exit_code,
            0);
  CliRun r = Ft("gallery seal " + Db() + " B-1");
  EXPECT_EQ(r.exit_code, 3);
  r = Ft("gallery seal " + Db() + " B-1 --user eve --reason 'court order'", "eve-password-1");
  EXPECT_EQ(r.exit_code, 3);
  r = Ft("gallery seal " + Db() + " B-1 --user sue", "sue-password-1");
  EXPECT_EQ(r.exit_code, 2) << "a seal needs a reason";
  r = Ft("gallery seal " + Db() + " B-1 --user sue --reason 'court order 17' --json",
         "sue-password-1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  {  // issue 17: --json on every command that changes something
    auto sealed = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(sealed.is_object()) << r.out;
    EXPECT_EQ(sealed["booking_number"], "B-1");
    EXPECT_EQ(sealed["status"], "sealed");
  }
  r = Ft("gallery show " + Db() + " B-1 --json");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(Refused(r)["code"], "unaccountable_view");
  r = Ft("gallery show " + Db() + " B-1 --json --user sue", "sue-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "sealed");
  r = Ft("gallery expunge " + Db() + " B-1 --user sue --reason 'acquitted'", "wrong-password");
  EXPECT_EQ(r.exit_code, 3);

  EXPECT_EQ(Ft("enroll " + Db() + " --manifest m2.csv" + models).exit_code, 3);
  EXPECT_EQ(
      Ft("enroll " + Db() + " --manifest m2.csv --user sam" + models, "sam-password-1").exit_code,
      3);
  ASSERT_EQ(Ft("enroll " + Db() + " --manifest m2.csv --user admin" + models, "admin-password-1")
                .exit_code,
            0);

  // What the log says, read from the database.
  const std::string out = Query(
      "SELECT actor || ' ' || action FROM audit_entries WHERE action LIKE 'gallery.%' ORDER BY "
      "seq");
  EXPECT_EQ(out,
            "unknown gallery.refused\n"  // seal without --user
            "eve gallery.refused\n"      // wrong role
            "sue gallery.seal\n"
            "unknown gallery.refused\n"  // show without --user
            "sue gallery.view\n"
            "unknown gallery.refused\n"  // enroll without --user
            "sam gallery.refused\n"      // searcher may not enrol
            "admin gallery.enroll.start\n"
            "admin gallery.enroll\n");
  EXPECT_EQ(Ft("audit verify " + Db() + Pinned()).exit_code, 0);
}

// ---- Issue 14 §3: the audit log against an insider with write access to the database ----
// Each of these passed ("intact", or a checkpoint signed) on main before the issue was fixed.

// Rewrites the entries from `seq` on (actor "mallory" at `seq`), every hash recomputed, with the
// sqlite3 program; `extra_sql` runs in the same script.
void RewriteFrom(const std::string& db, int64_t seq, const std::string& extra_sql = "") {
  auto conn = facetrail::Db::Open(db, false);
  ASSERT_TRUE(conn.ok());
  std::vector<facetrail::audit::Entry> entries = *facetrail::audit::AuditLog(*conn).Read();
  std::string sql =
      "DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_checkpoints_no_delete; "
      "DROP TRIGGER audit_checkpoints_no_update;" +
      extra_sql;
  std::string prev(facetrail::audit::kGenesisHash);
  for (auto& e : entries) {
    if (e.seq == seq) e.actor = "mallory";
    e.prev_hash = prev;
    e.hash = *facetrail::audit::ChainHash(prev, e);
    prev = e.hash;
    if (e.seq < seq) continue;
    sql += "UPDATE audit_entries SET actor = '" + e.actor + "', prev_hash = '" + e.prev_hash +
           "', hash = '" + e.hash + "' WHERE seq = " + std::to_string(e.seq) + ";";
  }
  std::ofstream(db + ".sql") << sql;
  ASSERT_EQ(std::system(("sqlite3 -bail '" + db + "' < '" + db + ".sql'").c_str()), 0);
}

TEST_F(CliTest, AdminInitSaysWhereTheKeyIsAndToPinItAndFilesAreOwnerOnly) {
  CliRun init = Ft("admin init --db f.db --name admin --agency 'Metro PD'", "admin-password-1");
  ASSERT_EQ(init.exit_code, 0);
  auto pub = facetrail::audit::LoadPublicKey(db_ + ".audit-key.pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_NE(init.out.find("key id " + pub->KeyId()), std::string::npos) << init.out;
  EXPECT_NE(init.out.find("f.db.audit-key.pub. Pin a copy of it kept OUTSIDE the database's "
                          "folder"),
            std::string::npos)
      << init.out;
  EXPECT_NE(init.out.find("--audit-public-key"), std::string::npos) << init.out;
  for (const std::string& f : {db_, db_ + ".audit-key", db_ + ".audit-key.pub"}) {
    EXPECT_EQ(fs::status(f).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << f;
  }
  // The first checkpoint is signed at once: a pinned verification passes right away.
  CliRun v = Ft("audit verify --db f.db" + Pinned());
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_NE(v.out.find("with pinned key " + pub->KeyId()), std::string::npos) << v.out;
}

TEST_F(CliTest, VerifyNeverTakesTheKeyFromBesideTheDatabase) {
  CreateUsers();
  CliRun v = Ft("audit verify --db f.db");  // f.db.audit-key.pub is right there
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_NE(v.out.find("AUDIT LOG NOT VERIFIED"), std::string::npos) << v.out;
  v = Ft("audit verify --db f.db --public-key f.db.audit-key.pub");
  EXPECT_EQ(v.exit_code, 2) << v.out;
  v = Ft("audit verify --db f.db --public-key ./sub/../f.db.audit-key.pub");
  EXPECT_EQ(v.exit_code, 2) << v.out;
  EXPECT_EQ(Ft("audit verify --db f.db" + Pinned()).exit_code, 0);
}

TEST_F(CliTest, RewriteRecomputeAndDeleteTheCheckpointRowsFails) {
  CreateUsers();
  ASSERT_EQ(Ft("audit checkpoint --db f.db --user admin --out '" + trust_ + "/checkpoints.jsonl'",
               "admin-password-1")
                .exit_code,
            0);
  RewriteFrom(db_, 3, "DELETE FROM audit_checkpoints;");
  CliRun v = Ft("audit verify --db f.db --json" + Pinned());
  EXPECT_EQ(v.exit_code, 1) << v.out;
  // The database alone: the chain's checkpoint entries name checkpoints the table lacks, and the
  // head hash they record no longer matches; which entry changed is known with the external log.
  auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["problems"][0]["kind"], "changed") << v.out;
  EXPECT_EQ(j["problems"][1]["kind"], "missing_checkpoint") << v.out;
  v = Ft("audit verify --db f.db --json" + Pinned() + External());
  EXPECT_EQ(v.exit_code, 1) << v.out;
  j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["problems"][0]["kind"], "changed") << v.out;
  EXPECT_EQ(j["problems"][0]["seq"], 3) << v.out;
}

// The key files beside the database replaced with the attacker's, the log rewritten and
// re-signed with the facetrail program itself (the attacker also holds an admin account).
TEST_F(CliTest, SwappedKeyFilesAndResignedCheckpointsFail) {
  CreateUsers();
  Pinned();  // the auditors' copy, taken at init
  fs::remove(db_ + ".audit-key");
  fs::remove(db_ + ".audit-key.pub");
  ASSERT_TRUE(facetrail::audit::CreateSigningKey(db_ + ".audit-key").ok());
  RewriteFrom(db_, 2, "DELETE FROM audit_checkpoints;");
  CliRun cp = Ft("audit checkpoint --db f.db --user admin", "admin-password-1");
  ASSERT_EQ(cp.exit_code, 1) << cp.out;  // its own key pinned: the chain records another key
  CliRun v = Ft("audit verify --db f.db --json" + Pinned());
  EXPECT_EQ(v.exit_code, 1) << v.out;
  EXPECT_FALSE(nlohmann::json::parse(v.out)["ok"].get<bool>());
}

// Issue 17: every admin command that changes something answers --json with JSON; users and
// certificates are listed; the audit report is a table for a person.
TEST_P(CliBackendTest, AdminCommandsAnswerJsonAndList) {
  CreateUsers();
  auto json_of = [](const CliRun& r) { return nlohmann::json::parse(r.out, nullptr, false); };
  CliRun r = Ft("admin user add " + Db() +
                    " --user admin --name zoe --agency 'Metro PD' --roles "
                    "examiner --json",
                "admin-password-1", "zoe-password-12");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["name"], "zoe") << r.out;
  EXPECT_EQ(json_of(r)["roles"][0], "examiner") << r.out;
  r = Ft("admin user role " + Db() + " --user admin --name zoe --roles examiner,supervisor --json",
         "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["roles"].size(), 2u) << r.out;
  r = Ft("admin cert add " + Db() +
             " --user admin --name zoe --course FC --number FC-9 "
             "--issued 2020-01-01 --expires 2099-12-31 --issued-by Academy --json",
         "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["certificate"]["number"], "FC-9") << r.out;
  r = Ft("admin lock " + Db() + " --user admin --name zoe --reason leave --json",
         "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["locked"], true) << r.out;
  r = Ft("admin unlock " + Db() + " --user admin --name zoe --reason back --json",
         "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["locked"], false) << r.out;
  r = Ft("admin cert revoke " + Db() +
             " --user admin --name zoe --number FC-9 --reason lapsed "
             "--json",
         "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["revoked"], true) << r.out;
  // The lists.
  r = Ft("admin user list " + Db() + " --user admin --json", "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::set<std::string> names;
  const nlohmann::json users = json_of(r);
  for (const auto& u : users["users"]) names.insert(u["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"admin", "al", "eve", "sam", "zoe"})) << r.out;
  r = Ft("admin user list " + Db() + " --user admin", "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("zoe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("examiner,supervisor"), std::string::npos) << r.out;
  r = Ft("admin cert list " + Db() + " --user admin", "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("FC-9"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REVOKED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FC-1"), std::string::npos) << r.out;  // sam's
  r = Ft("admin cert list " + Db() + " --user admin --json", "admin-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(json_of(r)["certificates"].size(), 2u) << r.out;
  // Only an admin lists users (a refusal, audited).
  r = Ft("admin user list " + Db() + " --user sam --json", "sam-password-1");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  // The audit report as a table.
  r = Ft("audit report " + Db() + " --user al --format table", "al-password-1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Audit report, the start to the end"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Refusals per code"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrong_role"), std::string::npos) << r.out;  // sam's user list
  EXPECT_FALSE(json_of(r).is_object());
}

// Issue 17: `admin init` that cannot read a password (no terminal, no FACETRAIL_PASSWORD)
// leaves no empty database behind to be mistaken for an initialised one.
TEST_F(CliTest, InitWithoutAPasswordCreatesNothing) {
  CliRun r = Ft("admin init --db new.db --name admin --agency 'Metro PD'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/new.db"));
  EXPECT_FALSE(fs::exists(dir_ + "/new.db-wal"));
  EXPECT_FALSE(fs::exists(dir_ + "/new.db-journal"));
  // A password: it is created.
  EXPECT_EQ(
      Ft("admin init --db new.db --name admin --agency 'Metro PD'", "admin-password-1").exit_code,
      0);
  EXPECT_TRUE(fs::exists(dir_ + "/new.db"));
}

// Issue 17: the auditor's role is read-only (docs/POLICY.md): signing a checkpoint writes to the
// log, so an auditor is refused (audited); supervisors and admins sign.
TEST_P(CliBackendTest, AnAuditorCannotSignACheckpoint) {
  CreateUsers();
  CliRun cp = Ft("audit checkpoint " + Db() + Key() + " --user al --json", "al-password-1");
  EXPECT_EQ(cp.exit_code, 3) << cp.out;
  EXPECT_EQ(Refused(cp)["code"], "wrong_role") << cp.out;
  EXPECT_NE(Refused(cp)["reason"].get<std::string>().find("neither supervisor nor admin"),
            std::string::npos)
      << cp.out;
  // The auditor still reads: the refusal is in the export.
  CliRun exported = Ft("audit export " + Db() + " --user al", "al-password-1");
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  EXPECT_NE(exported.out.find("\"action\":\"audit.refused\""), std::string::npos) << exported.out;
  EXPECT_NE(exported.out.find("audit.checkpoint.request"), std::string::npos) << exported.out;
  EXPECT_EQ(Ft("audit checkpoint " + Db() + Key() + " --user admin", "admin-password-1").exit_code,
            0);
}

TEST_P(CliBackendTest, CheckpointIsNotSignedOverADamagedLog) {
  CreateUsers();
  // An insider's edit: SQLite with the sqlite3 program; PostgreSQL as a superuser who switches
  // the append-only triggers off for it.
  if (postgres()) {
    auto db = facetrail::Db::Open(pg_uri_, false);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Exec("ALTER TABLE audit_entries DISABLE TRIGGER USER; UPDATE audit_entries "
                         "SET actor = 'mallory' WHERE seq = 2; ALTER TABLE audit_entries ENABLE "
                         "TRIGGER USER")
                    .ok());
  } else {
    ASSERT_EQ(std::system(("sqlite3 '" + db_ +
                           "' \"DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET "
                           "actor = 'mallory' WHERE seq = 2;\"")
                              .c_str()),
              0);
  }
  const std::string count = "SELECT count(*) FROM audit_checkpoints";
  const std::string before = Query(count);
  ASSERT_FALSE(before.empty());
  CliRun cp = Ft("audit checkpoint " + Db() + Key() + " --user admin", "admin-password-1");
  EXPECT_EQ(cp.exit_code, 1) << cp.out;
  EXPECT_EQ(Query(count), before);
  // Nor appended to a file in the database's folder (a SQLite file's: a PostgreSQL database has
  // none on this machine).
  if (!postgres()) {
    CliRun inside =
        Ft("audit checkpoint " + Db() + " --user admin --out cps.jsonl", "admin-password-1");
    EXPECT_EQ(inside.exit_code, 2) << inside.out;
  }
}

TEST_F(CliTest, DatabaseFilesOpenToOthersAreNamed) {
  CreateUsers();
  ASSERT_EQ(::chmod(db_.c_str(), 0644), 0);
  const std::string cmd =
      "cd '" + dir_ + "' && '" FACETRAIL_BINARY_DIR "/facetrail' audit verify --db f.db 2>&1";
  const std::string out = facetrail::testing::RunCommand(cmd).out;
  EXPECT_NE(out.find("warning: f.db is open to group or others (mode 0644)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("chmod 600 f.db"), std::string::npos) << out;
}

}  // namespace

// ---- Issue 14 §6: every spelling of the database is the database ----
// `--db sqlite:f.db` once skipped the accountability check (the check opened the literal text,
// the store stripped the prefix): an unaudited search and enrolment.
TEST_F(CliTest, EverySpellingOfTheDatabaseIsUnderAccountability) {
  CreateUsers();
  std::ofstream(dir_ + "/m.csv") << "booking_number,photo,name\nB-9,x.jpg,X\n";
  const std::string abs = fs::canonical(db_).string();
  const std::string folder = fs::path(dir_).filename().string();
  const std::vector<std::string> spellings = {"f.db",
                                              "./f.db",
                                              abs,
                                              "../" + folder + "/f.db",
                                              "sqlite:f.db",
                                              "sqlite://f.db",
                                              "sqlite://" + abs,
                                              "sqlite:" + abs,
                                              "file:f.db",
                                              "file://" + abs,
                                              "file://localhost" + abs,
                                              "file:" + abs};
  int refusals = 0;
  for (const std::string& db : spellings) {
    SCOPED_TRACE(db);
    CliRun r = Ft("search --db '" + db + "' --probe probe.jpg --json");
    EXPECT_EQ(r.exit_code, 3) << r.out;
    EXPECT_EQ(Refused(r)["code"], "unaccountable_search");
    EXPECT_EQ(Ft("enroll --db '" + db + "' --manifest m.csv").exit_code, 3);
    EXPECT_EQ(Ft("gallery show --db '" + db + "' B-9").exit_code, 3);
    refusals += 3;
  }
  // Each refusal is in the log of the one database, and nothing else was created beside it.
  const std::string n = facetrail::testing::RunCommand(
                            "sqlite3 '" + db_ +
                            "' \"SELECT count(*) FROM audit_entries WHERE actor = 'unknown' AND "
                            "action IN ('search.refused', 'gallery.refused')\"")
                            .out;
  EXPECT_EQ(n, std::to_string(refusals) + "\n");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    EXPECT_TRUE(name.rfind("f.db", 0) == 0 || name == "m.csv") << name;
  }
  // Spellings that could name another file are usage errors (exit 2), before anything runs.
  for (const std::string db : {"file:f.db?mode=memory", "sqlite:sqlite:f.db", "file:f%2Edb"}) {
    SCOPED_TRACE(db);
    EXPECT_EQ(Ft("search --db '" + db + "' --probe probe.jpg --json").exit_code, 2);
  }
}

namespace {

// issue 16: `review export-case` writes the signed package of a released lead; `review
// verify-case` checks it with no database against the key `admin signing-key` prints, and fails
// naming a changed file; a wrong role cannot export.
TEST_P(CliBackendTest, CasePackageExportAndOfflineVerification) {
  const fs::path images = fs::path(FACETRAIL_SHARED_DIR) / "data/lfw-deepfunneled-dev/images";
  if (!fs::exists(fs::path(FACETRAIL_MODELS_DIR) / "face_recognition_model.bin") ||
      !fs::exists(images / "Aaron_Sorkin")) {
    GTEST_SKIP() << "models or LFW images missing (scripts/fetch-models)";
  }
  {
    std::ofstream m(dir_ + "/m.csv");
    m << "booking_number,photo,name\n";
    int i = 0;
    for (const char* p : {"Aaron_Sorkin", "Abel_Pacheco", "Abdoulaye_Wade"}) {
      m << "B-" << ++i << "," << p << "/" << p << "_0001.jpg," << p << "\n";
    }
  }
  ASSERT_EQ(
      Ft("enroll " + Db() + " --manifest m.csv --models '" FACETRAIL_MODELS_DIR "' --images '" +
         images.string() + "'")
          .exit_code,
      0);
  CreateUsers();
  ASSERT_EQ(Ft("admin user add " + Db() +
                   " --user admin --name ed --agency 'Metro PD' --roles "
                   "examiner",
               "admin-password-1", "ed-password-1")
                .exit_code,
            0);
  for (const char* who : {"eve", "ed"}) {
    ASSERT_EQ(Ft(std::string("admin cert add " + Db() + " --user admin --name ") + who +
                     " --course FC --number FC-" + who +
                     " --issued 2020-01-01 --expires 2099-12-31 --issued-by Academy",
                 "admin-password-1")
                  .exit_code,
              0);
  }
  fs::copy_file(images / "Aaron_Sorkin/Aaron_Sorkin_0002.jpg", dir_ + "/probe.jpg");
  CliRun r = Search("--case MPD-2026-0001 --purpose 'criminal investigation' --agency 'Metro PD'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string marks =
      " --conclusion '1=possible lead:ears agree' --component '1:ears=similar:same helix'";
  ASSERT_EQ(
      Ft("review examine " + Db() + " --user eve --request 1" + marks, "eve-password-1").exit_code,
      0);
  // Not released yet: no package.
  EXPECT_NE(Ft("review export-case " + Db() + Key() + " --user al --request 1 --out early",
               "al-password-1")
                .exit_code,
            0);
  EXPECT_FALSE(fs::exists(dir_ + "/early"));
  ASSERT_EQ(
      Ft("review verify " + Db() + " --user ed --request 1" + marks, "ed-password-1").exit_code, 0);

  CliRun wrong =
      Ft("review export-case " + Db() + Key() + " --user admin --request 1 --out admin-pkg",
         "admin-password-1");
  EXPECT_EQ(wrong.exit_code, 3) << wrong.out;
  EXPECT_FALSE(fs::exists(dir_ + "/admin-pkg"));
  CliRun exported =
      Ft("review export-case " + Db() + Key() + " --user sam --request 1 --out pkg --json",
         "sam-password-1");
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  auto e = nlohmann::json::parse(exported.out);
  EXPECT_EQ(e["files"].size(), 3u) << exported.out;  // case.json, one photo, the probe

  CliRun key = Ft("admin signing-key " + Db() + Key() + " --json");
  ASSERT_EQ(key.exit_code, 0) << key.out;
  auto k = nlohmann::json::parse(key.out);
  EXPECT_EQ(k["key_id"], e["key_id"]);
  // Offline: the database moved away (PostgreSQL: verify-case is given no database either).
  if (!postgres()) fs::rename(db_, dir_ + "/elsewhere.db");
  const std::string pub = k["public_key"].get<std::string>();
  CliRun ok = Ft("review verify-case pkg --public-key " + pub);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("verified"), std::string::npos) << ok.out;
  EXPECT_EQ(Ft("review verify-case pkg --key-id " + k["key_id"].get<std::string>()).exit_code, 0);
  EXPECT_NE(Ft("review verify-case pkg").exit_code, 0) << "a trusted key is required";
  {
    std::fstream f(dir_ + "/pkg/probe.jpg", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x42');
  }
  CliRun bad = Ft("review verify-case pkg --public-key " + pub);
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
  EXPECT_NE(bad.out.find("probe.jpg: changed"), std::string::npos) << bad.out;
  if (!postgres()) fs::rename(dir_ + "/elsewhere.db", db_);
  CliRun log = Ft("audit export " + Db() + " --user al", "al-password-1");
  EXPECT_NE(log.out.find("\"action\":\"case.export\""), std::string::npos);
  EXPECT_NE(log.out.find("\"action\":\"case.file.refused\""), std::string::npos);
}

}  // namespace

// admin migrate-db (issue 15, "Moving over"): the SQLite database into an empty PostgreSQL one on
// the test cluster, the copy verified with the pinned key; a second run refused (not empty).
TEST_F(CliTest, MigrateDbCopiesIntoPostgresqlAndVerifiesTheCopy) {
  std::string uri;
  FT_PG_DATABASE_OR_SKIP(uri);
  CreateUsers();
  CliRun first = Ft("admin migrate-db --from sqlite:f.db --to '" + uri + "' --json" + Pinned());
  ASSERT_EQ(first.exit_code, 0) << first.out;
  auto j = nlohmann::json::parse(first.out);
  EXPECT_TRUE(j["verify"]["ok"].get<bool>()) << first.out;
  EXPECT_GT(j["rows"].get<int64_t>(), 0);
  bool users = false;
  for (const auto& t : j["tables"]) {
    if (t["table"] == "policy_users") users = t["rows"] == 4;
  }
  EXPECT_TRUE(users) << first.out;
  EXPECT_EQ(j["to"].get<std::string>().rfind("postgresql://facetrail@127.0.0.1:", 0), 0u);

  CliRun again = Ft("admin migrate-db --from f.db --to '" + uri + "' --json");
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.out.find("has rows"), std::string::npos) << again.out;
  // Only into PostgreSQL; only from a SQLite file that exists.
  EXPECT_EQ(Ft("admin migrate-db --from f.db --to other.db").exit_code, 2);
  // A password on the command line is refused before anything is opened (PGPASSWORD, .pgpass).
  CliRun secret = Ft("admin migrate-db --from f.db --to postgresql://u:secret@127.0.0.1/x --json");
  EXPECT_EQ(secret.exit_code, 2) << secret.out;
  EXPECT_EQ(secret.out.find("secret"), std::string::npos) << secret.out;
  EXPECT_NE(Ft("admin migrate-db --from missing.db --to '" + uri + "'").exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/missing.db"));
}

INSTANTIATE_TEST_SUITE_P(Backends, CliBackendTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);
