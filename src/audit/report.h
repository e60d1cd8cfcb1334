// Reports for supervisors and auditors, computed from the audit log alone (the log is the
// record of what happened; request tables may be purged or damaged, the chain is verified).
//
// WHAT IS COUNTED (entries by action; docs/AUDIT.md lists the actions)
//   searches       "search.request"  per user, per month (YYYY-MM), per purpose, per case
//   refusals       "search.refused" and every other "*.refused", by code, with details
//   leads          "lead.release" without a later "lead.outcome" for the same request
//   unusual        users with more than `max_searches_per_user_day` searches on one day;
//                  searches in off-hours; one probe hash searched `repeat_probe_threshold` or
//                  more times, or searched without a valid case (refused missing/malformed case)
//   yearly         per year: searches, refusals, leads released, outcomes by kind
//   supervision    every "quality.override", "case.hold", "case.unhold" and "probe.purge",
//                  in log order (who decided what, for which case, why)
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/audit.h"

namespace facetrail::audit {

struct ReportOptions {
  std::string from_date;  // YYYY-MM-DD inclusive; empty = from the start
  std::string to_date;    // YYYY-MM-DD inclusive; empty = to the end
  // Off-hours in local time: [off_hours_start, 24) ∪ [0, off_hours_end).
  int off_hours_start = 20;
  int off_hours_end = 6;
  int utc_offset_minutes = 0;  // local time = UTC + offset (the department's time zone)
  int max_searches_per_user_day = 20;
  int repeat_probe_threshold = 3;
};

struct RefusalRow {
  int64_t seq = 0;
  std::string time, actor, action, code, reason, case_number;
};

struct LeadRow {
  int64_t request_id = 0;
  std::string case_number, requester, released_at;
};

struct UnusualRow {
  std::string kind;    // "volume", "off_hours", "repeated_probe", "probe_without_case"
  std::string user;    // may be empty (repeated_probe across users)
  std::string when;    // day or time
  std::string detail;  // human-readable
  int64_t count = 0;
};

struct SupervisionRow {
  int64_t seq = 0;
  std::string time, actor, action, case_number, reason;
  std::string detail;  // the override's probe hash; the purge's counts
};

struct YearStats {
  int64_t searches = 0, refusals = 0, leads_released = 0;
  std::map<std::string, int64_t> outcomes;  // by outcome name
};

struct Report {
  std::string from_date, to_date;
  int64_t num_entries = 0;  // entries in the period
  int64_t searches = 0;
  std::map<std::string, int64_t> searches_per_user, searches_per_month, searches_per_purpose,
      searches_per_case;
  std::map<std::string, int64_t> refusals_per_code;
  std::vector<RefusalRow> refusals;
  std::vector<LeadRow> leads_without_outcome;
  std::vector<UnusualRow> unusual;
  std::map<std::string, YearStats> years;  // by YYYY
  std::vector<SupervisionRow> supervision;
};

// kInvalidArgument for malformed dates or options; entries whose details are not JSON count
// as damaged data (kDataLoss: verify the log first).
Expected<Report> BuildReport(const std::vector<Entry>& entries, const ReportOptions& options);

std::string ReportJson(const Report& report);  // one JSON object, pretty-printed
// CSV with a header "section,key,value,detail"; one row per number or listed item.
std::string ReportCsv(const Report& report);
// For a person at a terminal: each section a titled table with aligned columns, empty sections
// said in one line. Same content as ReportJson.
std::string ReportText(const Report& report);

}  // namespace facetrail::audit
