// A live gallery moves from the face-api ResNet to fr_feature with the real binary and the real
// networks: searches keep answering with the old model while `gallery retemplate` runs, the
// switch is refused until every photo has a template and for the wrong roles, every search
// after it uses the new model, and the old templates are pruned — all of it in the audit log.
// On both back-ends: a SQLite file (snapshots beside it), and a database on the PostgreSQL test
// cluster with the snapshots in a folder of this "machine" (FACETRAIL_SNAPSHOT_DIR), as a server
// on PostgreSQL keeps them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "common/command.h"
#include "common/db.h"
#include "common/db_query.h"
#include "common/pg_cluster.h"

namespace {

namespace fs = std::filesystem;
using facetrail::testing::CommandRun;
using facetrail::testing::RunCommand;

const fs::path kImages = fs::path(FACETRAIL_SHARED_DIR) / "data/lfw-deepfunneled-dev/images";

// Identities with several LFW images: the first image is the booking photo.
const char* const kPeople[] = {"Colin_Powell",    "Tony_Blair",        "Hugo_Chavez",
                               "Jacques_Chirac",  "Jennifer_Capriati", "Laura_Bush",
                               "Nestor_Kirchner", "Andre_Agassi",      "Tom_Ridge",
                               "Vicente_Fox",     "Silvio_Berlusconi", "Megawati_Sukarnoputri"};

enum class Backend { kSqlite, kPostgres };
std::string BackendName(const ::testing::TestParamInfo<Backend>& param) {
  return param.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

class ModelMigrationTest : public ::testing::TestWithParam<Backend> {
 protected:
  bool postgres() const { return GetParam() == Backend::kPostgres; }
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "ft-migrate-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    db_ = dir_ + "/f.db";
    if (postgres()) FT_PG_DATABASE_OR_SKIP(db_);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(dir_ + "-trust");
  }

  // `--db` of the test's database.
  std::string Db() const { return "--db '" + db_ + "'"; }
  // Where `admin init` puts the signing key: beside the SQLite file, or (PostgreSQL: no file)
  // where --key names it.
  std::string KeyOption() const { return postgres() ? " --key '" + dir_ + "/audit.key'" : ""; }
  std::string PublicKey() const {
    return postgres() ? dir_ + "/audit.key.pub" : dir_ + "/f.db.audit-key.pub";
  }
  // The folder the search snapshots are in: beside the SQLite file, or this "machine's" folder.
  std::string SnapshotFolder() const { return postgres() ? dir_ + "/snapshots" : dir_; }
  std::vector<std::string> Snapshots() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(SnapshotFolder(), ec)) {
      if (e.path().extension() == ".snapshot") out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // One text column of a query on the test's database, a line per row.
  std::string Query(const std::string& sql) const {
    return facetrail::testing::TextColumnLines(db_, sql);
  }

  // Runs facetrail; stderr joins stdout unless `json` (then stdout alone, to be parsed).
  CommandRun Ft(const std::string& args, const std::string& password = "", bool json = false,
                const std::string& new_password = "") const {
    const std::string snapshots =
        postgres() ? " FACETRAIL_SNAPSHOT_DIR='" + SnapshotFolder() + "'" : "";
    return RunCommand("cd '" + dir_ + "' &&" + snapshots + " FACETRAIL_PASSWORD='" + password +
                      "' FACETRAIL_NEW_PASSWORD='" + new_password + "' FACETRAIL_MODELS='" +
                      FACETRAIL_MODELS_DIR "' '" FACETRAIL_BINARY_DIR "/facetrail' " + args +
                      (json ? " 2>/dev/null" : " 2>&1") + " </dev/null");
  }

  // An accountable search for `person`'s second photo; the list's model and top candidate. The
  // list is not cut by a threshold (--min-score 0): what is checked is the ranking.
  std::pair<std::string, std::string> Search(const std::string& person) const {
    const std::string probe = (kImages / person / (person + "_0002.jpg")).string();
    CommandRun r = Ft("search " + Db() +
                          " --user sam --case MPD-2026-0042 --purpose 'criminal "
                          "investigation' --offense robbery --justification 'CCTV still' --agency "
                          "'Metro PD' --top 3 --json --probe '" +
                          probe + "'",
                      "sam-password-1", true);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || !j.is_object() || !j.contains("candidates")) {
      return {"error", r.out};
    }
    return {j["model"]["id"].get<std::string>(),
            j["candidates"].empty() ? std::string("none")
                                    : j["candidates"][0]["booking_number"].get<std::string>()};
  }

  std::string dir_;
  std::string db_;  // the SQLite file, or the PostgreSQL URI
};

TEST_P(ModelMigrationTest, LiveGalleryMovesToTheNewModel) {
  if (!fs::exists(kImages / "Colin_Powell")) GTEST_SKIP() << "LFW images missing";
  const std::string admin = "admin-password-1", sup = "sue-password-1";
  ASSERT_EQ(
      Ft("admin init " + Db() + KeyOption() + " --name admin --agency 'Metro PD'", admin).exit_code,
      0);
  for (auto [name, roles] : {std::pair{"sam", "searcher"}, {"sue", "supervisor"}}) {
    ASSERT_EQ(Ft(std::string("admin user add " + Db() + " --user admin --name ") + name +
                     " --agency 'Metro PD' --roles " + roles,
                 admin, false, std::string(name) + "-password-1")
                  .exit_code,
              0);
  }
  ASSERT_EQ(Ft("admin cert add " + Db() +
                   " --user admin --name sam --course FC --number FC-1 "
                   "--issued 2020-01-01 --expires 2099-12-31 --issued-by Academy",
               admin)
                .exit_code,
            0);
  {
    std::ofstream m(dir_ + "/m.csv");
    m << "booking_number,photo,name\n";
    for (const char* p : kPeople)
      m << "B-" << p << "," << p << "/" << p << "_0001.jpg," << p << "\n";
  }
  // A new gallery takes the model it is enrolled with: here the old one.
  CommandRun e = Ft("enroll " + Db() + " --manifest m.csv --images '" + kImages.string() +
                        "' --model faceapi-resnet --threads 1 --user sue",
                    sup);
  ASSERT_EQ(e.exit_code, 0) << e.out;
  // Every score listed (the department's candidate-list policy), so the top candidate is seen
  // under both models whatever their calibrated thresholds.
  CommandRun policy = Ft("admin config candidates " + Db() +
                             " --user sue --length 20 --threshold 0.5 --reason "
                             "'migration test'",
                         sup);
  ASSERT_EQ(policy.exit_code, 0) << policy.out;
  // The threshold alone (the length stays 20).
  policy = Ft("admin config candidates --json " + Db() +
                  " --user sue --threshold 0 --reason "
                  "'every score listed'",
              sup, true);
  ASSERT_EQ(policy.exit_code, 0) << policy.out;
  EXPECT_EQ(nlohmann::json::parse(policy.out)["max_list_length"], 20) << policy.out;
  const std::string old_id = "faceapi-1.7.15-resnet29/similarity-flip";
  const std::string new_id = "faceplugin-0.0.1-fr_feature/5point-flip";
  auto before = Search("Colin_Powell");
  ASSERT_EQ(before.first, old_id) << before.second;
  EXPECT_EQ(before.second, "B-Colin_Powell");

  // Activation before the new templates exist, and by a searcher, is refused.
  EXPECT_EQ(Ft("admin model activate fr_feature " + Db() + " --user sue --reason 'issue 12'", sup)
                .exit_code,
            1);
  EXPECT_EQ(
      Ft("admin model activate fr_feature " + Db() + " --user sam --reason x", "sam-password-1")
          .exit_code,
      3);

  // Retemplate in the background; search all the while.
  auto migration = std::async(std::launch::async, [&] {
    return Ft("gallery retemplate " + Db() +
                  " --model fr_feature --user sue --reason 'issue 12' "
                  "--workers 1",
              sup);
  });
  int during = 0;
  while (migration.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    for (const char* p : {"Tony_Blair", "Colin_Powell"}) {
      auto r = Search(p);
      ASSERT_EQ(r.first, old_id) << r.second;
      EXPECT_EQ(r.second, std::string("B-") + p);
      ++during;
    }
  }
  const CommandRun done = migration.get();
  ASSERT_EQ(done.exit_code, 0) << done.out;
  EXPECT_NE(done.out.find("every photo has a template"), std::string::npos) << done.out;
  EXPECT_GT(during, 0);
  // Idempotent: a second run finds nothing to do.
  CommandRun again =
      Ft("gallery retemplate " + Db() + " --model fr_feature --user sue --reason 'again' --json",
         sup, true);
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(nlohmann::json::parse(again.out)["photos"], 0);

  // The switch, then every search uses the new model and finds the same people.
  CommandRun a =
      Ft("admin model activate fr_feature " + Db() + " --user sue --reason 'issue 12' --json", sup,
         true);
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_EQ(nlohmann::json::parse(a.out)["active_model"], new_id) << a.out;
  for (const char* p : {"Colin_Powell", "Tony_Blair", "Hugo_Chavez", "Andre_Agassi"}) {
    auto r = Search(p);
    EXPECT_EQ(r.first, new_id) << r.second;
    EXPECT_EQ(r.second, std::string("B-") + p);
  }
  // Both models' snapshots are on disk (beside the file, or in this machine's folder).
  const std::vector<std::string> both = Snapshots();
  ASSERT_EQ(both.size(), 2u) << SnapshotFolder();
  // The old model cannot be pruned while active; the new one cannot be pruned now.
  EXPECT_EQ(Ft("gallery prune-templates " + Db() + " --model fr_feature --user sue --reason x", sup)
                .exit_code,
            1);
  CommandRun prune = Ft("gallery prune-templates " + Db() +
                            " --model faceapi-resnet --user sue --reason 'migrated' "
                            "--json",
                        sup, true);
  ASSERT_EQ(prune.exit_code, 0) << prune.out;
  EXPECT_EQ(nlohmann::json::parse(prune.out)["deleted_templates"], 12) << prune.out;
  // The pruned model's snapshot (its templates' numbers) is gone from the folder; the active
  // model's stays.
  const std::vector<std::string> left = Snapshots();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(std::find(both.begin(), both.end(), left[0]), both.end());
  EXPECT_EQ(Search("Tony_Blair").second, "B-Tony_Blair");
  CommandRun stats = Ft("gallery stats " + Db() + " --json", "", true);
  auto sj = nlohmann::json::parse(stats.out);
  ASSERT_EQ(sj["models"].size(), 1u);
  EXPECT_EQ(sj["models"][0]["model_id"], new_id);
  EXPECT_EQ(sj["models"][0]["dim"], 512);
  EXPECT_EQ(sj["models"][0]["active"], true);

  // The log: who moved the gallery, when and why, with the refusal of the searcher.
  const std::string log = Query(
      "SELECT actor || ' ' || action FROM audit_entries WHERE action LIKE 'model.%' ORDER BY seq");
  EXPECT_EQ(log,
            "sam model.refused\n"
            "sue model.retemplate.start\n"
            "sue model.retemplate\n"
            "sue model.retemplate.start\n"
            "sue model.retemplate\n"
            "sue model.activate\n"
            "sue model.prune.start\n"
            "sue model.prune\n");
  // The audit key 'admin init' made, pinned outside the database's folder as an auditor would.
  fs::create_directories(dir_ + "-trust");
  fs::copy_file(PublicKey(), dir_ + "-trust/pinned.pub");
  CommandRun verify = Ft("audit verify " + Db() + " --public-key '" + dir_ + "-trust/pinned.pub'");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelMigrationTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace

namespace {

// A department registers its own ONNX model, which cannot be activated until `facetrail eval`
// certified it on labelled data; then it can. (The "department's" network is fr_feature under
// another name: what is tested is the procedure.)
TEST_P(ModelMigrationTest, ADepartmentsModelIsRegisteredCertifiedThenActivated) {
  if (!fs::exists(kImages / "Colin_Powell")) GTEST_SKIP() << "LFW images missing";
  // A models folder of our own, with the shipped models.
  const fs::path models = fs::path(dir_) / "models";
  fs::create_directories(models);
  for (const auto& e : fs::directory_iterator(FACETRAIL_MODELS_DIR)) {
    if (e.is_regular_file()) fs::copy_file(e.path(), models / e.path().filename());
  }
  const fs::path incoming = fs::path(dir_) / "incoming";
  fs::create_directories(incoming);
  fs::copy_file(fs::path(FACETRAIL_MODELS_DIR) / "fr_feature.onnx", incoming / "dept.onnx");
  auto shipped =
      nlohmann::json::parse(RunCommand("cat '" FACETRAIL_MODELS_DIR "/fr_feature.model.json'").out);
  shipped.erase("calibration");
  shipped["name"] = "dept_net";
  shipped["id"] = "metro-pd-dept-net";
  shipped["file"] = "dept.onnx";
  std::ofstream(incoming / "dept.model.json") << shipped.dump(2);
  const std::string m = " --models '" + models.string() + "'";

  // A manifest whose hash does not match its file is refused; the right one is registered.
  auto wrong = shipped;
  wrong["sha256"] = std::string(64, '0');
  std::ofstream(incoming / "wrong.model.json") << wrong.dump(2);
  CommandRun bad = Ft("models register incoming/wrong.model.json" + m);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("SHA-256"), std::string::npos) << bad.out;
  CommandRun reg = Ft("models register incoming/dept.model.json" + m);
  ASSERT_EQ(reg.exit_code, 0) << reg.out;
  EXPECT_NE(reg.out.find("certify it"), std::string::npos) << reg.out;
  // Registering it twice is refused; with --json the refusal is JSON on stdout (issue 17).
  CommandRun again = Ft("models register incoming/dept.model.json --json" + m, "", true);
  EXPECT_NE(again.exit_code, 0) << "registered twice";
  auto again_json = nlohmann::json::parse(again.out, nullptr, false);
  ASSERT_TRUE(again_json.is_object()) << again.out;
  EXPECT_NE(again_json["error"]["message"].get<std::string>().find("already"), std::string::npos)
      << again.out;
  // A model with a projection brings its matrix file along (the shipped robust variant's, here
  // under a department's names).
  auto projected = nlohmann::json::parse(
      RunCommand("cat '" FACETRAIL_MODELS_DIR "/fr_feature-robust.model.json'").out);
  projected.erase("calibration");
  projected["name"] = "dept_net_p";
  projected["id"] = "metro-pd-dept-net-p";
  projected["file"] = "dept_p.onnx";
  projected["projection"]["file"] = "dept_p.proj";
  fs::copy_file(fs::path(FACETRAIL_MODELS_DIR) / "fr_feature.onnx", incoming / "dept_p.onnx");
  std::ofstream(incoming / "dept_p.model.json") << projected.dump(2);
  CommandRun no_matrix = Ft("models register incoming/dept_p.model.json" + m);
  EXPECT_NE(no_matrix.exit_code, 0) << "registered without its projection file";
  EXPECT_NE(no_matrix.out.find("dept_p.proj"), std::string::npos) << no_matrix.out;
  fs::copy_file(fs::path(FACETRAIL_MODELS_DIR) / "fr_feature-robust.projection.f32",
                incoming / "dept_p.proj");
  CommandRun reg_p = Ft("models register incoming/dept_p.model.json" + m);
  ASSERT_EQ(reg_p.exit_code, 0) << reg_p.out;
  EXPECT_TRUE(fs::exists(models / "dept_p.proj"));
  CommandRun show_p = Ft("models show dept_net_p" + m);
  ASSERT_EQ(show_p.exit_code, 0) << show_p.out;
  EXPECT_NE(show_p.out.find("projection"), std::string::npos) << show_p.out;
  EXPECT_NE(show_p.out.find("matches its SHA-256"), std::string::npos) << show_p.out;

  const CommandRun listed_run = Ft("models list --json" + m, "", true);
  auto list = nlohmann::json::parse(listed_run.out);
  bool listed = false;
  for (const auto& e : list) {
    if (e["name"] == "dept_net") {
      listed = true;
      EXPECT_EQ(e["certified"], false);
      EXPECT_EQ(e["file_ok"], true);
      EXPECT_EQ(e["dim"], 512);
    }
  }
  EXPECT_TRUE(listed) << listed_run.out;

  // A gallery migrated to it: activation waits for the certification.
  {
    std::ofstream mf(dir_ + "/m.csv");
    mf << "booking_number,photo,name\n";
    for (const char* p : kPeople)
      mf << "B-" << p << "," << p << "/" << p << "_0001.jpg," << p << "\n";
  }
  // enroll --json: the summary as one JSON object on stdout (progress stays on stderr).
  CommandRun enrolled = Ft("enroll --json " + Db() + " --manifest m.csv --threads 1 --images '" +
                               kImages.string() + "'" + m,
                           "", true);
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.out;
  auto summary = nlohmann::json::parse(enrolled.out, nullptr, false);
  ASSERT_TRUE(summary.is_object()) << enrolled.out;
  EXPECT_EQ(summary["enrolled"], std::size(kPeople)) << enrolled.out;
  EXPECT_EQ(summary["rejected"], 0) << enrolled.out;
  EXPECT_EQ(summary["snapshot"]["searchable"], std::size(kPeople)) << enrolled.out;
  ASSERT_EQ(Ft("gallery retemplate " + Db() + " --model dept_net" + m).exit_code, 0);
  CommandRun early = Ft("admin model activate dept_net " + Db() + "" + m);
  EXPECT_EQ(early.exit_code, 1);
  EXPECT_NE(early.out.find("not certified"), std::string::npos) << early.out;

  // Certification: an evaluation on labelled images (90 LFW photos of 6 people here).
  { std::ofstream ids(dir_ + "/labelled/identities.csv"); }
  fs::create_directories(fs::path(dir_) / "labelled");
  {
    std::ofstream ids(dir_ + "/labelled/identities.csv");
    ids << "path,identity\n";
    for (const char* p : {"Colin_Powell", "Tony_Blair", "Hugo_Chavez", "Jacques_Chirac",
                          "Laura_Bush", "Andre_Agassi"}) {
      std::vector<std::string> files;
      for (const auto& e : fs::directory_iterator(kImages / p)) files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      for (size_t i = 0; i < 15 && i < files.size(); ++i) ids << files[i] << "," << p << "\n";
    }
  }
  CommandRun eval =
      Ft("eval report --data labelled --model dept_net --target-fpir 0.05 "
         "--out out/eval --calibrate" +
         m);
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  EXPECT_NE(eval.out.find("calibration of 'dept_net' written"), std::string::npos) << eval.out;
  auto show = nlohmann::json::parse(Ft("models show dept_net --json" + m, "", true).out);
  EXPECT_EQ(show["certified"], true);
  EXPECT_GT(show["calibration"]["candidate"]["gallery_size"].get<int>(), 0);
  CommandRun act = Ft("admin model activate dept_net " + Db() + "" + m);
  EXPECT_EQ(act.exit_code, 0) << act.out;
  auto stats = nlohmann::json::parse(Ft("gallery stats " + Db() + " --json", "", true).out);
  for (const auto& s : stats["models"]) {
    EXPECT_EQ(s["active"], s["model_id"] == "metro-pd-dept-net/5point-flip") << s.dump();
  }
}

}  // namespace
