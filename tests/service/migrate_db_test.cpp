// Moving over (issue 15): a real SQLite database (users, certificates, a gallery with real LFW
// photos and synthetic ones, a search request with its
// examination, a session, signed audit checkpoints) copied into PostgreSQL by
// service::MigrateDatabase; every table compared row by row; the refusals and the failures that
// must leave the target as it was. On the test cluster (tests/common/pg_cluster.h).
#include "service/migrate_db.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "common/file.h"
#include "common/pg_cluster.h"
#include "gallery/internal/schema.h"
#include "service/sessions.h"
#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::ServiceTest;

const std::string kLfw = FACETRAIL_SHARED_DIR "/data/lfw-deepfunneled-dev/images";

// The source's tables (SQLite's own left out), sorted.
std::vector<std::string> Tables(Db& sqlite) {
  std::vector<std::string> out;
  auto st = sqlite.Prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
      "ORDER BY name");
  EXPECT_TRUE(st.ok());
  while (st->Step().value()) out.push_back(st->Text(0));
  return out;
}

// The target's tables, sorted.
std::vector<std::string> PgTables(Db& pg) {
  std::vector<std::string> out;
  auto st = pg.Prepare(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
  EXPECT_TRUE(st.ok());
  while (st->Step().value()) out.push_back(st->Text(0));
  std::sort(out.begin(), out.end());
  return out;
}

int64_t CountRows(Db& db, const std::string& table) {
  auto st = db.Prepare("SELECT count(*) FROM " + table);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_TRUE(st->Step().ok());
  return st->Int(0);
}

// Compares `table` row by row (in primary-key order, each value with the type SQLite stored):
// the first rows of the target must equal the source's; returns the number of extra target rows.
int64_t CompareTable(Db& source, Db& target, const std::string& table) {
  std::vector<std::string> columns;
  std::vector<std::pair<int, std::string>> pk;
  auto info = source.Prepare("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid");
  info->Bind(1, table);
  while (info->Step().value()) {
    columns.push_back(info->Text(0));
    if (info->Int(1) > 0) pk.emplace_back(static_cast<int>(info->Int(1)), info->Text(0));
  }
  std::sort(pk.begin(), pk.end());
  EXPECT_FALSE(pk.empty()) << table;
  std::string cols, order, types;
  for (size_t i = 0; i < columns.size(); ++i) {
    cols += (i ? ", " : "") + columns[i];
    types += (i ? ", " : "") + std::string("typeof(") + columns[i] + ")";
  }
  for (size_t i = 0; i < pk.size(); ++i) order += (i ? ", " : "") + pk[i].second;
  auto src =
      source.Prepare("SELECT " + cols + ", " + types + " FROM " + table + " ORDER BY " + order);
  auto dst = target.Prepare("SELECT " + cols + " FROM " + table + " ORDER BY " + order);
  EXPECT_TRUE(src.ok() && dst.ok()) << table;
  const int n = static_cast<int>(columns.size());
  int64_t row = 0;
  while (src->Step().value()) {
    ++row;
    EXPECT_TRUE(dst->Step().value()) << table << ": the target lacks row " << row;
    for (int c = 0; c < n; ++c) {
      const std::string type = src->Text(n + c);
      const std::string where = table + " row " + std::to_string(row) + " " + columns[c];
      if (type == "null") {
        EXPECT_TRUE(dst->IsNull(c)) << where;
      } else if (type == "integer") {
        EXPECT_EQ(src->Int(c), dst->Int(c)) << where;
      } else if (type == "real") {
        EXPECT_EQ(src->Double(c), dst->Double(c)) << where;  // exactly
      } else if (type == "text") {
        EXPECT_EQ(src->Text(c), dst->Text(c)) << where;
      } else {
        EXPECT_EQ(src->Blob(c), dst->Blob(c)) << where;
      }
    }
  }
  int64_t extra = 0;
  while (dst->Step().value()) ++extra;
  return extra;
}

// The source of a migration is a SQLite database (the one ServiceTest builds); the target a
// PostgreSQL database on the test cluster.
class MigrateDbTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    FT_PG_DATABASE_OR_SKIP(target_uri_);
    auto target = Db::Open(target_uri_);
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    target_ = std::make_unique<Db>(std::move(*target));
  }

  void TearDown() override {
    target_.reset();
    ServiceTest::TearDown();
  }

  // Activity in every component: a search request with an examination, a sealed and an
  // expunged booking, a session, a checkpoint after it all.
  void Populate() {
    auto config = ctx_->store().LoadConfig();
    ASSERT_TRUE(config.ok());
    config->candidate_threshold = -1.f;
    ASSERT_TRUE(UpdateConfig(*ctx_, admin_, *config).ok());
    auto r = Search(sam_, Request(Probe(7)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    CandidateExamination one;
    one.rank = 1;
    one.conclusion = "possible lead";
    one.notes = "ear shape agrees";
    one.components = {{Component::kEars, FeatureMark::kSimilar, "same helix"}};
    ASSERT_TRUE(Examine(*ctx_, eve_, r->request_id, {one}).ok());
    ASSERT_TRUE(gallery_->SetStatus("B-3", gallery::RecordStatus::kSealed).ok());
    ASSERT_TRUE(gallery_->Expunge("B-4").ok());
    ASSERT_TRUE(CreateSession(*ctx_, sam_).ok());
    auto key = audit::LoadSigningKey(dir_ + "/audit.key");
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE(audit::CreateCheckpoint(ctx_->log(), *key, "test").ok());
  }

  // Real photos (LFW JPEG files, their bytes as they are) in the gallery, with templates of the
  // test model (the gallery's active model); skipped without the LFW set.
  void AddLfwPhotos() {
    if (!std::filesystem::exists(kLfw)) {
      std::cerr << "LFW missing: no real photos in this run\n";
      return;
    }
    std::mt19937 rng(11);
    int n = 0;
    for (const char* photo : {"Colin_Powell/Colin_Powell_0001.jpg",
                              "Tony_Blair/Tony_Blair_0001.jpg", "Laura_Bush/Laura_Bush_0001.jpg"}) {
      auto bytes = ReadFileBytes(kLfw + "/" + photo);
      ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
      gallery::BookingRecord b;
      b.booking_number = "L-" + std::to_string(++n);
      b.name = photo;
      gallery::NewPhoto p;
      p.bytes = *bytes;
      p.source = "lfw";
      gallery::NewTemplate t;
      t.templ = testing::RandomTemplate(rng);
      auto added = gallery_->AddPhoto(
          b, p, {testing::kModel.id, testing::kModel.version, testing::kModel.dim}, {&t, 1});
      ASSERT_TRUE(added.ok()) << added.status().ToString();
    }
  }

  Expected<MigrateDbResult> Migrate() {
    auto source = Db::Open(db_path_, false);
    if (!source.ok()) return source.status();
    MigrateDbOptions options;
    options.operator_identity = "uid 0 (test) on testhost";
    options.verify = Pinned();
    return MigrateDatabase(*source, *target_, options);
  }

  std::string target_uri_;
  std::unique_ptr<Db> target_;
};

FT_INSTANTIATE_SQLITE_ONLY(MigrateDbTest);

TEST_P(MigrateDbTest, CopiesEveryTableRowByRowWithItsIdsAndTheAuditChain) {
  Populate();
  AddLfwPhotos();
  auto source = Db::Open(db_path_, false);
  ASSERT_TRUE(source.ok());
  const std::vector<std::string> tables = Tables(*source);
  for (const char* t :
       {"bookings", "photos", "templates", "template_changes", "gallery_meta", "expunged_photos",
        "policy_users", "policy_certificates", "policy_user_roles", "policy_config", "probes",
        "search_requests", "request_candidates", "reviews", "review_candidates", "auth_credentials",
        "audit_entries", "audit_checkpoints"}) {
    EXPECT_GT(CountRows(*source, t), 0) << t << ": the test should give it rows";
  }
  auto head = ctx_->log().Head();
  ASSERT_TRUE(head.ok());

  auto r = Migrate();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(PgTables(*target_), tables);
  int64_t rows = 0;
  for (const std::string& t : tables) {
    const int64_t extra = CompareTable(*source, *target_, t);
    // The target's log has one entry more: the copy's own.
    EXPECT_EQ(extra, t == "audit_entries" ? 1 : 0) << t;
    if (t != "schema_versions") rows += CountRows(*source, t);
  }
  EXPECT_EQ(r->rows, rows);
  EXPECT_EQ(r->schema_versions.at("gallery"),
            gallery::internal::GalleryMigrations().back().version);
  EXPECT_EQ(r->source_audit_seq, head->first);

  // The copy audited at the end of the copied chain, and the chain verifies with the pinned key.
  audit::AuditLog target_log(*target_);
  auto entries = target_log.Read(head->first + 1);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].action, "admin.migrate_db");
  EXPECT_EQ((*entries)[0].prev_hash, head->second);
  EXPECT_EQ(r->migrate_entry_seq, head->first + 1);
  auto details = nlohmann::json::parse((*entries)[0].details);
  EXPECT_EQ(details["operator"], "uid 0 (test) on testhost");
  EXPECT_EQ(details["rows"]["bookings"], CountRows(*source, "bookings"));
  EXPECT_TRUE(r->verify.ok()) << audit::VerifyReportJson(r->verify).dump();
  EXPECT_EQ(r->verify.num_entries, head->first + 1);
  EXPECT_GE(r->verify.proven_seq, 1);

  // New rows get fresh ids, past the copied ones (and past AUTOINCREMENT's high-water mark).
  struct Fresh {
    const char* table;
    const char* id;
    const char* insert;
  };
  for (const Fresh& f :
       {Fresh{"bookings", "id",
              "INSERT INTO bookings(booking_number) VALUES ('NEW-1') RETURNING id"},
        Fresh{"template_changes", "seq",
              "INSERT INTO template_changes(template_id, model_id, model_version, kind) VALUES "
              "(1, 'm', 1, 'added') RETURNING seq"},
        Fresh{"policy_users", "id",
              "INSERT INTO policy_users(name, full_name, agency, password_hash) VALUES ('new', "
              "'', 'x', 'x') RETURNING id"}}) {
    auto max = target_->Prepare(std::string("SELECT max(") + f.id + ") FROM " + f.table);
    ASSERT_TRUE(max.ok() && max->Step().ok());
    const int64_t before = max->Int(0);
    auto ins = target_->Prepare(f.insert);
    ASSERT_TRUE(ins.ok());
    auto stepped = ins->Step();
    ASSERT_TRUE(stepped.ok()) << f.table << ": " << stepped.status().ToString();
    EXPECT_EQ(ins->Int(0), before + 1) << f.table;
  }
  // The chain goes on from the copy.
  Status appended = target_->InTransaction([&] {
    return target_log.Append({"cli", "test.append", "x", {}}).status();
  });
  EXPECT_TRUE(appended.ok()) << appended.ToString();
  auto after = audit::Verify(*target_, Pinned());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->ok()) << audit::VerifyReportJson(*after).dump();
}

TEST_P(MigrateDbTest, ANonEmptyTargetIsRefused) {
  auto first = Migrate();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const int64_t users = CountRows(*target_, "policy_users");
  auto again = Migrate();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition) << again.status().ToString();
  EXPECT_NE(again.status().message().find("has rows"), std::string::npos)
      << again.status().ToString();
  EXPECT_EQ(CountRows(*target_, "policy_users"), users);
}

TEST_P(MigrateDbTest, ATargetWithOneRowSomewhereIsRefusedAndNamed) {
  // facetrail's schema made on the target by the components themselves, and one row.
  auto ctx = Context::Open(*target_);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  ASSERT_TRUE(target_->Migrate("gallery", gallery::internal::GalleryMigrations()).ok());
  ASSERT_TRUE(target_->Exec("INSERT INTO case_holds VALUES ('C-1', 'sue', 'now', 'appeal')").ok());
  auto r = Migrate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("'case_holds' has rows"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(CountRows(*target_, "case_holds"), 1);
  EXPECT_EQ(CountRows(*target_, "policy_users"), 0);
}

TEST_P(MigrateDbTest, AnIncompatibleTableOnTheTargetLeavesItAsItWas) {
  ASSERT_TRUE(target_->Exec("CREATE TABLE bookings (id BIGINT PRIMARY KEY, note TEXT)").ok());
  auto r = Migrate();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gallery"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(PgTables(*target_), std::vector<std::string>{"bookings"});
}

TEST_P(MigrateDbTest, ARowBreakingAForeignKeyLeavesTheTargetEmpty) {
  Populate();
  // An orphan row SQLite let in (foreign keys off on this connection): PostgreSQL checks them
  // at the end of the copy, after every other row went in.
  auto raw = Db::Open(db_path_, false);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->Exec("PRAGMA foreign_keys = OFF").ok());
  ASSERT_TRUE(raw->Exec("INSERT INTO probe_steps(request_id, step, kind, params) VALUES "
                        "(9999, 1, 'crop', '{}')")
                  .ok());
  auto r = Migrate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists) << r.status().ToString();
  EXPECT_NE(r.status().message().find("probe_steps"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(PgTables(*target_).empty());
}

TEST_P(MigrateDbTest, AValueOfTheWrongTypeIsNamedAndNothingIsCopied) {
  auto raw = Db::Open(db_path_, false);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->Exec("UPDATE policy_users SET failed_logins = 'many' WHERE name = 'sam'").ok());
  auto r = Migrate();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("policy_users"), std::string::npos);
  EXPECT_NE(r.status().message().find("failed_logins"), std::string::npos);
  EXPECT_NE(r.status().message().find("(id = " + std::to_string(sam_.user_id) + ")"),
            std::string::npos)
      << r.status().ToString();
  EXPECT_TRUE(PgTables(*target_).empty());
}

TEST_P(MigrateDbTest, ASourceNewerThanTheProgramOrWithAnUnknownSchemaIsRefused) {
  auto raw = Db::Open(db_path_, false);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(
      raw->Exec("UPDATE schema_versions SET version = 99 WHERE component = 'gallery'").ok());
  auto newer = Migrate();
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("newer"), std::string::npos);
  EXPECT_TRUE(PgTables(*target_).empty());
  ASSERT_TRUE(raw->Exec("UPDATE schema_versions SET version = 4 WHERE component = 'gallery'").ok());
  ASSERT_TRUE(raw->Exec("INSERT INTO schema_versions VALUES ('retention', 1)").ok());
  auto unknown = Migrate();
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(unknown.status().message().find("does not know"), std::string::npos);
  EXPECT_TRUE(PgTables(*target_).empty());
}

TEST_P(MigrateDbTest, AnOlderSourceIsUpgradedFirstAndCopied) {
  // A requests schema one version back: its last migration's columns gone (SQLite 3.35+).
  auto raw = Db::Open(db_path_, false);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->Exec("ALTER TABLE probe_steps DROP COLUMN why; ALTER TABLE probe_steps DROP "
                        "COLUMN enhancement; ALTER TABLE search_requests DROP COLUMN "
                        "expected_fnir; UPDATE schema_versions SET version = 3 WHERE component "
                        "= 'requests'")
                  .ok());
  auto r = Migrate();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema_versions.at("requests"), 4);
  EXPECT_TRUE(r->verify.ok());
}

TEST_P(MigrateDbTest, OnlySqliteToPostgres) {
  auto source = Db::Open(db_path_, false);
  ASSERT_TRUE(source.ok());
  auto other = Db::Open(dir_ + "/other.db");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(MigrateDatabase(*source, *other, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MigrateDatabase(*target_, *target_, {}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace facetrail::service
