// Reports computed from audit entries: counts per user/month/purpose/case, refusals, open leads,
// unusual activity and yearly statistics, in JSON and CSV.
#include <gtest/gtest.h>

#include "audit/report.h"

namespace facetrail::audit {
namespace {

Entry E(int64_t seq, const std::string& time, const std::string& actor, const std::string& action,
        const std::string& subject, nlohmann::json details) {
  return {seq, time, actor, action, subject, details.dump(), "", ""};
}

nlohmann::json Search(const std::string& c, const std::string& purpose, const std::string& sha) {
  return {{"case", c}, {"purpose", purpose}, {"probe_sha256", sha}};
}

std::vector<Entry> Log() {
  std::vector<Entry> log;
  int64_t seq = 0;
  auto add = [&](const std::string& t, const std::string& a, const std::string& act,
                 const std::string& s,
                 nlohmann::json d) { log.push_back(E(++seq, t, a, act, s, d)); };
  add("2025-12-30T10:00:00Z", "sam", "search.request", "request:1", Search("C-1", "p1", "aa"));
  add("2026-01-05T10:00:00Z", "sam", "search.request", "request:2", Search("C-1", "p1", "aa"));
  add("2026-01-05T23:30:00Z", "ann", "search.request", "request:3", Search("C-2", "p2", "bb"));
  add("2026-01-06T10:00:00Z", "sam", "search.refused", "case:",
      {{"code", "missing_case_number"},
       {"reason", "a search needs a case number"},
       {"probe_sha256", "aa"},
       {"case", ""}});
  add("2026-01-07T10:00:00Z", "eve", "review.refused", "request:2",
      {{"code", "same_examiner"}, {"reason", "x"}});
  add("2026-01-08T10:00:00Z", "ed", "lead.release", "request:2",
      {{"case", "C-1"}, {"requester", "sam"}});
  add("2026-01-08T11:00:00Z", "ed", "lead.release", "request:3",
      {{"case", "C-2"}, {"requester", "ann"}});
  add("2026-02-01T10:00:00Z", "sam", "lead.outcome", "request:2", {{"outcome", "excluded"}});
  for (int i = 0; i < 4; ++i) {
    add("2026-02-02T1" + std::to_string(i) + ":00:00Z", "vol", "search.request",
        "request:" + std::to_string(10 + i), Search("C-9", "p1", "c" + std::to_string(i)));
  }
  return log;
}

TEST(AuditReportTest, CountsAndLists) {
  ReportOptions o;
  o.max_searches_per_user_day = 3;
  auto r = BuildReport(Log(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->searches, 7);
  EXPECT_EQ(r->searches_per_user.at("sam"), 2);
  EXPECT_EQ(r->searches_per_user.at("vol"), 4);
  EXPECT_EQ(r->searches_per_month.at("2026-01"), 2);
  EXPECT_EQ(r->searches_per_purpose.at("p1"), 6);
  EXPECT_EQ(r->searches_per_case.at("C-1"), 2);
  EXPECT_EQ(r->refusals.size(), 2u);
  EXPECT_EQ(r->refusals_per_code.at("missing_case_number"), 1);
  ASSERT_EQ(r->leads_without_outcome.size(), 1u);
  EXPECT_EQ(r->leads_without_outcome[0].request_id, 3);
  EXPECT_EQ(r->leads_without_outcome[0].requester, "ann");
  EXPECT_EQ(r->years.at("2025").searches, 1);
  EXPECT_EQ(r->years.at("2026").searches, 6);
  EXPECT_EQ(r->years.at("2026").leads_released, 2);
  EXPECT_EQ(r->years.at("2026").outcomes.at("excluded"), 1);
  std::multiset<std::string> kinds;
  for (const auto& u : r->unusual) kinds.insert(u.kind);
  EXPECT_EQ(kinds.count("off_hours"), 1u);           // ann at 23:30
  EXPECT_EQ(kinds.count("volume"), 1u);              // vol: 4 > 3 on 2026-02-02
  EXPECT_EQ(kinds.count("repeated_probe"), 1u);      // "aa": 2 searches + 1 refusal
  EXPECT_EQ(kinds.count("probe_without_case"), 1u);  // "aa" without a case
}

TEST(AuditReportTest, PeriodTimeZoneAndFormats) {
  ReportOptions o;
  o.from_date = "2026-01-01";
  o.to_date = "2026-01-31";
  o.utc_offset_minutes = -300;  // 23:30Z is 18:30 local: not off-hours; 10:00Z is 05:00 local
  auto r = BuildReport(Log(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->searches, 2);
  EXPECT_FALSE(r->years.count("2025"));
  int off = 0;
  for (const auto& u : r->unusual) off += u.kind == "off_hours";
  EXPECT_EQ(off, 1);  // sam at 05:00 local
  auto j = nlohmann::json::parse(ReportJson(*r));
  EXPECT_EQ(j["searches"]["total"], 2);
  EXPECT_EQ(j["searches"]["per_user"]["ann"], 1);
  std::string csv = ReportCsv(*r);
  EXPECT_EQ(csv.rfind("section,key,value,detail\n", 0), 0u);
  EXPECT_NE(csv.find("searches_per_case,C-2,1,"), std::string::npos);
  o.from_date = "2026/01/01";
  EXPECT_EQ(BuildReport(Log(), o).status().code(), StatusCode::kInvalidArgument);
}

TEST(AuditReportTest, SupervisorDecisionsAreListed) {
  std::vector<Entry> log = Log();
  int64_t seq = static_cast<int64_t>(log.size());
  std::string sha(64, 'a');
  log.push_back(E(++seq, "2026-02-03T09:00:00Z", "sue", "quality.override", "case:C-1",
                  {{"probe_sha256", sha}, {"case", "C-1"}, {"reason", "only image"}}));
  log.push_back(E(++seq, "2026-02-03T09:05:00Z", "sue", "case.hold", "case:C-1",
                  {{"case", "C-1"}, {"reason", "trial pending"}}));
  log.push_back(E(++seq, "2026-02-03T09:06:00Z", "sam", "case.refused", "case:C-1",
                  {{"code", "wrong_role"}, {"reason", "not a supervisor"}}));
  log.push_back(E(++seq, "2026-02-04T09:00:00Z", "admin", "probe.purge", "probes",
                  {{"purged_sha256", {"bb", "cc"}}, {"kept_on_hold", 1}}));
  log.push_back(E(++seq, "2026-03-01T09:00:00Z", "sue", "case.unhold", "case:C-1",
                  {{"case", "C-1"}, {"reason", "trial over"}}));
  auto r = BuildReport(log, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->supervision.size(), 4u);  // the refusal is listed with the refusals
  EXPECT_EQ(r->supervision[0].action, "quality.override");
  EXPECT_EQ(r->supervision[0].case_number, "C-1");
  EXPECT_EQ(r->supervision[0].detail, "probe " + sha);
  EXPECT_EQ(r->supervision[1].action, "case.hold");
  EXPECT_EQ(r->supervision[1].reason, "trial pending");
  EXPECT_EQ(r->supervision[2].detail, "2 purged, 1 kept on hold");
  EXPECT_EQ(r->supervision[3].action, "case.unhold");
  auto j = nlohmann::json::parse(ReportJson(*r));
  ASSERT_EQ(j["supervision"].size(), 4u);
  EXPECT_EQ(j["supervision"][1]["user"], "sue");
  EXPECT_EQ(j["supervision"][1]["case"], "C-1");
  std::string csv = ReportCsv(*r);
  EXPECT_NE(csv.find("supervision,case.hold,14,2026-02-03T09:05:00Z sue case C-1: trial pending\n"),
            std::string::npos)
      << csv;
  ReportOptions march;
  march.from_date = "2026-03-01";
  EXPECT_EQ(BuildReport(log, march)->supervision.size(), 1u);
}

TEST(AuditReportTest, DamagedDetailsAreDataLoss) {
  std::vector<Entry> log = Log();
  log[2].details = "{not json";
  EXPECT_EQ(BuildReport(log, {}).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace facetrail::audit
