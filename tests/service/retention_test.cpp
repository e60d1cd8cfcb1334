// Probe retention: purge after the period unless the case is on hold; hashes and audit stay.
#include "service/retention.h"

#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::ServiceTest;

TEST_F(ServiceTest, ProbesArePurgedAfterRetentionUnlessCaseOnHold) {
  SearchRequest held = Request(Probe(7));
  held.fields.case_number = "MPD-2026-0100";
  ASSERT_TRUE(Search(sam_, held).ok());
  ASSERT_TRUE(Search(sam_, Request(Probe(8))).ok());
  ExpectRefused(SetCaseHold(*ctx_, sam_, "MPD-2026-0100", true, "trial pending"), "wrong_role");
  ASSERT_TRUE(SetCaseHold(*ctx_, sue_, "MPD-2026-0100", true, "trial pending").ok());
  EXPECT_EQ(SetCaseHold(*ctx_, sue_, "MPD-2026-0100", true, "again").code(),
            StatusCode::kFailedPrecondition);

  // Within the retention period nothing is purged.
  auto early = PurgeProbes(*ctx_, sue_);
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(early->purged_sha256.empty());
  ExpectRefused(PurgeProbes(*ctx_, sam_).status(), "wrong_role");

  SetToday("2027-03-10T09:00:00Z");  // > 365 days later
  auto purge = PurgeProbes(*ctx_, admin_);
  ASSERT_TRUE(purge.ok()) << purge.status().ToString();
  ASSERT_EQ(purge->purged_sha256.size(), 1u);
  EXPECT_EQ(purge->purged_sha256[0], Sha256Hex(Probe(8)));
  EXPECT_EQ(purge->kept_on_hold, 1);
  auto stmt = db_->Prepare(
      "SELECT sha256, bytes IS NULL, purged_at IS NOT NULL FROM probes "
      "ORDER BY sha256");
  int purged = 0;
  while (*stmt->Step()) purged += stmt->Int(1) && stmt->Int(2);
  EXPECT_EQ(purged, 1);
  EXPECT_EQ(Count("probes"), 2);  // the hash stays
  auto entries = Entries("probe.purge");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_NE(entries.back().details.find(Sha256Hex(Probe(8))), std::string::npos);

  // Lifting the hold lets the next purge take the held probe.
  ASSERT_TRUE(SetCaseHold(*ctx_, sue_, "MPD-2026-0100", false, "trial over").ok());
  EXPECT_EQ(PurgeProbes(*ctx_, sue_)->purged_sha256.size(), 1u);
}

}  // namespace
}  // namespace facetrail::service
