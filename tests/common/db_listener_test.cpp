// DbListener (common/db_listener.h): LISTEN/NOTIFY against the test cluster.
#include "common/db_listener.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/db.h"
#include "common/pg_cluster.h"

namespace facetrail {
namespace {

using std::chrono::milliseconds;

TEST(DbListenerTest, HearsANotificationOnlyOnceItsTransactionCommits) {
  std::string uri;
  FT_PG_DATABASE_OR_SKIP(uri);
  auto listener = DbListener::Open(uri, "gallery_changes");
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  auto writer = Db::Open(uri);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();

  // Nothing sent: a timeout, not an error.
  auto none = (*listener)->Wait(milliseconds(50));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, 0);

  // A rolled-back transaction's NOTIFY is never delivered.
  Status rolled_back = writer->InTransaction([&]() -> Status {
    FT_RETURN_IF_ERROR(writer->Exec("NOTIFY gallery_changes"));
    return Internal("the action failed");
  });
  EXPECT_FALSE(rolled_back.ok());
  auto after_rollback = (*listener)->Wait(milliseconds(200));
  ASSERT_TRUE(after_rollback.ok());
  EXPECT_EQ(*after_rollback, 0);

  // Inside an open transaction: not yet; after the commit: heard.
  ASSERT_TRUE(writer
                  ->InTransaction([&]() -> Status {
                    FT_RETURN_IF_ERROR(writer->Exec("NOTIFY gallery_changes"));
                    auto early = (*listener)->Wait(milliseconds(100));
                    if (!early.ok()) return early.status();
                    EXPECT_EQ(*early, 0) << "heard before the commit";
                    return Status::Ok();
                  })
                  .ok());
  auto heard = (*listener)->Wait(milliseconds(5000));
  ASSERT_TRUE(heard.ok()) << heard.status().ToString();
  EXPECT_EQ(*heard, 1);

  // Another channel is not heard.
  ASSERT_TRUE(writer->Exec("NOTIFY other_channel").ok());
  auto other = (*listener)->Wait(milliseconds(200));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(*other, 0);
}

TEST(DbListenerTest, SqliteAndBadChannelNamesAreRefused) {
  auto sqlite = DbListener::Open(":memory:", "gallery_changes");
  ASSERT_FALSE(sqlite.ok());
  EXPECT_EQ(sqlite.status().code(), StatusCode::kFailedPrecondition);
  for (const char* channel : {"", "Gallery", "1abc", "a;NOTIFY x", "a b",
                              "a123456789012345678901234567890123456789012345678901234567890xyz"}) {
    auto bad = DbListener::Open("postgresql://u@127.0.0.1:1/x", channel);
    ASSERT_FALSE(bad.ok()) << channel;
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << channel;
  }
}

}  // namespace
}  // namespace facetrail
