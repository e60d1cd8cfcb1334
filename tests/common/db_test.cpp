// The data-access seam (common/db.h) on both back-ends: SQLite (a file) and PostgreSQL (a
// throw-away cluster, tests/common/pg_cluster.h). The same test body runs on each.
#include "common/db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/db_uri.h"
#include "common/pg_cluster.h"
#include "common/sql_dialect.h"

namespace facetrail {
namespace {

enum class Backend { kSqlite, kPostgres };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class DbTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      char tmpl[] = "/tmp/facetrail-db-test-XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
      uri_ = "sqlite:" + dir_ + "/t.db";
    } else {
      FT_PG_DATABASE_OR_SKIP(uri_);
    }
    auto db = Db::Open(uri_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::make_unique<Db>(std::move(*db));
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A table with one column of each kind, created through a migration (the DDL is SQLite's;
  // the PostgreSQL back-end translates the types).
  void MakeTable() {
    ASSERT_TRUE(db_->Migrate("t", {{1,
                                    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT "
                                    "NOT NULL UNIQUE, n INTEGER, x REAL, data BLOB)"}})
                    .ok());
  }

  std::string uri_;
  std::string dir_;
  std::unique_ptr<Db> db_;
};

TEST_P(DbTest, BindsAndReadsEveryType) {
  MakeTable();
  // Bytes that text handling would mangle: NUL, a quote, a backslash, high bytes.
  const std::vector<uint8_t> blob = {0, 1, '\'', '\\', 0xff, 0x80, 0, 'x'};
  auto ins = db_->Prepare("INSERT INTO items(name, n, x, data) VALUES (?, ?, ?, ?) RETURNING id");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  ins->Bind(1, "it's; DROP TABLE items; --")
      .Bind(2, int64_t{-9007199254740993})
      .Bind(3, 0.1)
      .BindBlob(4, blob);
  auto first = ins->InsertedId();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(db_->Changes(), 1);
  const int64_t id = *first;
  EXPECT_GT(id, 0);
  ins->Bind(1, std::optional<std::string>("second")).BindNull(2).BindNull(3).BindNull(4);
  auto second = ins->InsertedId();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, id + 1);

  auto sel = db_->Prepare("SELECT id, name, n, x, data FROM items ORDER BY id");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Int(0), id);
  EXPECT_EQ(sel->Text(1), "it's; DROP TABLE items; --");
  EXPECT_EQ(sel->Int(2), int64_t{-9007199254740993});
  EXPECT_DOUBLE_EQ(sel->Double(3), 0.1);
  EXPECT_EQ(sel->Blob(4), blob);
  EXPECT_EQ(sel->BlobView(4).size(), blob.size());
  EXPECT_FALSE(sel->IsNull(4));
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->OptText(1), "second");
  EXPECT_TRUE(sel->IsNull(2));
  EXPECT_TRUE(sel->IsNull(4));
  EXPECT_EQ(sel->OptText(4), std::nullopt);
  EXPECT_TRUE(sel->Blob(4).empty());
  EXPECT_FALSE(*sel->Step());
}

TEST_P(DbTest, InsertedIdNamesThisStatementsRowAndRefusesNoneOrSeveral) {
  MakeTable();
  auto ins = db_->Prepare("INSERT INTO items(name) VALUES (?) RETURNING id");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  ins->Bind(1, "a");
  Expected<int64_t> first = ins->InsertedId();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ins->Bind(1, "b");  // reset by InsertedId: ready to bind again
  Expected<int64_t> second = ins->InsertedId();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GT(*second, *first);
  auto name = db_->Prepare("SELECT name FROM items WHERE id = ?");
  ASSERT_TRUE(name.ok());
  name->Bind(1, *second);
  ASSERT_TRUE(*name->Step());
  EXPECT_EQ(name->Text(0), "b");

  auto none =
      db_->Prepare("INSERT INTO items(name) SELECT name FROM items WHERE 0 = 1 RETURNING id");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->InsertedId().status().code(), StatusCode::kInternal);
  auto several = db_->Prepare("INSERT INTO items(name) SELECT name || 'x' FROM items RETURNING id");
  ASSERT_TRUE(several.ok()) << several.status().ToString();
  Expected<int64_t> refused = several->InsertedId();
  EXPECT_EQ(refused.status().code(), StatusCode::kInternal);
  EXPECT_NE(refused.status().message().find("several rows"), std::string::npos);
}

TEST_P(DbTest, NumberedPlaceholdersRepeatAndQuestionMarksInLiteralsStay) {
  MakeTable();
  auto ins = db_->Prepare("INSERT INTO items(name, n) VALUES ('why?' || ?1, ?2 + ?2)");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  ins->Bind(1, "x").Bind(2, int64_t{21});
  ASSERT_TRUE(ins->Run().ok());
  auto sel = db_->Prepare("SELECT name, n FROM items WHERE n = ? AND name <> '?'");
  ASSERT_TRUE(sel.ok());
  sel->Bind(1, int64_t{42});
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Text(0), "why?x");
}

TEST_P(DbTest, ConstraintViolationIsAlreadyExists) {
  MakeTable();
  auto ins = db_->Prepare("INSERT INTO items(name) VALUES (?)");
  ASSERT_TRUE(ins.ok());
  ins->Bind(1, "a");
  ASSERT_TRUE(ins->Run().ok());
  ins->Reset();
  ins->Bind(1, "a");
  Status s = ins->Run();
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_NE(s.message().find(db_->path()), std::string::npos) << s.message();
  // ON CONFLICT … DO NOTHING is the portable INSERT OR IGNORE.
  auto ignore = db_->Prepare("INSERT INTO items(name) VALUES (?) ON CONFLICT (name) DO NOTHING");
  ASSERT_TRUE(ignore.ok());
  ignore->Bind(1, "a");
  EXPECT_TRUE(ignore->Run().ok());
  EXPECT_EQ(db_->Changes(), 0);
}

TEST_P(DbTest, BadSqlAndBadBindingsAreErrorsNotCrashes) {
  MakeTable();
  auto bad = db_->Prepare("SELEC nothing");
  // SQLite refuses at Prepare; PostgreSQL at the first Step.
  if (bad.ok()) {
    EXPECT_FALSE(bad->Step().ok());
  }
  auto sel = db_->Prepare("SELECT name FROM items WHERE id = ?");
  ASSERT_TRUE(sel.ok());
  sel->Bind(7, int64_t{1});  // no parameter 7
  EXPECT_FALSE(sel->Step().ok());
  sel->Reset();
  sel->Bind(1, int64_t{1});
  auto row = sel->Step();
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_FALSE(*row);
  // The connection is still usable.
  EXPECT_TRUE(db_->Exec("CREATE TABLE after_error (a TEXT)").ok());
}

TEST_P(DbTest, TransactionsCommitRollBackAndNest) {
  MakeTable();
  auto count = [&]() {
    auto st = db_->Prepare("SELECT count(*) FROM items");
    EXPECT_TRUE(st.ok() && *st->Step());
    return st->Int(0);
  };
  auto add = [&](const std::string& name) {
    auto st = db_->Prepare("INSERT INTO items(name) VALUES (?)");
    if (!st.ok()) return st.status();
    st->Bind(1, name);
    return st->Run();
  };
  EXPECT_FALSE(db_->EngineInTransaction());
  ASSERT_TRUE(db_->InTransaction([&] {
                   EXPECT_TRUE(db_->in_transaction());
                   EXPECT_TRUE(db_->EngineInTransaction());
                   FT_RETURN_IF_ERROR(add("a"));
                   // A nested transaction joins the outer one.
                   return db_->InTransaction([&] { return add("b"); });
                 })
                  .ok());
  EXPECT_EQ(count(), 2);
  // An error anywhere rolls back everything.
  Status s = db_->InTransaction([&] {
    FT_RETURN_IF_ERROR(add("c"));
    return db_->InTransaction([&] { return add("a"); });  // duplicate
  });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(count(), 2);
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_FALSE(db_->EngineInTransaction());
  // So does an exception, which then propagates.
  EXPECT_THROW((void)db_->InTransaction([&]() -> Status {
    (void)add("d");
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_EQ(count(), 2);
  EXPECT_FALSE(db_->EngineInTransaction());
}

TEST_P(DbTest, MigratesFromEmptyAndFromThePreviousVersionAndRefusesNewer) {
  const std::vector<Migration> v1 = {{1, "CREATE TABLE m (id INTEGER PRIMARY KEY, a TEXT)"}};
  std::vector<Migration> v2 = v1;
  v2.push_back({2, "ALTER TABLE m ADD COLUMN b INTEGER NOT NULL DEFAULT 7"});
  EXPECT_EQ(*db_->SchemaVersion("m"), 0);
  ASSERT_TRUE(db_->Migrate("m", v1).ok());
  EXPECT_EQ(*db_->SchemaVersion("m"), 1);
  ASSERT_TRUE(db_->Exec("INSERT INTO m(a) VALUES ('old')").ok());
  ASSERT_TRUE(db_->Migrate("m", v2).ok());
  EXPECT_EQ(*db_->SchemaVersion("m"), 2);
  auto st = db_->Prepare("SELECT a, b FROM m");
  ASSERT_TRUE(st.ok() && *st->Step());
  EXPECT_EQ(st->Text(0), "old");
  EXPECT_EQ(st->Int(1), 7);
  // Again: nothing to do.
  EXPECT_TRUE(db_->Migrate("m", v2).ok());
  // An older program refuses the newer schema.
  Status s = db_->Migrate("m", v1);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  // Versions are per component.
  EXPECT_EQ(*db_->SchemaVersion("other"), 0);
}

TEST_P(DbTest, AFailedMigrationStepLeavesThePreviousVersion) {
  std::vector<Migration> ms = {{1, "CREATE TABLE f (a TEXT)"},
                               {2, "CREATE TABLE g (b TEXT); INSERT INTO nowhere VALUES (1)"}};
  Status s = db_->Migrate("f", ms);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();
  EXPECT_EQ(*db_->SchemaVersion("f"), 1);
  EXPECT_TRUE(*db_->TableExists("f"));
  EXPECT_FALSE(*db_->TableExists("g"));  // step 2 rolled back whole
}

TEST_P(DbTest, PerDialectMigrationsAndTriggers) {
  ASSERT_TRUE(db_->Migrate("trig", {{1,
                                     "CREATE TABLE log (a TEXT);"
                                     "CREATE TRIGGER log_no_delete BEFORE DELETE ON log "
                                     "BEGIN SELECT RAISE(ABORT, 'append-only'); END;",
                                     "CREATE TABLE log (a TEXT);"
                                     "CREATE FUNCTION log_refuse() RETURNS trigger "
                                     "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
                                     "'append-only'; END $$;"
                                     "CREATE TRIGGER log_no_delete BEFORE DELETE ON log "
                                     "FOR EACH ROW EXECUTE FUNCTION log_refuse();"}})
                  .ok());
  EXPECT_TRUE(*db_->TriggerExists("log_no_delete"));
  EXPECT_FALSE(*db_->TriggerExists("log_no_update"));
  EXPECT_TRUE(*db_->TableExists("log"));
  EXPECT_FALSE(*db_->TableExists("log_no_delete"));
  ASSERT_TRUE(db_->Exec("INSERT INTO log VALUES ('x')").ok());
  Status s = db_->Exec("DELETE FROM log");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("append-only"), std::string::npos) << s.message();
}

TEST_P(DbTest, ConnectionsSeeEachOthersCommits) {
  MakeTable();
  auto other = Db::Open(uri_);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE(db_->Exec("INSERT INTO items(name) VALUES ('from one')").ok());
  auto st = other->Prepare("SELECT name FROM items");
  ASSERT_TRUE(st.ok() && *st->Step());
  EXPECT_EQ(st->Text(0), "from one");
}

INSTANTIATE_TEST_SUITE_P(Backends, DbTest, ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         BackendName);

// ---- PostgreSQL only ----

TEST(PostgresDbTest, ErrorsCarrySqlstateAndThePasswordFreeName) {
  std::string uri;
  FT_PG_DATABASE_OR_SKIP(uri);
  auto db = Db::Open(uri);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(db->dialect(), SqlDialect::kPostgres);
  EXPECT_EQ(db->sqlite_handle(), nullptr);
  Status s = db->Exec("SELECT * FROM no_such_table");
  EXPECT_NE(s.message().find("SQLSTATE 42P01"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().rfind(uri, 0), 0u) << s.message();
}

TEST(PostgresDbTest, AServerRestartIsUnavailableThenTheConnectionRecovers) {
  // Its own cluster: restarting the shared one would break the tests running beside it.
  std::string uri;
  testing::PgCluster* cluster = nullptr;
  FT_PG_OWN_CLUSTER_DATABASE_OR_SKIP(cluster, uri);
  auto db = Db::Open(uri);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->Exec("CREATE TABLE r (a BIGINT)").ok());
  ASSERT_EQ(cluster->PgCtl("-w -m fast restart"), 0);
  auto st = db->Prepare("INSERT INTO r VALUES (?)");
  ASSERT_TRUE(st.ok());
  st->Bind(1, int64_t{1});
  Status s = st->Run();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  // The next call finds (or makes) a working connection.
  Status again = db->Exec("INSERT INTO r VALUES (2)");
  if (!again.ok()) {
    EXPECT_EQ(again.code(), StatusCode::kUnavailable) << again.ToString();
    again = db->Exec("INSERT INTO r VALUES (2)");
  }
  EXPECT_TRUE(again.ok()) << again.ToString();
}

// Under ctest the run's one cluster is shared (tests/CMakeLists.txt sets FACETRAIL_PG_CLUSTER);
// each test still has a database of its own, and nobody may restart the shared server.
TEST(PgClusterTest, UnderCtestOneClusterIsSharedWithADatabasePerTest) {
  std::string uri;
  FT_PG_DATABASE_OR_SKIP(uri);
  auto* cluster = testing::PgCluster::Get(nullptr);
  const char* shared = std::getenv(testing::kSharedClusterEnv);
  EXPECT_EQ(cluster->shared(), shared != nullptr && *shared != '\0');
  if (cluster->shared()) {
    EXPECT_EQ(cluster->PgCtl("-w -m fast restart"), -1);
  }
  const std::string other = cluster->CreateDatabase();
  ASSERT_FALSE(other.empty());
  EXPECT_NE(other, uri);
  auto a = Db::Open(uri);
  auto b = Db::Open(other);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->Exec("CREATE TABLE mine (x BIGINT)").ok());
  auto there = b->TableExists("mine");
  ASSERT_TRUE(there.ok());
  EXPECT_FALSE(*there);
}

TEST(PostgresDbTest, TwoServersMigratingAtOnceTakeEachStepOnce) {
  // Two servers started together on an empty database: each step must run once (a second
  // CREATE TABLE would fail), whichever connection gets the writer lock first.
  std::string uri;
  FT_PG_DATABASE_OR_SKIP(uri);
  const std::vector<Migration> steps = {
      {1, "CREATE TABLE m1 (a INTEGER); SELECT pg_sleep(0.3);"},
      {2, "CREATE TABLE m2 (a INTEGER); SELECT pg_sleep(0.3);"},
  };
  Status results[2];
  std::vector<std::thread> servers;
  for (Status& result : results) {
    servers.emplace_back([&uri, &steps, &result] {
      auto db = Db::Open(uri);
      result = db.ok() ? db->Migrate("race", steps) : db.status();
    });
  }
  for (std::thread& t : servers) t.join();
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  auto db = Db::Open(uri);
  ASSERT_TRUE(db.ok());
  auto version = db->SchemaVersion("race");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 2);
}

TEST(PostgresDbTest, UnreachableServerIsUnavailable) {
  // A closed port on 127.0.0.1 (port 1 needs root to listen on, and nothing does).
  auto db = Db::Open("postgresql://facetrail@127.0.0.1:1/x?connect_timeout=2");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << db.status().ToString();
}

TEST(PostgresDbTest, APasswordInTheUriIsRefused) {
  for (const char* uri : {"postgresql://u:secret@127.0.0.1/db",
                          "postgres://u@127.0.0.1/db?sslmode=disable&password=secret",
                          "postgresql:///db?password=secret"}) {
    auto db = Db::Open(uri);
    ASSERT_FALSE(db.ok()) << uri;
    EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument) << uri;
    EXPECT_EQ(db.status().message().find("secret"), std::string::npos) << db.status().message();
  }
}

// ---- PostgreSQL: prepared statements and binary results (common/postgres.cpp) ----

// Opens a fresh database of the shared (or the process's own) cluster.
#define FT_PG_DB_OR_SKIP(db)                                        \
  std::string db##_uri;                                             \
  FT_PG_DATABASE_OR_SKIP(db##_uri);                                 \
  auto db##_opened = Db::Open(db##_uri);                            \
  ASSERT_TRUE(db##_opened.ok()) << db##_opened.status().ToString(); \
  Db& db = *db##_opened

// How many statements this connection keeps prepared whose SQL contains `marker`.
int64_t PreparedCount(Db& db, const std::string& marker) {
  auto st = db.Prepare(
      "SELECT count(*) FROM pg_prepared_statements WHERE strpos(statement, ?) > 0 "
      "AND statement NOT LIKE '%pg_prepared_statements%'");
  if (!st.ok()) return -1;
  st->Bind(1, marker);
  auto row = st->Step();
  return row.ok() && *row ? st->Int(0) : -1;
}

TEST(PostgresDbTest, EveryColumnTypeRoundTripsInBinaryAndNullsAreNull) {
  FT_PG_DB_OR_SKIP(db);
  ASSERT_TRUE(db.Exec("CREATE TABLE ty (id BIGINT PRIMARY KEY, i2 SMALLINT, i4 INTEGER, "
                      "i8 BIGINT, f4 REAL, f8 DOUBLE PRECISION, b BOOLEAN, t TEXT, "
                      "v VARCHAR(20), c CHAR(3), by BYTEA, nu NUMERIC)")
                  .ok());
  auto ins = db.Prepare("INSERT INTO ty VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  const std::vector<uint8_t> bytes = {0, 0xff, '\\', 'x', 0};
  ins->Bind(1, int64_t{1}).Bind(2, int64_t{-32768}).Bind(3, int64_t{-2147483647 - 1});
  ins->Bind(4, std::numeric_limits<int64_t>::min()).Bind(5, 1.5).Bind(6, -1e-310);
  ins->Bind(7, "true").Bind(8, "tëxt").Bind(9, "var").Bind(10, "ab").BindBlob(11, bytes);
  ins->Bind(12, "12345678901234567890.125");
  Status inserted = ins->Run();
  ASSERT_TRUE(inserted.ok()) << inserted.ToString();
  ins->Reset();
  ins->Bind(1, int64_t{2});
  for (int i = 2; i <= 12; ++i) ins->BindNull(i);
  ASSERT_TRUE(ins->Run().ok());

  auto sel = db.Prepare("SELECT i2, i4, i8, f4, f8, b, t, v, c, by, id FROM ty ORDER BY id");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Int(0), -32768);
  EXPECT_EQ(sel->Int(1), -2147483648LL);
  EXPECT_EQ(sel->Int(2), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(sel->Double(3), 1.5);
  EXPECT_EQ(sel->Double(4), -1e-310);  // a subnormal, bit for bit
  EXPECT_EQ(sel->Int(5), 1);
  EXPECT_EQ(sel->Text(5), "t");
  EXPECT_EQ(sel->Text(6), "tëxt");
  EXPECT_EQ(sel->Text(7), "var");
  EXPECT_EQ(sel->Text(8), "ab ");  // CHAR(3) pads
  EXPECT_EQ(sel->Blob(9), bytes);
  // Numbers read as text or as the other kind of number, as SQLite converts them.
  EXPECT_EQ(sel->Text(0), "-32768");
  EXPECT_EQ(sel->Text(3), "1.5");
  EXPECT_EQ(sel->Double(2), static_cast<double>(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(sel->Int(4), 0);
  EXPECT_EQ(sel->Int(10), 1);
  ASSERT_TRUE(*sel->Step());
  for (int c = 0; c < 10; ++c) {
    EXPECT_TRUE(sel->IsNull(c)) << c;
    EXPECT_EQ(sel->Int(c), 0) << c;
    EXPECT_EQ(sel->Double(c), 0) << c;
    EXPECT_EQ(sel->OptText(c), std::nullopt) << c;
    EXPECT_TRUE(sel->BlobView(c).empty()) << c;
  }
  EXPECT_FALSE(*sel->Step());

  // NUMERIC (sum() of BIGINT is one) has no binary decoder: that statement reads text.
  auto sum =
      db.Prepare("SELECT nu, sum(i8), coalesce(sum(i4), 0) FROM ty WHERE id = 1 GROUP BY nu");
  ASSERT_TRUE(sum.ok());
  ASSERT_TRUE(*sum->Step());
  EXPECT_EQ(sum->Text(0), "12345678901234567890.125");
  EXPECT_EQ(sum->Int(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(sum->Int(2), -2147483648LL);
  EXPECT_EQ(sum->Double(0), 12345678901234567890.125);
}

TEST(PostgresDbTest, LargeBlobsRoundTripByteForByte) {
  FT_PG_DB_OR_SKIP(db);
  ASSERT_TRUE(db.Exec("CREATE TABLE big (id BIGINT, data BYTEA)").ok());
  std::vector<uint8_t> blob(16 << 20);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  auto ins = db.Prepare("INSERT INTO big VALUES (?, ?)");
  ASSERT_TRUE(ins.ok());
  ins->Bind(1, int64_t{1}).BindBlob(2, blob);
  ASSERT_TRUE(ins->Run().ok());
  ins->Reset();
  ins->Bind(1, int64_t{2}).BindBlob(2, std::span<const uint8_t>());
  ASSERT_TRUE(ins->Run().ok());
  auto sel = db.Prepare("SELECT data, length(data) FROM big ORDER BY id");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Int(1), static_cast<int64_t>(blob.size()));
  const auto view = sel->BlobView(0);
  ASSERT_EQ(view.size(), blob.size());
  EXPECT_TRUE(std::equal(view.begin(), view.end(), blob.begin()));
  ASSERT_TRUE(*sel->Step());
  EXPECT_FALSE(sel->IsNull(0));  // empty, not NULL
  EXPECT_TRUE(sel->BlobView(0).empty());
}

TEST(PostgresDbTest, EachSqlTextIsPreparedOncePerConnection) {
  FT_PG_DB_OR_SKIP(db);
  ASSERT_TRUE(db.Exec("CREATE TABLE once (a BIGINT)").ok());
  for (int i = 0; i < 3; ++i) {
    auto st = db.Prepare("INSERT INTO once(a) VALUES (?) -- marker-once");
    ASSERT_TRUE(st.ok());
    for (int64_t v = 0; v < 3; ++v) {
      st->Reset();
      st->Bind(1, v);
      ASSERT_TRUE(st->Run().ok());
    }
  }
  EXPECT_EQ(PreparedCount(db, "marker-once"), 1);
  // Bound with other types (a NULL has none), the same text is a second server-side statement.
  auto st = db.Prepare("INSERT INTO once(a) VALUES (?) -- marker-once");
  ASSERT_TRUE(st.ok());
  st->BindNull(1);
  ASSERT_TRUE(st->Run().ok());
  EXPECT_EQ(PreparedCount(db, "marker-once"), 2);
  auto n = db.Prepare("SELECT count(*), count(a) FROM once");
  ASSERT_TRUE(n.ok() && *n->Step());
  EXPECT_EQ(n->Int(0), 10);
  EXPECT_EQ(n->Int(1), 9);
}

// The cache holds 512 statements a connection (postgres.cpp, kMaxPreparedStatements); texts
// beyond it run as the unnamed statement, prepared again at each use. Two unnamed statements
// alive at once each keep their own text and result format.
TEST(PostgresDbTest, StatementsBeyondAFullCacheRunUnnamedAndGiveTheSameResults) {
  FT_PG_DB_OR_SKIP(db);
  // Built by appending (GCC 12 warns, wrongly, on "literal" + std::string here: -Wrestrict).
  auto value = [](int k) {
    std::string v = "v";
    v += std::to_string(k);
    return v;
  };
  auto text = [&](int k) {
    std::string sql = "SELECT CAST(? AS BIGINT) + ";
    sql += std::to_string(k);
    sql += ", '";
    sql += value(k);
    sql += "' -- marker-full";
    return sql;
  };
  auto check = [&](Stmt& st, int k, int64_t v) {
    st.Reset();
    st.Bind(1, v);
    auto row = st.Step();
    ASSERT_TRUE(row.ok() && *row) << row.status().ToString();
    EXPECT_EQ(st.Int(0), v + k);
    EXPECT_EQ(st.Text(1), value(k));
  };
  constexpr int kTexts = 600;
  for (int k = 0; k < kTexts; ++k) {
    auto st = db.Prepare(text(k));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    check(*st, k, 1000);
  }
  const int64_t cached = PreparedCount(db, "marker-full");
  EXPECT_GT(cached, 400);
  EXPECT_LE(cached, 512);
  // A cached text, then two texts beyond the cache used in turn.
  auto first = db.Prepare(text(0));
  auto a = db.Prepare(text(kTexts - 2));
  auto b = db.Prepare(text(kTexts - 1));
  ASSERT_TRUE(first.ok() && a.ok() && b.ok());
  for (int64_t v = 0; v < 3; ++v) {
    check(*a, kTexts - 2, v);
    check(*b, kTexts - 1, v);
    check(*first, 0, v);
  }
  EXPECT_EQ(PreparedCount(db, "marker-full"), cached);  // nothing beyond the cache was kept
}

TEST(PostgresDbTest, AStatementDeallocatedBehindItsBackIsPreparedAgain) {
  FT_PG_DB_OR_SKIP(db);
  auto st = db.Prepare("SELECT ? + 1");
  ASSERT_TRUE(st.ok());
  st->Bind(1, int64_t{1});
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->Int(0), 2);
  ASSERT_TRUE(db.Exec("DEALLOCATE ALL").ok());  // as a pooler's DISCARD ALL would
  st->Reset();
  st->Bind(1, int64_t{41});
  auto row = st->Step();
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(st->Int(0), 42);
}

TEST(PostgresDbTest, AResetConnectionPreparesItsStatementsAgain) {
  FT_PG_DB_OR_SKIP(db);
  auto other = Db::Open(db_uri);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE r (a BIGINT)").ok());
  auto ins = db.Prepare("INSERT INTO r VALUES (?)");
  ASSERT_TRUE(ins.ok());
  ins->Bind(1, int64_t{1});
  ASSERT_TRUE(ins->Run().ok());
  auto pid = db.Prepare("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  auto pid_row = pid->Step();
  ASSERT_TRUE(pid_row.ok() && *pid_row) << pid_row.status().ToString();
  // The server ends this connection's backend (an administrator, a failover, a restart).
  auto kill = other->Prepare("SELECT pg_terminate_backend(CAST(? AS INTEGER))");
  ASSERT_TRUE(kill.ok());
  kill->Bind(1, pid->Int(0));
  auto killed = kill->Step();
  ASSERT_TRUE(killed.ok() && *killed) << killed.status().ToString();
  EXPECT_EQ(kill->Int(0), 1);
  ins->Reset();
  ins->Bind(1, int64_t{2});
  Status lost = ins->Run();
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.ToString();
  // The next calls find a new session that has none of the old statements: they are prepared
  // again (under names the new session has never seen).
  Status again = ins->Run();
  if (!again.ok()) {
    EXPECT_EQ(again.code(), StatusCode::kUnavailable) << again.ToString();
    ins->Reset();
    ins->Bind(1, int64_t{2});
    again = ins->Run();
  }
  ASSERT_TRUE(again.ok()) << again.ToString();
  auto n = db.Prepare("SELECT count(*) FROM r");
  ASSERT_TRUE(n.ok() && *n->Step());
  EXPECT_EQ(n->Int(0), 2);
}

TEST(PostgresDbTest, APreparedStatementSurvivesAServerRestart) {
  std::string uri;
  testing::PgCluster* cluster = nullptr;
  FT_PG_OWN_CLUSTER_DATABASE_OR_SKIP(cluster, uri);
  auto db = Db::Open(uri);
  ASSERT_TRUE(db.ok());
  auto st = db->Prepare("SELECT ? * 2");
  ASSERT_TRUE(st.ok());
  st->Bind(1, int64_t{2});
  ASSERT_TRUE(*st->Step());
  ASSERT_EQ(cluster->PgCtl("-w -m fast restart"), 0);
  int unavailable = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    st->Reset();
    st->Bind(1, int64_t{21});
    auto row = st->Step();
    if (row.ok()) {
      ASSERT_TRUE(*row);
      EXPECT_EQ(st->Int(0), 42);
      break;
    }
    EXPECT_EQ(row.status().code(), StatusCode::kUnavailable) << row.status().ToString();
    ++unavailable;
  }
  EXPECT_GE(unavailable, 1);
  EXPECT_LE(unavailable, 2);
}

TEST(PostgresDbTest, ASchemaChangeUnderAPreparedStatementIsFollowedOrFailsClearly) {
  FT_PG_DB_OR_SKIP(db);
  auto other = Db::Open(db_uri);  // another server migrating the schema
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE s (a BIGINT, b BIGINT); INSERT INTO s VALUES (1, 2)").ok());
  auto star = db.Prepare("SELECT * FROM s");
  auto named = db.Prepare("SELECT a FROM s");
  ASSERT_TRUE(star.ok() && named.ok());
  ASSERT_TRUE(*star->Step() && *named->Step());

  // A column added: the named column list is replanned by the server; SELECT * changes its
  // result type, which the server refuses for a cached plan: prepared again, run again.
  ASSERT_TRUE(other->Exec("ALTER TABLE s ADD COLUMN c TEXT DEFAULT 'x'").ok());
  star->Reset();
  auto row = star->Step();
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(star->Text(2), "x");
  named->Reset();
  ASSERT_TRUE(*named->Step());
  EXPECT_EQ(named->Int(0), 1);

  // Inside a transaction the failed statement has aborted it: kUnavailable, try again.
  ASSERT_TRUE(other->Exec("ALTER TABLE s ADD COLUMN d BIGINT DEFAULT 4").ok());
  Status in_tx = db.InTransaction([&]() -> Status {
    star->Reset();
    return star->Step().status();
  });
  EXPECT_EQ(in_tx.code(), StatusCode::kUnavailable) << in_tx.ToString();
  in_tx = db.InTransaction([&]() -> Status {
    star->Reset();
    FT_ASSIGN_OR_RETURN(bool r, star->Step());
    EXPECT_TRUE(r);
    EXPECT_EQ(star->Int(3), 4);
    return Status::Ok();
  });
  EXPECT_TRUE(in_tx.ok()) << in_tx.ToString();

  // A column the statement names dropped: an error that says so, every time.
  ASSERT_TRUE(other->Exec("ALTER TABLE s DROP COLUMN a").ok());
  for (int i = 0; i < 2; ++i) {
    named->Reset();
    auto gone = named->Step();
    ASSERT_FALSE(gone.ok());
    EXPECT_NE(gone.status().message().find("SQLSTATE 42703"), std::string::npos)
        << gone.status().ToString();
  }
}

// ---- dialect helpers ----

TEST(SqlDialectTest, NumbersPlaceholdersOutsideLiteralsAndComments) {
  auto n = NumberPlaceholders("SELECT ?, '?', \"a?\", ? -- ?\n, ?3, ?");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->sql, "SELECT $1, '?', \"a?\", $2 -- ?\n, $3, $4");
  EXPECT_EQ(n->parameters, 4);
  auto q = NumberPlaceholders("SELECT 'it''s ?' || ?1 || ?1 /* ? */");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->sql, "SELECT 'it''s ?' || $1 || $1 /* ? */");
  EXPECT_EQ(q->parameters, 1);
}

TEST(SqlDialectTest, PlaceholderRowsGroupsPlaceholdersByRow) {
  EXPECT_EQ(PlaceholderRows(1, 1), "(?)");
  EXPECT_EQ(PlaceholderRows(1, 3), "(?, ?, ?)");
  EXPECT_EQ(PlaceholderRows(2, 2), "(?, ?), (?, ?)");
  EXPECT_EQ(PlaceholderRows(0, 4), "");
  auto n = NumberPlaceholders("INSERT INTO t VALUES " + PlaceholderRows(3, 2));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->parameters, 6);
}

TEST(SqlDialectTest, RefusesHostilePlaceholderSql) {
  EXPECT_FALSE(NumberPlaceholders("SELECT 'unterminated ?").ok());
  EXPECT_FALSE(NumberPlaceholders("SELECT /* ? ").ok());
  EXPECT_FALSE(NumberPlaceholders("SELECT ?0").ok());
  EXPECT_FALSE(NumberPlaceholders("SELECT ?99999999999999999999").ok());
}

TEST(SqlDialectTest, TranslatesSqliteDdl) {
  EXPECT_EQ(SqliteDdlToPostgres("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                                "n integer, b BLOB, r REAL, integer_like TEXT DEFAULT 'BLOB')"),
            "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, "
            "b BYTEA, r DOUBLE PRECISION, integer_like TEXT DEFAULT 'BLOB')");
}

TEST(DbUriTest, PostgresUris) {
  EXPECT_TRUE(IsPostgresUri("postgresql://h/db"));
  EXPECT_TRUE(IsPostgresUri("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUri("sqlite:x.db"));
  EXPECT_EQ(*PostgresUriDescription("postgresql://u@h:5432/db?sslmode=require"),
            "postgresql://u@h:5432/db");
  EXPECT_FALSE(PostgresUriDescription("postgresql://u:p@h/db").ok());
  EXPECT_FALSE(PostgresUriDescription("postgresql://h/db?password=p").ok());
  EXPECT_FALSE(PostgresUriDescription("sqlite:x").ok());
}

}  // namespace
}  // namespace facetrail
