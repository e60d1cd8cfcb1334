// facetrail audit verify | report | export | checkpoint. Formats and semantics: docs/AUDIT.md.
// No command here (or anywhere) edits or deletes audit entries.
#include <sys/stat.h>

#include <fstream>
#include <iostream>

#include "audit/audit.h"
#include "audit/report.h"
#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "service/audit_access.h"

namespace facetrail::cli {

namespace {

struct AuditArgs {
  std::string db, user, public_key, key, checkpoints, out, from, to, format = "json";
  int64_t from_seq = 1, to_seq = 0;
  audit::ReportOptions report;
  bool json = false;
};

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

int RunVerify(const AuditArgs& a) {
  auto db = SqliteDb::Open(a.db, /*create=*/false);
  if (!db.ok()) return Finish(db.status(), a.json);
  audit::VerifyOptions options;
  std::string pub = a.public_key;
  if (pub.empty() && Exists(a.db + ".audit-key.pub")) pub = a.db + ".audit-key.pub";
  if (!pub.empty()) {
    auto key = audit::LoadPublicKey(pub);
    if (!key.ok()) return Finish(key.status(), a.json);
    options.public_keys.push_back(*key);
  }
  if (!a.checkpoints.empty()) {
    auto cps = audit::ReadCheckpointFile(a.checkpoints);
    if (!cps.ok()) return Finish(cps.status(), a.json);
    options.external_checkpoints = *cps;
  }
  auto report = audit::Verify(*db, options);
  if (!report.ok()) return Finish(report.status(), a.json);
  if (a.json) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : report->problems) {
      problems.push_back(
          {{"kind", audit::ProblemKindName(p.kind)}, {"seq", p.seq}, {"message", p.message}});
    }
    std::cout << nlohmann::json{{"ok", report->ok()},
                                {"entries", report->num_entries},
                                {"last_seq", report->last_seq},
                                {"checkpoints", report->num_checkpoints},
                                {"problems", problems},
                                {"warnings", report->warnings}}
                     .dump(2)
              << '\n';
  } else {
    for (const auto& w : report->warnings) std::cerr << "warning: " << w << '\n';
    if (report->ok()) {
      std::cout << "audit log intact: " << report->num_entries << " entries, "
                << report->num_checkpoints << " checkpoint(s) checked\n";
    } else {
      const audit::Problem& first = report->problems.front();
      std::cout << "AUDIT LOG DAMAGED: first damaged entry " << first.seq << " ("
                << audit::ProblemKindName(first.kind) << "): " << first.message << '\n';
      for (size_t i = 1; i < report->problems.size(); ++i) {
        std::cout << "  also: " << report->problems[i].message << '\n';
      }
    }
  }
  return report->ok() ? 0 : 1;
}

Status WriteOut(const std::string& path, const std::string& text, bool append = false) {
  if (path.empty()) {
    std::cout << text;
    return Status::Ok();
  }
  std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
  out << text;
  out.close();
  if (!out) return IoError(path + ": cannot write");
  return Status::Ok();
}

int RunReport(AuditArgs a) {
  if (a.format != "json" && a.format != "csv") {
    return Finish(InvalidArgument("--format must be json or csv"), a.json);
  }
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  a.report.from_date = a.from;
  a.report.to_date = a.to;
  auto r = service::AuditReport(*s->ctx, s->actor, a.report);
  if (!r.ok()) return Finish(r.status(), a.json);
  std::string text = a.format == "csv" ? audit::ReportCsv(*r) : audit::ReportJson(*r) + "\n";
  return Finish(WriteOut(a.out, text), a.json);
}

int RunExport(const AuditArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto entries = service::ExportAuditLog(*s->ctx, s->actor, a.from_seq, a.to_seq);
  if (!entries.ok()) return Finish(entries.status(), a.json);
  std::string text;
  for (const audit::Entry& e : *entries) {
    text += nlohmann::json{{"seq", e.seq},
                           {"time", e.time},
                           {"actor", e.actor},
                           {"action", e.action},
                           {"subject", e.subject},
                           {"details", e.details},
                           {"prev_hash", e.prev_hash},
                           {"hash", e.hash}}
                .dump() +
            "\n";
  }
  return Finish(WriteOut(a.out, text), a.json);
}

int RunCheckpoint(const AuditArgs& a) {
  std::string key_path = a.key.empty() ? a.db + ".audit-key" : a.key;
  auto key = audit::LoadSigningKey(key_path);
  if (!key.ok()) return Finish(key.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto c = service::Checkpoint(*s->ctx, s->actor, *key);
  if (!c.ok()) return Finish(c.status(), a.json);
  std::string line = audit::ExportCheckpointLine(*c) + "\n";
  std::cout << line;
  if (!a.out.empty()) return Finish(WriteOut(a.out, line, /*append=*/true), a.json);
  return 0;
}

CLI::App* Sub(CLI::App* parent, const char* name, const char* help, AuditArgs& a, bool user) {
  auto* cmd = parent->add_subcommand(name, help);
  cmd->add_option("--db", a.db, "Database")->required();
  if (user) {
    cmd->add_option("--user", a.user, "Supervisor or auditor (password: FACETRAIL_PASSWORD)")
        ->required();
  }
  cmd->add_flag("--json", a.json, "JSON output");
  return cmd;
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, CommandResult& result) {
  static AuditArgs a;
  auto* audit_cmd = app.add_subcommand("audit", "The tamper-evident audit log");
  audit_cmd->require_subcommand(1);

  auto* verify = Sub(audit_cmd, "verify",
                     "Recompute the hash chain and check the checkpoints; "
                     "exit 1 and name the first damaged entry",
                     a, false);
  verify->add_option("--public-key", a.public_key,
                     "Trusted checkpoint key (.pub; default DB.audit-key.pub if present)");
  verify->add_option("--checkpoints", a.checkpoints,
                     "Checkpoints kept outside the database (JSON lines from 'checkpoint --out')");
  verify->callback([&result] { result.exit_code = RunVerify(a); });

  auto* report = Sub(audit_cmd, "report",
                     "Searches, refusals, open leads, unusual activity, "
                     "yearly statistics",
                     a, true);
  report->add_option("--from", a.from, "First day, YYYY-MM-DD");
  report->add_option("--to", a.to, "Last day, YYYY-MM-DD");
  report->add_option("--format", a.format, "json or csv");
  report->add_option("--out", a.out, "Output file (default: standard output)");
  report->add_option("--utc-offset-minutes", a.report.utc_offset_minutes,
                     "Local time zone for off-hours");
  report->add_option("--off-hours-start", a.report.off_hours_start, "Local hour (default 20)");
  report->add_option("--off-hours-end", a.report.off_hours_end, "Local hour (default 6)");
  report->add_option("--max-per-day", a.report.max_searches_per_user_day,
                     "Searches per user and day above which volume is unusual (default 20)");
  report->add_option("--repeat-probe", a.report.repeat_probe_threshold,
                     "Searches of one probe that are unusual (default 3)");
  report->callback([&result] { result.exit_code = RunReport(a); });

  auto* exp =
      Sub(audit_cmd, "export", "Entries as JSON lines (with hashes, re-verifiable)", a, true);
  exp->add_option("--from-seq", a.from_seq, "First entry (default 1)");
  exp->add_option("--to-seq", a.to_seq, "Last entry (default: the end)");
  exp->add_option("--out", a.out, "Output file (default: standard output)");
  exp->callback([&result] { result.exit_code = RunExport(a); });

  auto* cp = Sub(audit_cmd, "checkpoint", "Sign the log's head (Ed25519) and store it", a, true);
  cp->add_option("--key", a.key, "Signing key file, mode 0600 (default: DB.audit-key)");
  cp->add_option("--out", a.out,
                 "Also append the signed checkpoint to this file (keep it "
                 "off this machine)");
  cp->callback([&result] { result.exit_code = RunCheckpoint(a); });
}

}  // namespace facetrail::cli
