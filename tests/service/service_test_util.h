// A database with users, certificates, a real gallery (synthetic templates through the
// real GalleryStore/GalleryIndex) and a probe analyzer that maps probe bytes to faces.
//
// BACK-ENDS (issue 15)
//   ServiceTest is parameterised by the engine: a SQLite file in a temporary folder, or a fresh
//   database on the throw-away PostgreSQL cluster (tests/common/pg_cluster.h; skipped with the
//   reason when PostgreSQL is not installed, a failure under FACETRAIL_REQUIRE_POSTGRES=1).
//   A fixture runs on both with FT_INSTANTIATE_BACKENDS(Fixture) and TEST_P; a fixture that
//   cannot run on PostgreSQL yet uses FT_INSTANTIATE_SQLITE_ONLY(Fixture) and says why.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "common/pg_cluster.h"
#include "common/sha256.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_store.h"
#include "service/context.h"
#include "service/gallery_candidate_source.h"
#include "service/review.h"
#include "service/search_request.h"
#include "service/user_admin.h"

namespace facetrail::service::testing {

inline constexpr const char* kCase = "MPD-2026-0042";
inline constexpr const char* kAgency = "Metro PD";
inline const vision::TemplateModel kModel{"test-model", 1, 128};

inline std::vector<float> RandomTemplate(std::mt19937& rng) {
  std::normal_distribution<float> n;
  std::vector<float> t(static_cast<size_t>(kModel.dim));
  double norm = 0;
  for (float& v : t) {
    v = n(rng);
    norm += double{v} * v;
  }
  for (float& v : t) v = static_cast<float>(v / std::sqrt(norm));
  return t;
}

// Maps the SHA-256 of a probe's bytes to what the pipeline would have found.
class TableAnalyzer : public ProbeAnalyzer {
 public:
  void Set(const std::vector<uint8_t>& bytes, ProbeAnalysis a) { table_[Sha256Hex(bytes)] = a; }
  Expected<ProbeAnalysis> Analyze(std::span<const uint8_t> bytes) override {
    ++calls;
    auto it = table_.find(Sha256Hex(bytes));
    if (it == table_.end()) return InvalidArgument("not a JPEG file (bad SOI marker)");
    return it->second;
  }
  int calls = 0;

 private:
  std::map<std::string, ProbeAnalysis> table_;
};

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

#define FT_INSTANTIATE_BACKENDS(Fixture)                                                         \
  INSTANTIATE_TEST_SUITE_P(Backends, Fixture,                                                    \
                           ::testing::Values(::facetrail::service::testing::Backend::kSqlite,    \
                                             ::facetrail::service::testing::Backend::kPostgres), \
                           ::facetrail::service::testing::BackendName)
#define FT_INSTANTIATE_SQLITE_ONLY(Fixture)                                                    \
  INSTANTIATE_TEST_SUITE_P(Backends, Fixture,                                                  \
                           ::testing::Values(::facetrail::service::testing::Backend::kSqlite), \
                           ::facetrail::service::testing::BackendName)

inline vision::FaceQuality GoodQuality() {
  return {60, 0.95f, 80, 3, 1, 2};
}

class ServiceTest : public ::testing::TestWithParam<Backend> {
 protected:
  bool postgres() const { return GetParam() == Backend::kPostgres; }

  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "ft-svc-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    db_path_ = dir_ + "/facetrail.db";
    if (postgres()) FT_PG_DATABASE_OR_SKIP(db_path_);
    auto db = Db::Open(db_path_);
    ASSERT_TRUE(db.ok());
    db_ = std::make_unique<Db>(std::move(*db));
    // One minute per clock reading, from 2026-03-02T09:00:00Z.
    auto t = std::make_shared<int64_t>(1772442000);
    ContextOptions options;
    options.clock = [t] { return (*t) += 60; };
    options.password_cost = policy::PasswordCost::Minimum();
    clock_ = t;
    auto ctx = Context::Open(*db_, options);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    ctx_ = std::move(*ctx);

    auto admin =
        InitAdmin(*ctx_, {"admin", "Ada Admin", "admin-password-1", kAgency, dir_ + "/audit.key"});
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = *admin;
    sam_ = MakeUser("sam", {policy::Role::kSearcher}, true);
    eve_ = MakeUser("eve", {policy::Role::kExaminer}, true);
    ed_ = MakeUser("ed", {policy::Role::kExaminer, policy::Role::kSearcher}, true);
    sue_ = MakeUser("sue", {policy::Role::kSupervisor}, false);
    al_ = MakeUser("al", {policy::Role::kAuditor}, false);
    BuildGallery();
  }

  // Verification as an auditor does it: the key admin init created, pinned, checkpoints required.
  audit::VerifyOptions Pinned() const {
    audit::VerifyOptions o;
    auto key = audit::LoadPublicKey(dir_ + "/audit.key.pub");
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    if (key.ok()) o.public_keys = {*key};
    o.require_checkpoint = true;
    return o;
  }

  void TearDown() override {
    source_.reset();
    index_.reset();
    gallery_.reset();
    ctx_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  Actor MakeUser(const std::string& name, const policy::RoleSet& roles, bool certified) {
    auto u =
        AddUser(*ctx_, admin_, {name, name + " Example", kAgency, roles, name + "-password-1"});
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    if (certified) {
      EXPECT_TRUE(AddCertificate(*ctx_, admin_, name,
                                 {"Facial comparison", "FC-" + name, "2026-01-01", "2026-12-31",
                                  "State Academy"})
                      .ok());
    }
    return {u->id, u->name};
  }

  // 40 bookings B-1..B-40, one random template each, in the real gallery, in the same
  // database as everything else (the SQLite file, or the test's PostgreSQL database), as in
  // production: use cases that open the gallery on the Context's own connection
  // (GalleryAdminTest) join its transactions.
  void BuildGallery() {
    auto store = gallery::GalleryStore::Open(db_path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    gallery_ = std::move(*store);
    std::mt19937 rng(7);
    for (int i = 1; i <= 40; ++i) {
      std::vector<float> t = RandomTemplate(rng);
      templates_.push_back(t);
      gallery::BookingRecord b;
      b.booking_number = "B-" + std::to_string(i);
      b.name = "Person " + std::to_string(i);
      gallery::NewPhoto photo;
      std::string bytes = "photo of booking " + std::to_string(i);
      photo.bytes.assign(bytes.begin(), bytes.end());
      photo.source = "test";
      gallery::NewTemplate nt;
      nt.templ = t;
      auto added = gallery_->AddPhoto(b, photo, {kModel.id, kModel.version, kModel.dim}, {&nt, 1});
      ASSERT_TRUE(added.ok()) << added.status().ToString();
    }
    auto index = gallery::GalleryIndex::Open(*gallery_, {kModel.id, kModel.version, kModel.dim});
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    index_ = std::move(*index);
    source_ = MakeGalleryCandidateSource(*gallery_, *index_);
  }

  // Applied to every analysis Probe() makes (a model's calibration table, analysis steps).
  std::function<void(ProbeAnalysis&)> tweak_analysis_;

  // A probe whose face is booking `booking`'s template slightly changed.
  std::vector<uint8_t> Probe(int booking, vision::FaceQuality quality = GoodQuality(),
                             std::string tag = "") {
    std::string text = "\xFF\xD8\xFF\xE0 probe of B-" + std::to_string(booking) + tag;
    std::vector<uint8_t> bytes(text.begin(), text.end());
    std::vector<float> t = templates_[booking - 1];
    std::mt19937 rng(booking);
    std::vector<float> noise = RandomTemplate(rng);
    double norm = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      t[i] = t[i] * 0.9f + noise[i] * 0.1f;
      norm += double{t[i]} * t[i];
    }
    for (float& v : t) v = static_cast<float>(v / std::sqrt(norm));
    ProbeAnalysis a;
    a.format = "jpeg";
    a.width = 640;
    a.height = 480;
    a.faces.push_back({{100, 100, 120, 120}, quality, t, {}});
    a.model = kModel;
    a.model_limits = {20.f, 15.f, "test-model"};  // the test model's "calibration"
    a.calibrated_candidate_threshold = 0.3f;
    if (tweak_analysis_) tweak_analysis_(a);
    analyzer_.Set(bytes, a);
    return bytes;
  }

  SearchRequest Request(std::vector<uint8_t> probe) {
    SearchRequest r;
    r.fields = {kCase, "criminal investigation", "armed robbery",
                "CCTV still of the suspect at the bank", kAgency};
    r.probe_bytes = std::move(probe);
    r.probe_name = "cctv.jpg";
    r.top_k = 5;
    return r;
  }

  Expected<SearchResponse> Search(const Actor& who, const SearchRequest& r) {
    return RequestSearch(*ctx_, who, r, analyzer_, *source_);
  }

  std::vector<audit::Entry> Entries(const std::string& action) {
    std::vector<audit::Entry> out;
    auto all = ctx_->log().Read();
    EXPECT_TRUE(all.ok());
    for (auto& e : all.value()) {
      if (e.action == action) out.push_back(e);
    }
    return out;
  }

  int64_t Count(const std::string& table) {
    auto stmt = db_->Prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(stmt.ok());
    EXPECT_TRUE(stmt->Step().ok());
    return stmt->Int(0);
  }

  void ExpectRefused(const Status& s, std::string_view code) {
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
    EXPECT_EQ(SplitRefusal(s).code, code) << s.ToString();
  }

  // A connection to the database that holds the gallery's tables (bookings, photos).
  Db& gallery_db() { return *db_; }

  void SetToday(const std::string& utc) { *clock_ = *audit::ParseUtc(utc); }

  std::string dir_;
  std::string db_path_;  // the SQLite file, or the PostgreSQL URI
  std::unique_ptr<Db> db_;
  std::shared_ptr<int64_t> clock_;
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<gallery::GalleryStore> gallery_;
  std::unique_ptr<gallery::GalleryIndex> index_;
  std::unique_ptr<CandidateSource> source_;
  std::vector<std::vector<float>> templates_;
  TableAnalyzer analyzer_;
  Actor admin_, sam_, eve_, ed_, sue_, al_;
};

}  // namespace facetrail::service::testing
