// Probe retention: purge after the period unless the case is on hold; hashes and audit stay.
#include "service/retention.h"

#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::kCase;
using testing::ServiceTest;

class RetentionTest : public ServiceTest {};

TEST_P(RetentionTest, ProbesArePurgedAfterRetentionUnlessCaseOnHold) {
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

TEST_P(RetentionTest, CaseHoldsAreListedForSupervisorsAndAuditors) {
  ASSERT_TRUE(Search(sam_, Request(Probe(7))).ok());
  ASSERT_TRUE(Search(sam_, Request(Probe(8))).ok());
  // Failure cases first: each leaves no hold and no "case.hold" entry.
  EXPECT_EQ(SetCaseHold(*ctx_, sue_, kCase, true, "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SetCaseHold(*ctx_, sue_, "", true, "trial").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SetCaseHold(*ctx_, sue_, "MPD-2026-0999", true, "typo").code(), StatusCode::kNotFound);
  EXPECT_EQ(SetCaseHold(*ctx_, sue_, kCase, false, "not held").code(),
            StatusCode::kFailedPrecondition);
  ExpectRefused(SetCaseHold(*ctx_, al_, kCase, true, "auditors only read"), "wrong_role");
  EXPECT_TRUE(Entries("case.hold").empty());
  EXPECT_EQ(Entries("case.refused").size(), 1u);
  auto none = ListCaseHolds(*ctx_, sue_);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(SetCaseHold(*ctx_, sue_, kCase, true, "trial pending").ok());
  EXPECT_EQ(SetCaseHold(*ctx_, sue_, kCase, true, "again").code(), StatusCode::kFailedPrecondition);
  for (const Actor& reader : {sue_, al_}) {
    auto holds = ListCaseHolds(*ctx_, reader);
    ASSERT_TRUE(holds.ok()) << holds.status().ToString();
    ASSERT_EQ(holds->size(), 1u);
    EXPECT_EQ((*holds)[0].case_number, kCase);
    EXPECT_EQ((*holds)[0].set_by, "sue");
    EXPECT_EQ((*holds)[0].reason, "trial pending");
    EXPECT_EQ((*holds)[0].num_requests, 2);
    EXPECT_EQ((*holds)[0].set_at.size(), 20u) << (*holds)[0].set_at;  // 2026-03-02T09:00:00Z
  }
  // Searchers, examiners and admins may not read the holds; each refusal is audited.
  for (const Actor& other : {sam_, eve_, admin_}) {
    ExpectRefused(ListCaseHolds(*ctx_, other).status(), "wrong_role");
  }
  EXPECT_EQ(Entries("case.refused").size(), 4u);

  ASSERT_TRUE(SetCaseHold(*ctx_, sue_, kCase, false, "trial over").ok());
  EXPECT_TRUE(ListCaseHolds(*ctx_, al_)->empty());
  auto unhold = Entries("case.unhold");
  ASSERT_EQ(unhold.size(), 1u);
  EXPECT_NE(unhold[0].details.find("trial over"), std::string::npos);
}

FT_INSTANTIATE_BACKENDS(RetentionTest);

}  // namespace
}  // namespace facetrail::service
