// The ETA of progress lines: none until the rate is stable (issue 17: "ETA 0:10:19" for a 13 s
// run).
#include "common/progress.h"

#include <gtest/gtest.h>

namespace facetrail {
namespace {

TEST(ProgressTest, NoEtaUntilTheRateIsStable) {
  // One second in, 1 % done: a rate from so little is noise.
  EXPECT_FALSE(StableEta(1, 1, 100).has_value());
  EXPECT_EQ(EtaText(1, 1, 100), "ETA estimating");
  // Long enough but too little done, or enough done but too soon.
  EXPECT_FALSE(StableEta(60, 4, 100).has_value());
  EXPECT_FALSE(StableEta(4.9, 50, 100).has_value());
  // 6 s for a quarter: 18 s left.
  ASSERT_TRUE(StableEta(6, 25, 100).has_value());
  EXPECT_DOUBLE_EQ(*StableEta(6, 25, 100), 18);
  EXPECT_EQ(EtaText(6, 25, 100), "ETA 0:00:18");
  EXPECT_EQ(EtaText(3600, 1, 4), "ETA 3:00:00");
  // Finished, empty, or nonsense input.
  EXPECT_EQ(EtaText(10, 100, 100), "done");
  EXPECT_FALSE(StableEta(10, 0, 0).has_value());
  EXPECT_FALSE(StableEta(10, 0, 100).has_value());
  EXPECT_FALSE(StableEta(-1, 50, 100).has_value());
}

}  // namespace
}  // namespace facetrail
