// `facetrail enroll --watch DIR` with the real binary and networks: a transaction dropped into
// the folder is imported and moved to done/; a damaged one and one without a face record go to
// rejected/ with NAME.reason.txt saying why; a second pass changes nothing; without --once the
// watch imports a file only once its size and time held still between two looks, and SIGINT
// stops it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/command.h"

namespace {

namespace fs = std::filesystem;
using facetrail::testing::CommandRun;
using facetrail::testing::RunCommand;

const fs::path kSamples = fs::path(FACETRAIL_SHARED_DIR) / "data/ansi-nist-samples";

class WatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(FACETRAIL_MODELS_DIR) / "face_recognition_model.bin")) {
      GTEST_SKIP() << "models missing";
    }
    std::string templ = (fs::temp_directory_path() / "ft-watch-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    fs::create_directories(fs::path(dir_) / "drop");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  CommandRun Ft(const std::string& args) const {
    return RunCommand("cd '" + dir_ + "' && FACETRAIL_MODELS='" FACETRAIL_MODELS_DIR "' " +
                      "'" FACETRAIL_BINARY_DIR "/facetrail' " + args + " 2>&1 </dev/null");
  }
  fs::path Drop() const { return fs::path(dir_) / "drop"; }
  static std::string Read(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  std::string dir_;
};

TEST_F(WatchTest, DroppedFilesGoToDoneOrRejectedWithAReason) {
  fs::copy_file(kSamples / "valid1.3.an2", Drop() / "booking-1.an2");
  fs::copy_file(kSamples / "sign_vec.an2", Drop() / "signature.an2");
  {
    std::ofstream broken(Drop() / "broken.eft", std::ios::binary);
    broken << "1.001:999\x1d"
              "1.002:0400\x1c";  // lies about its length
  }
  std::ofstream(Drop() / "notes.txt") << "not a transaction";
  CommandRun r = Ft("enroll --db g.db --watch drop --once");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::exists(Drop() / "done/booking-1.an2")) << r.out;
  EXPECT_FALSE(fs::exists(Drop() / "booking-1.an2"));
  EXPECT_FALSE(fs::exists(Drop() / "done/booking-1.an2.reason.txt"));
  EXPECT_FALSE(fs::exists(Drop() / "rejected/booking-1.an2.reason.txt"));
  EXPECT_TRUE(fs::exists(Drop() / "rejected/signature.an2"));
  EXPECT_NE(Read(Drop() / "rejected/signature.an2.reason.txt")
                .find("no face record: the transaction has no Type-10 record"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(Drop() / "rejected/broken.eft"));
  EXPECT_NE(Read(Drop() / "rejected/broken.eft.reason.txt").find("malformed transaction"),
            std::string::npos)
      << Read(Drop() / "rejected/broken.eft.reason.txt");
  EXPECT_TRUE(fs::exists(Drop() / "notes.txt"));  // not a transaction file: left alone

  CommandRun show = Ft("gallery show --db g.db AWRE01730-1234567890 --json");
  ASSERT_EQ(show.exit_code, 0) << show.out;
  EXPECT_NE(show.out.find("\"name\":\"brad\""), std::string::npos) << show.out;

  // The same transaction dropped again: already in the gallery, so done/ again, nothing added.
  fs::copy_file(kSamples / "valid1.3.an2", Drop() / "booking-1-again.an2");
  r = Ft("enroll --db g.db --watch drop --once");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("done: booking-1-again.an2 (0 enrolled, 1 already, 0 rejected)"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(fs::exists(Drop() / "done/booking-1-again.an2"));
}

TEST_F(WatchTest, PollingImportsAFileOnceItHoldsStillAndStopsOnSigint) {
  fs::copy_file(kSamples / "face_jpb_DOM_GMT_DCS.an2", Drop() / "face.an2");
  // Two looks a second apart see the same size and time; SIGINT after 6 s stops the watch.
  CommandRun r = RunCommand("cd '" + dir_ +
                            "' && FACETRAIL_MODELS='" FACETRAIL_MODELS_DIR
                            "' timeout --preserve-status -s INT 6 '" FACETRAIL_BINARY_DIR
                            "/facetrail' enroll --db g.db --watch drop --poll 1 2>&1 "
                            "</dev/null; echo exit=$?");
  EXPECT_NE(r.out.find("done: face.an2 (1 enrolled"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exit=0"), std::string::npos) << r.out;  // stopped cleanly, not killed
  EXPECT_TRUE(fs::exists(Drop() / "done/face.an2"));
}

}  // namespace
