// Review of leads: two different certified examiners (neither the requester), release, outcome.
#include "service_test_util.h"

namespace facetrail::service {
namespace {

using testing::kAgency;
using testing::kCase;
using testing::ServiceTest;

class ReviewTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    auto r = Search(sam_, Request(Probe(7)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    request_ = *r;
  }

  std::vector<CandidateMark> Marks(Mark first = Mark::kPossibleMatch) {
    std::vector<CandidateMark> marks;
    for (const Candidate& c : request_.list.candidates) {
      marks.push_back({c.rank, c.rank == 1 ? first : Mark::kNotAMatch,
                       c.rank == 1 ? "ear shape and scar agree" : "different nose"});
    }
    return marks;
  }

  int64_t id() const { return request_.request_id; }
  SearchResponse request_;
};

TEST_F(ReviewTest, TwoExaminersReleaseThenRequesterRecordsOutcome) {
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Marks()).ok());
  // Before release the requester sees the candidates but not the marks.
  auto early = GetLead(*ctx_, sam_, id());
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->status, "examined");
  EXPECT_FALSE(early->candidates[0].mark);
  EXPECT_EQ(RecordOutcome(*ctx_, sam_, id(), Outcome::kExcluded, "").code(),
            StatusCode::kFailedPrecondition);

  ASSERT_TRUE(Concur(*ctx_, ed_, id(), true, "agree").ok());
  auto lead = GetLead(*ctx_, sam_, id());
  ASSERT_TRUE(lead.ok());
  EXPECT_EQ(lead->status, "released");
  EXPECT_EQ(lead->notice, std::string(kLeadNotice));
  EXPECT_EQ(lead->examiner, "eve");
  EXPECT_EQ(lead->concurred_by, "ed");
  ASSERT_TRUE(lead->candidates[0].mark);
  EXPECT_EQ(*lead->candidates[0].mark, Mark::kPossibleMatch);
  EXPECT_EQ(lead->candidates[0].notes, "ear shape and scar agree");

  ExpectRefused(RecordOutcome(*ctx_, eve_, id(), Outcome::kExcluded, ""), "not_requester");
  ASSERT_TRUE(RecordOutcome(*ctx_, sam_, id(), Outcome::kConfirmedByOtherEvidence,
                            "fingerprint on the counter")
                  .ok());
  EXPECT_EQ(RecordOutcome(*ctx_, sam_, id(), Outcome::kUnknown, "").code(),
            StatusCode::kFailedPrecondition);
  for (const char* action : {"review.examine", "review.concur", "lead.release", "lead.outcome"}) {
    EXPECT_EQ(Entries(action).size(), 1u) << action;
  }
  EXPECT_EQ(Entries("lead.refused").size(), 1u);
  EXPECT_EQ(GetLead(*ctx_, sam_, id())->outcome, "confirmed_by_other_evidence");
}

TEST_F(ReviewTest, RequesterCannotReviewOwnSearch) {
  auto own = Search(ed_, Request(Probe(8)));  // ed is examiner and searcher
  ASSERT_TRUE(own.ok());
  std::vector<CandidateMark> marks;
  for (const Candidate& c : own->list.candidates)
    marks.push_back({c.rank, Mark::kInconclusive, ""});
  ExpectRefused(Examine(*ctx_, ed_, own->request_id, marks), "same_examiner");
  ASSERT_TRUE(Examine(*ctx_, eve_, own->request_id, marks).ok());
  ExpectRefused(Concur(*ctx_, ed_, own->request_id, true, ""), "same_examiner");
  EXPECT_EQ(Entries("review.refused").size(), 2u);
}

TEST_F(ReviewTest, SecondExaminerMustDifferFromFirst) {
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Marks()).ok());
  ExpectRefused(Concur(*ctx_, eve_, id(), true, "me again"), "same_examiner");
  EXPECT_EQ(GetLead(*ctx_, sam_, id())->status, "examined");
}

TEST_F(ReviewTest, ExaminersNeedRoleAndValidCertificate) {
  ExpectRefused(Examine(*ctx_, sue_, id(), Marks()), "wrong_role");
  ExpectRefused(Examine(*ctx_, sam_, id(), Marks()), "wrong_role");
  ASSERT_TRUE(RevokeCertificate(*ctx_, admin_, "eve", "FC-eve", "lapsed").ok());
  ExpectRefused(Examine(*ctx_, eve_, id(), Marks()), "no_valid_certificate");
  auto refused = Entries("review.refused");
  ASSERT_EQ(refused.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(refused.back().details)["code"], "no_valid_certificate");
}

TEST_F(ReviewTest, StateAndMarkRules) {
  EXPECT_EQ(Concur(*ctx_, ed_, id(), true, "").code(), StatusCode::kFailedPrecondition);
  std::vector<CandidateMark> missing = Marks();
  missing.pop_back();
  EXPECT_EQ(Examine(*ctx_, eve_, id(), missing).code(), StatusCode::kInvalidArgument);
  std::vector<CandidateMark> twice = Marks();
  twice.push_back(twice[0]);
  EXPECT_EQ(Examine(*ctx_, eve_, id(), twice).code(), StatusCode::kInvalidArgument);
  std::vector<CandidateMark> stranger = Marks();
  stranger[0].rank = 99;
  EXPECT_EQ(Examine(*ctx_, eve_, id(), stranger).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Marks()).ok());
  EXPECT_EQ(Examine(*ctx_, ed_, id(), Marks()).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count("reviews"), 1);
}

TEST_F(ReviewTest, DisputeSendsTheLeadBackToAnotherExaminer) {
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Marks()).ok());
  ASSERT_TRUE(Concur(*ctx_, ed_, id(), false, "rank 1 has a different ear").ok());
  EXPECT_EQ(GetLead(*ctx_, eve_, id())->status, "disputed");
  ExpectRefused(Examine(*ctx_, eve_, id(), Marks()), "same_examiner");
  ASSERT_TRUE(Examine(*ctx_, ed_, id(), Marks(Mark::kInconclusive)).ok());
  ASSERT_TRUE(Concur(*ctx_, eve_, id(), true, "").ok());
  auto lead = GetLead(*ctx_, sam_, id());
  EXPECT_EQ(lead->status, "released");
  EXPECT_EQ(lead->examiner, "ed");
  EXPECT_EQ(*lead->candidates[0].mark, Mark::kInconclusive);
  EXPECT_EQ(Entries("review.dispute").size(), 1u);
}

TEST_F(ReviewTest, WhoMayReadALead) {
  Actor other = MakeUser("other", {policy::Role::kSearcher}, true);
  ExpectRefused(GetLead(*ctx_, other, id()).status(), "wrong_role");
  ExpectRefused(GetLead(*ctx_, admin_, id()).status(), "wrong_role");
  EXPECT_TRUE(GetLead(*ctx_, al_, id()).ok());
  EXPECT_TRUE(GetLead(*ctx_, sue_, id()).ok());
  EXPECT_EQ(Entries("lead.view").size(), 2u);
  auto pending = PendingReviews(*ctx_, eve_);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].request_id, id());
  ExpectRefused(PendingReviews(*ctx_, sam_).status(), "wrong_role");
}

}  // namespace
}  // namespace facetrail::service
