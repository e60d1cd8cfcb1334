// `facetrail enroll | search | gallery seal|stats` with the real binary and models against
// `--db postgresql://…` on the throw-away test cluster (issue 15): the gallery lives in
// PostgreSQL, each "server" keeps its snapshot in its own --snapshot-dir (or none: indexed in
// memory), a seal through one leaves the other's next search, and a password in the URI is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/command.h"
#include "common/pg_cluster.h"

namespace {

namespace fs = std::filesystem;
using facetrail::testing::CommandRun;
using facetrail::testing::RunCommand;

const std::string kLfw = FACETRAIL_SHARED_DIR "/data/lfw-deepfunneled-dev/images";
const std::vector<std::string> kPeople = {"Colin_Powell", "Tony_Blair", "Hugo_Chavez",
                                          "Laura_Bush"};

std::string Photo(const std::string& person, int n) {
  return person + "/" + person + "_000" + std::to_string(n) + ".jpg";
}

class PostgresCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(FACETRAIL_MODELS_DIR) / "face_recognition_model.bin") ||
        !fs::exists(kLfw)) {
      GTEST_SKIP() << "models or LFW images missing";
    }
    FT_PG_DATABASE_OR_SKIP(uri_);
    std::string templ = (fs::temp_directory_path() / "ft-pgcli-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  CommandRun Ft(const std::string& args, const std::string& env = "") const {
    return RunCommand("cd '" + dir_ + "' && " + env +
                      " FACETRAIL_MODELS='" FACETRAIL_MODELS_DIR "' '" FACETRAIL_BINARY_DIR
                      "/facetrail' " +
                      args + " 2>&1 </dev/null");
  }
  // The booking numbers of a `search --json`, best first.
  static std::vector<std::string> Bookings(const CommandRun& r) {
    std::vector<std::string> out;
    const size_t start = r.out.find('{');
    if (start == std::string::npos) return out;
    const auto j = nlohmann::json::parse(r.out.substr(start), nullptr, false);
    if (j.is_discarded()) return out;
    for (const auto& c : j["candidates"]) out.push_back(c["booking_number"]);
    return out;
  }
  std::string uri_, dir_;
};

TEST_F(PostgresCliTest, EnrolSearchSealSearchWithTwoSnapshotFolders) {
  std::string manifest = "booking_number,photo,name\n";
  for (size_t i = 0; i < kPeople.size(); ++i) {
    manifest += "B-" + std::to_string(i) + "," + Photo(kPeople[i], 1) + "," + kPeople[i] + "\n";
  }
  std::ofstream(fs::path(dir_) / "manifest.csv") << manifest;
  CommandRun enrolled = Ft("enroll --db '" + uri_ + "' --manifest manifest.csv --images '" + kLfw +
                           "' --snapshot-dir snap-a --json");
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.out;
  EXPECT_NE(enrolled.out.find("\"enrolled\":4"), std::string::npos) << enrolled.out;
  // Nothing was written beside a database file: the snapshot is in this machine's folder.
  bool snapshot = false;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "snap-a")) {
    snapshot |=
        e.path().filename().string().starts_with("gallery-") && e.path().extension() == ".snapshot";
  }
  EXPECT_TRUE(snapshot);

  // (Tony Blair's third photo: his second scores at the candidate threshold, 0.49 against 0.49.)
  const std::string probe = "--probe '" + kLfw + "/" + Photo(kPeople[1], 3) + "' --json";
  CommandRun a = Ft("search --db '" + uri_ + "' --snapshot-dir snap-a " + probe);
  ASSERT_EQ(a.exit_code, 0) << a.out;
  ASSERT_FALSE(Bookings(a).empty()) << a.out;
  EXPECT_EQ(Bookings(a)[0], "B-1") << a.out;
  // A second server with its own folder (FACETRAIL_SNAPSHOT_DIR), and one with none (built in
  // memory from the rows), find the same.
  CommandRun b = Ft("search --db '" + uri_ + "' " + probe, "FACETRAIL_SNAPSHOT_DIR=snap-b");
  ASSERT_EQ(b.exit_code, 0) << b.out;
  EXPECT_EQ(Bookings(b), Bookings(a));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "snap-b"));
  CommandRun memory = Ft("search --db '" + uri_ + "' " + probe);
  ASSERT_EQ(memory.exit_code, 0) << memory.out;
  EXPECT_EQ(Bookings(memory), Bookings(a));

  CommandRun sealed = Ft("gallery seal --db '" + uri_ + "' B-1 --snapshot-dir snap-a");
  ASSERT_EQ(sealed.exit_code, 0) << sealed.out;
  for (const char* folder : {"snap-a", "snap-b"}) {
    CommandRun after = Ft("search --db '" + uri_ + "' --snapshot-dir " + folder + " " + probe);
    ASSERT_EQ(after.exit_code, 0) << after.out;
    for (const std::string& booking : Bookings(after)) EXPECT_NE(booking, "B-1") << folder;
  }
  // An expunge deletes the snapshots in the folder it is given at once; another server's
  // (snap-b) is rewritten without the templates at its next search.
  CommandRun expunged = Ft("gallery expunge --db '" + uri_ + "' B-2 --snapshot-dir snap-a");
  ASSERT_EQ(expunged.exit_code, 0) << expunged.out;
  EXPECT_TRUE(fs::is_empty(fs::path(dir_) / "snap-a"));
  const std::string probe2 =
      "--probe '" + kLfw + "/" + Photo(kPeople[2], 2) + "' --min-score -1 --json";
  CommandRun gone = Ft("search --db '" + uri_ + "' --snapshot-dir snap-b " + probe2);
  ASSERT_EQ(gone.exit_code, 0) << gone.out;
  for (const std::string& booking : Bookings(gone)) EXPECT_NE(booking, "B-2");
  EXPECT_FALSE(Bookings(gone).empty()) << gone.out;  // the others are still there
  CommandRun stats = Ft("gallery stats --db '" + uri_ + "' --json");
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  EXPECT_NE(stats.out.find("\"bookings_sealed\":1"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("\"bookings_expunged\":1"), std::string::npos) << stats.out;
}

TEST_F(PostgresCliTest, APasswordInTheUriIsRefusedBeforeConnecting) {
  CommandRun r = Ft("gallery stats --db 'postgresql://facetrail:secret@127.0.0.1:1/x'");
  EXPECT_EQ(r.exit_code, 2) << r.out;  // a usage error
  EXPECT_NE(r.out.find("PGPASSWORD"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;
}

}  // namespace
