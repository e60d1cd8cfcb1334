// Every spelling of a database resolves, in one place, to the file that is opened (issue 14 §6).
#include "common/db_uri.h"

#include <gtest/gtest.h>

#include <string>

namespace facetrail {
namespace {

TEST(DbUriTest, EverySpellingResolvesToTheFile) {
  struct Case {
    const char* uri;
    const char* path;
  };
  for (const Case& c :
       {Case{"f.db", "f.db"}, Case{"./f.db", "./f.db"}, Case{"/var/ft/f.db", "/var/ft/f.db"},
        Case{"../x/f.db", "../x/f.db"}, Case{"sqlite:f.db", "f.db"},
        Case{"sqlite:/var/ft/f.db", "/var/ft/f.db"}, Case{"sqlite://f.db", "f.db"},
        Case{"sqlite:///var/ft/f.db", "/var/ft/f.db"}, Case{"file:f.db", "f.db"},
        Case{"file:/var/ft/f.db", "/var/ft/f.db"}, Case{"file:///var/ft/f.db", "/var/ft/f.db"},
        Case{"file://localhost/var/ft/f.db", "/var/ft/f.db"}, Case{":memory:", ":memory:"},
        Case{"sqlite::memory:", ":memory:"}, Case{"./sqlite:odd", "./sqlite:odd"}}) {
    SCOPED_TRACE(c.uri);
    Expected<std::string> p = DatabaseFilePath(c.uri);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(*p, c.path);
    // Resolving the result again gives it back: a front end may resolve, then the store.
    EXPECT_EQ(*DatabaseFilePath(*p), *p);
  }
}

TEST(DbUriTest, SpellingsThatCouldMeanAnotherFileAreRefused) {
  for (const char* uri : {"", "file:f.db?mode=memory", "file:f.db?vfs=unix-none", "file:f%2edb",
                          "file://otherhost/f.db", "sqlite:", "sqlite:sqlite:f.db", "file:file:f",
                          "mysql://h/f", "sqlite:f.db#x"}) {
    SCOPED_TRACE(uri);
    EXPECT_EQ(DatabaseFilePath(uri).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(DatabaseFilePath("postgresql://h/db").status().code(), StatusCode::kFailedPrecondition);
}

// What every entry point (--db, GalleryStore::Open, serve) opens: a PostgreSQL URI as given, a
// SQLite spelling as its file; a password in the URI is refused, whatever else it says.
TEST(DbUriTest, ResolveKeepsPostgresUrisAndResolvesFiles) {
  for (const char* uri : {"postgresql://facetrail@127.0.0.1:5432/ft",
                          "postgres://h/db?sslmode=verify-full", "postgresql:///ft?host=/run/pg"}) {
    SCOPED_TRACE(uri);
    auto r = ResolveDatabaseUri(uri);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, uri);
    EXPECT_EQ(*ResolveDatabaseUri(*r), *r);  // resolving again changes nothing
  }
  EXPECT_EQ(*ResolveDatabaseUri("sqlite:f.db"), "f.db");
  EXPECT_EQ(*ResolveDatabaseUri("file:///abs/f.db"), "/abs/f.db");
  for (const char* uri : {"postgresql://u:pw@h/db", "postgres://h/db?password=pw",
                          "postgresql://h/db?sslmode=require&password=pw"}) {
    SCOPED_TRACE(uri);
    auto r = ResolveDatabaseUri(uri);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().find("pw"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(ResolveDatabaseUri("mysql://h/f").status().code(), StatusCode::kInvalidArgument);
  // A file path never resolves to a PostgreSQL database.
  EXPECT_NE(DatabaseFilePath("postgresql://u@h/db").status().message().find("not a SQLite file"),
            std::string::npos);
}

}  // namespace
}  // namespace facetrail
