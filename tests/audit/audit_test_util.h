// Helpers for the audit tests: a scratch folder, a file database and the sqlite3 program.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "audit/audit.h"

namespace facetrail::audit::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "ft-audit-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock that advances one minute per call, starting 2026-03-02T09:00:00Z.
inline Clock StepClock(int64_t start = 1772442000, int64_t step = 60) {
  auto t = std::make_shared<int64_t>(start);
  return [t, step] {
    int64_t now = *t;
    *t += step;
    return now;
  };
}

// Runs `sql` on the database file with the sqlite3 command-line program, as someone with the
// file would. Returns the program's exit status.
inline int RunSqlite3(const std::string& db_path, const std::string& sql) {
  std::string script = db_path + ".sql";
  FILE* f = std::fopen(script.c_str(), "w");
  if (f == nullptr) return -1;
  std::fputs(sql.c_str(), f);
  std::fclose(f);
  std::string cmd = "sqlite3 -bail '" + db_path + "' < '" + script + "' 2>&1";
  return std::system(cmd.c_str());
}

}  // namespace facetrail::audit::testing
