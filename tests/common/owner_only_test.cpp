// Issue 14 §3: the database, its -wal and -shm, and the files kept beside it are created readable
// by the owner only, whatever the umask; an existing wider file is reported by name; and the
// folder check that keeps trusted files away from the database's folder.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/db.h"
#include "common/file.h"

namespace facetrail {
namespace {

namespace fs = std::filesystem;

class OwnerOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "ft-mode-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  static unsigned Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  static void Touch(const std::string& path, mode_t mode) {
    std::ofstream(path) << "x";
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }

  std::string dir_;
  mode_t old_umask_ = ::umask(022);
};

TEST_F(OwnerOnlyTest, NewDatabaseWalAndShmAreOwnerOnlyWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    SCOPED_TRACE("umask " + std::to_string(mask));
    ::umask(mask);
    const std::string path = File("db" + std::to_string(mask) + ".sqlite");
    auto db = Db::Open(path, /*create=*/true);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    // A write in WAL mode with the connection still open: the -wal and -shm exist now.
    ASSERT_TRUE(db->Exec("CREATE TABLE t(x); INSERT INTO t VALUES (1);").ok());
    ASSERT_TRUE(fs::exists(path + "-wal"));
    ASSERT_TRUE(fs::exists(path + "-shm"));
    EXPECT_EQ(Mode(path), 0600u);
    EXPECT_EQ(Mode(path + "-wal"), 0600u);
    EXPECT_EQ(Mode(path + "-shm"), 0600u);
  }
}

TEST_F(OwnerOnlyTest, OpeningAnExistingDatabaseKeepsItsMode) {
  const std::string path = File("f.db");
  ASSERT_TRUE(Db::Open(path).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ASSERT_TRUE(Db::Open(path).ok());
  EXPECT_EQ(Mode(path), 0640u);  // not silently changed: reported instead (below)
  EXPECT_EQ(OwnerOnlyWarnings(path).size(), 1u);
}

TEST_F(OwnerOnlyTest, WiderFilesAreNamedWithModeAndFix) {
  const std::string db = File("f.db");
  Touch(db, 0644);
  Touch(db + "-wal", 0640);
  Touch(db + "-shm", 0600);
  Touch(db + ".faceapi-128.snapshot", 0604);
  Touch(db + ".audit-key", 0600);
  Touch(db + ".audit-key.pub", 0644);  // a public key: public by design
  Touch(File("other.db"), 0644);       // not this database's
  Touch(File("f.dbx"), 0644);          // not "<db>." nor "<db>-"
  const std::vector<std::string> w = OwnerOnlyWarnings(db);
  ASSERT_EQ(w.size(), 3u) << ::testing::PrintToString(w);
  EXPECT_EQ(w[0].rfind(db + " is open to group or others (mode 0644)", 0), 0u) << w[0];
  EXPECT_NE(w[0].find("chmod 600 " + db), std::string::npos) << w[0];
  EXPECT_EQ(w[1].rfind(db + "-wal is open to group or others (mode 0640)", 0), 0u) << w[1];
  EXPECT_EQ(w[2].rfind(db + ".faceapi-128.snapshot is open to group or others (mode 0604)", 0), 0u)
      << w[2];
  for (const std::string& f : {db, db + "-wal", db + ".faceapi-128.snapshot"}) {
    ASSERT_EQ(::chmod(f.c_str(), 0600), 0);
  }
  EXPECT_TRUE(OwnerOnlyWarnings(db).empty());
}

TEST_F(OwnerOnlyTest, WithinFolderResolvesDotsAndLinks) {
  fs::create_directories(File("db"));
  fs::create_directories(File("keys"));
  fs::create_directory_symlink(File("db"), File("db-link"));
  EXPECT_TRUE(IsWithinFolder(File("db/k.pub"), File("db")));
  EXPECT_TRUE(IsWithinFolder(File("db/sub/k.pub"), File("db")));
  EXPECT_TRUE(IsWithinFolder(File("keys/../db/k.pub"), File("db")));
  EXPECT_TRUE(IsWithinFolder(File("db-link/k.pub"), File("db")));
  EXPECT_TRUE(IsWithinFolder(File("db"), File("db")));
  EXPECT_FALSE(IsWithinFolder(File("keys/k.pub"), File("db")));
  EXPECT_FALSE(IsWithinFolder(File("db-other/k.pub"), File("db")));
  EXPECT_FALSE(IsWithinFolder(File("k.pub"), File("db")));
}

}  // namespace
}  // namespace facetrail
