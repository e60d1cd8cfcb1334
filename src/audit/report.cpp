// Reports from the audit log (audit/report.h).
#include "audit/report.h"

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "common/text.h"

namespace facetrail::audit {

namespace {

bool IsDate(const std::string& s) {
  static const std::regex kDate("[0-9]{4}-[0-9]{2}-[0-9]{2}");
  return std::regex_match(s, kDate);
}

std::string Str(const nlohmann::json& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t RequestId(const Entry& e) {
  if (e.subject.rfind("request:", 0) != 0) return 0;
  return std::strtoll(e.subject.c_str() + 8, nullptr, 10);
}

std::string CsvField(const std::string& s) {
  return CsvCell(s);  // quoted, and never a spreadsheet formula (common/text.h)
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Expected<Report> BuildReport(const std::vector<Entry>& entries, const ReportOptions& o) {
  if ((!o.from_date.empty() && !IsDate(o.from_date)) ||
      (!o.to_date.empty() && !IsDate(o.to_date))) {
    return InvalidArgument("report dates must be YYYY-MM-DD");
  }
  if (o.off_hours_start < 0 || o.off_hours_start > 24 || o.off_hours_end < 0 ||
      o.off_hours_end > 24) {
    return InvalidArgument("off-hours must be hours 0..24");
  }
  Report r;
  r.from_date = o.from_date;
  r.to_date = o.to_date;
  std::map<int64_t, LeadRow> open_leads;
  std::map<std::pair<std::string, std::string>, int64_t> per_user_day;
  struct ProbeUse {
    int64_t count = 0;
    std::set<std::string> users, cases;
    int64_t without_case = 0;
  };
  std::map<std::string, ProbeUse> probes;
  for (const Entry& e : entries) {
    std::string day = e.time.substr(0, 10);
    if (!o.from_date.empty() && day < o.from_date) continue;
    if (!o.to_date.empty() && day > o.to_date) continue;
    ++r.num_entries;
    // Bytes that are not UTF-8 (written before the edge checks) read as U+FFFD, not as damage.
    nlohmann::json d = nlohmann::json::parse(SanitizeUtf8(e.details), nullptr, false);
    if (d.is_discarded() || !d.is_object()) {
      return DataLoss("audit entry " + std::to_string(e.seq) + ": details are not a JSON object");
    }
    std::string year = e.time.substr(0, 4);
    if (e.action == "search.request") {
      ++r.searches;
      ++r.years[year].searches;
      ++r.searches_per_user[e.actor];
      ++r.searches_per_month[e.time.substr(0, 7)];
      ++r.searches_per_purpose[Str(d, "purpose")];
      ++r.searches_per_case[Str(d, "case")];
      ++per_user_day[{e.actor, day}];
      auto t = ParseUtc(e.time);
      if (t.ok()) {
        int64_t local = *t + int64_t{o.utc_offset_minutes} * 60;
        int hour = static_cast<int>(((local % 86400) + 86400) % 86400 / 3600);
        if (hour >= o.off_hours_start || hour < o.off_hours_end) {
          r.unusual.push_back({"off_hours", e.actor, e.time,
                               "search " + e.subject + " for case " + Str(d, "case") +
                                   " at local hour " + std::to_string(hour),
                               1});
        }
      }
    }
    if (e.action == "search.request" || e.action == "search.refused") {
      ProbeUse& p = probes[Str(d, "probe_sha256")];
      ++p.count;
      p.users.insert(e.actor);
      p.cases.insert(Str(d, "case"));
      std::string code = Str(d, "code");
      if (code == "missing_case_number" || code == "malformed_case_number") ++p.without_case;
    }
    if (EndsWith(e.action, ".refused")) {
      ++r.years[year].refusals;
      std::string code = Str(d, "code");
      ++r.refusals_per_code[code];
      r.refusals.push_back(
          {e.seq, e.time, e.actor, e.action, code, Str(d, "reason"), Str(d, "case")});
    }
    if (e.action == "lead.release") {
      ++r.years[year].leads_released;
      open_leads[RequestId(e)] = {RequestId(e), Str(d, "case"), Str(d, "requester"), e.time};
    }
    if (e.action == "lead.outcome") {
      ++r.years[year].outcomes[Str(d, "outcome")];
      open_leads.erase(RequestId(e));
    }
    if (e.action == "quality.override" || e.action == "case.hold" || e.action == "case.unhold") {
      std::string detail = e.action == "quality.override" ? "probe " + Str(d, "probe_sha256") : "";
      r.supervision.push_back(
          {e.seq, e.time, e.actor, e.action, Str(d, "case"), Str(d, "reason"), detail});
    }
    if (e.action == "probe.purge") {
      auto purged = d.find("purged_sha256");
      size_t num_purged = purged != d.end() && purged->is_array() ? purged->size() : 0;
      r.supervision.push_back({e.seq, e.time, e.actor, e.action, "", "",
                               std::to_string(num_purged) + " purged, " +
                                   d.value("kept_on_hold", nlohmann::json(0)).dump() +
                                   " kept on hold"});
    }
  }
  for (auto& [id, lead] : open_leads) r.leads_without_outcome.push_back(lead);
  for (const auto& [key, n] : per_user_day) {
    if (n > o.max_searches_per_user_day) {
      r.unusual.push_back({"volume", key.first, key.second,
                           std::to_string(n) + " searches in one day (limit " +
                               std::to_string(o.max_searches_per_user_day) + ")",
                           n});
    }
  }
  for (const auto& [sha, p] : probes) {
    if (sha.empty()) continue;
    std::string users;
    for (const auto& u : p.users) users += (users.empty() ? "" : " ") + u;
    if (p.without_case > 0) {
      r.unusual.push_back({"probe_without_case", users, "",
                           "probe " + sha + " was submitted " + std::to_string(p.without_case) +
                               " time(s) without a valid case number",
                           p.without_case});
    }
    if (p.count >= o.repeat_probe_threshold) {
      r.unusual.push_back({"repeated_probe", users, "",
                           "probe " + sha + " searched " + std::to_string(p.count) + " times in " +
                               std::to_string(p.cases.size()) + " case(s)",
                           p.count});
    }
  }
  return r;
}

std::string ReportJson(const Report& r) {
  nlohmann::json j;
  j["period"] = {{"from", r.from_date}, {"to", r.to_date}};
  j["entries"] = r.num_entries;
  j["searches"] = {{"total", r.searches},
                   {"per_user", r.searches_per_user},
                   {"per_month", r.searches_per_month},
                   {"per_purpose", r.searches_per_purpose},
                   {"per_case", r.searches_per_case}};
  nlohmann::json refusals = nlohmann::json::array();
  for (const RefusalRow& x : r.refusals) {
    refusals.push_back({{"seq", x.seq},
                        {"time", x.time},
                        {"user", x.actor},
                        {"action", x.action},
                        {"code", x.code},
                        {"reason", x.reason},
                        {"case", x.case_number}});
  }
  j["refusals"] = {{"per_code", r.refusals_per_code}, {"list", refusals}};
  nlohmann::json leads = nlohmann::json::array();
  for (const LeadRow& l : r.leads_without_outcome) {
    leads.push_back({{"request_id", l.request_id},
                     {"case", l.case_number},
                     {"requester", l.requester},
                     {"released_at", l.released_at}});
  }
  j["leads_without_outcome"] = leads;
  nlohmann::json unusual = nlohmann::json::array();
  for (const UnusualRow& u : r.unusual) {
    unusual.push_back({{"kind", u.kind},
                       {"user", u.user},
                       {"when", u.when},
                       {"detail", u.detail},
                       {"count", u.count}});
  }
  j["unusual"] = unusual;
  nlohmann::json years = nlohmann::json::object();
  for (const auto& [y, s] : r.years) {
    years[y] = {{"searches", s.searches},
                {"refusals", s.refusals},
                {"leads_released", s.leads_released},
                {"outcomes", s.outcomes}};
  }
  j["yearly"] = years;
  nlohmann::json supervision = nlohmann::json::array();
  for (const SupervisionRow& x : r.supervision) {
    supervision.push_back({{"seq", x.seq},
                           {"time", x.time},
                           {"user", x.actor},
                           {"action", x.action},
                           {"case", x.case_number},
                           {"reason", x.reason},
                           {"detail", x.detail}});
  }
  j["supervision"] = supervision;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ReportCsv(const Report& r) {
  std::ostringstream out;
  out << "section,key,value,detail\n";
  auto row = [&](const std::string& section, const std::string& key, int64_t value,
                 const std::string& detail) {
    out << CsvField(section) << ',' << CsvField(key) << ',' << value << ',' << CsvField(detail)
        << '\n';
  };
  row("searches", "total", r.searches, "");
  for (const auto& [k, v] : r.searches_per_user) row("searches_per_user", k, v, "");
  for (const auto& [k, v] : r.searches_per_month) row("searches_per_month", k, v, "");
  for (const auto& [k, v] : r.searches_per_purpose) row("searches_per_purpose", k, v, "");
  for (const auto& [k, v] : r.searches_per_case) row("searches_per_case", k, v, "");
  for (const auto& [k, v] : r.refusals_per_code) row("refusals_per_code", k, v, "");
  for (const RefusalRow& x : r.refusals) {
    row("refusal", x.code, x.seq, x.time + " " + x.actor + " " + x.action + ": " + x.reason);
  }
  for (const LeadRow& l : r.leads_without_outcome) {
    row("lead_without_outcome", "request:" + std::to_string(l.request_id), 1,
        "case " + l.case_number + ", requester " + l.requester + ", released " + l.released_at);
  }
  for (const UnusualRow& u : r.unusual)
    row("unusual_" + u.kind, u.user, u.count, u.when + " " + u.detail);
  for (const auto& [y, s] : r.years) {
    row("yearly", y + " searches", s.searches, "");
    row("yearly", y + " refusals", s.refusals, "");
    row("yearly", y + " leads_released", s.leads_released, "");
    const std::string outcome_prefix = y + " outcome ";
    for (const auto& [k, v] : s.outcomes) row("yearly", outcome_prefix + k, v, "");
  }
  for (const SupervisionRow& x : r.supervision) {
    row("supervision", x.action, x.seq,
        x.time + " " + x.actor + (x.case_number.empty() ? "" : " case " + x.case_number) +
            (x.reason.empty() ? "" : ": " + x.reason) +
            (x.detail.empty() ? "" : " (" + x.detail + ")"));
  }
  return out.str();
}

namespace {

// Rows of cells printed with each column as wide as its widest cell (in bytes: names may be
// UTF-8, so a column can look a little off; it is never cut).
void PrintTable(std::ostringstream& out, const std::string& title,
                const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  out << "\n" << title << (rows.empty() ? ": none\n" : "\n");
  if (rows.empty()) return;
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text = " ";
    for (size_t c = 0; c < cells.size(); ++c) {
      text += " " + cells[c];
      if (c + 1 < cells.size()) text += std::string(width[c] - cells[c].size(), ' ') + " ";
    }
    out << text << '\n';
  };
  line(header);
  std::vector<std::string> rule;
  rule.reserve(width.size());
  for (size_t w : width) rule.emplace_back(w, '-');
  line(rule);
  for (const auto& row : rows) line(row);
}

std::vector<std::vector<std::string>> Counts(const std::map<std::string, int64_t>& m) {
  std::vector<std::vector<std::string>> rows;
  rows.reserve(m.size());
  for (const auto& [k, v] : m) rows.push_back({k, std::to_string(v)});
  return rows;
}

}  // namespace

std::string ReportText(const Report& r) {
  std::ostringstream out;
  out << "Audit report, " << (r.from_date.empty() ? "the start" : r.from_date) << " to "
      << (r.to_date.empty() ? "the end" : r.to_date) << ": " << r.num_entries << " entries, "
      << r.searches << " searches\n";
  PrintTable(out, "Searches per user", {"user", "searches"}, Counts(r.searches_per_user));
  PrintTable(out, "Searches per month", {"month", "searches"}, Counts(r.searches_per_month));
  PrintTable(out, "Searches per purpose", {"purpose", "searches"}, Counts(r.searches_per_purpose));
  PrintTable(out, "Searches per case", {"case", "searches"}, Counts(r.searches_per_case));
  PrintTable(out, "Refusals per code", {"code", "refusals"}, Counts(r.refusals_per_code));
  std::vector<std::vector<std::string>> rows;
  for (const RefusalRow& x : r.refusals) {
    rows.push_back(
        {std::to_string(x.seq), x.time, x.actor, x.action, x.code, x.case_number, x.reason});
  }
  PrintTable(out, "Refusals", {"seq", "time", "user", "action", "code", "case", "reason"}, rows);
  rows.clear();
  for (const LeadRow& l : r.leads_without_outcome) {
    rows.push_back({std::to_string(l.request_id), l.case_number, l.requester, l.released_at});
  }
  PrintTable(out, "Released leads without an outcome", {"request", "case", "requester", "released"},
             rows);
  rows.clear();
  for (const UnusualRow& u : r.unusual) {
    rows.push_back({u.kind, u.user, u.when, std::to_string(u.count), u.detail});
  }
  PrintTable(out, "Unusual activity", {"kind", "user", "when", "count", "detail"}, rows);
  rows.clear();
  for (const auto& [y, st] : r.years) {
    std::string outcomes;
    for (const auto& [k, v] : st.outcomes) {
      outcomes += (outcomes.empty() ? "" : ", ") + k + " " + std::to_string(v);
    }
    rows.push_back({y, std::to_string(st.searches), std::to_string(st.refusals),
                    std::to_string(st.leads_released), outcomes});
  }
  PrintTable(out, "Per year", {"year", "searches", "refusals", "leads released", "outcomes"}, rows);
  rows.clear();
  for (const SupervisionRow& x : r.supervision) {
    rows.push_back(
        {std::to_string(x.seq), x.time, x.actor, x.action, x.case_number, x.reason, x.detail});
  }
  PrintTable(out, "Supervision", {"seq", "time", "user", "action", "case", "reason", "detail"},
             rows);
  return out.str();
}

}  // namespace facetrail::audit
