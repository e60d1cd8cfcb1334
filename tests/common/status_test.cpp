#include "common/status.h"

#include <gtest/gtest.h>

namespace facetrail {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, ContextIsPrefixed) {
  Status s = InvalidArgument("not a JPEG file").WithContext("photo.jpg");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "photo.jpg: not a JPEG file");
  EXPECT_EQ(s.ToString(), "Invalid argument: photo.jpg: not a JPEG file");
  EXPECT_TRUE(Status().WithContext("x").ok());
}

TEST(ExpectedTest, HoldsValueOrError) {
  Expected<int> v = 3;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 3);
  Expected<int> e = NotFound("no such user");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

TEST(ExpectedTest, OkStatusWithoutValueBecomesInternal) {
  Expected<int> e = Status::Ok();
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kInternal);
}

Expected<int> Twice(Expected<int> in) {
  FT_ASSIGN_OR_RETURN(int x, std::move(in));
  return 2 * x;
}

TEST(ExpectedTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Twice(4), 8);
  EXPECT_EQ(Twice(DataLoss("bad")).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace facetrail
