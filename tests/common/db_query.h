// Reading a test's database back, the same way on either engine (SQLite file or PostgreSQL URI).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/db.h"

namespace facetrail::testing {

// The first column of every row `st` gives, as text, a line per row (what the sqlite3 program
// prints). A failing step is a test failure and ends the text.
inline std::string ColumnLines(Stmt& st) {
  std::string out;
  for (;;) {
    auto row = st.Step();
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    if (!row.ok() || !*row) break;
    out += st.Text(0) + "\n";
  }
  return out;
}

// ColumnLines of `sql` on the database `db`. Any failure is a test failure and gives "".
inline std::string TextColumnLines(const std::string& db, const std::string& sql) {
  auto conn = Db::Open(db, false);
  EXPECT_TRUE(conn.ok()) << conn.status().ToString();
  if (!conn.ok()) return "";
  auto st = conn->Prepare(sql);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  if (!st.ok()) return "";
  return ColumnLines(*st);
}

}  // namespace facetrail::testing
