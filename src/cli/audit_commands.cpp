// facetrail audit verify | report | export | checkpoint. Formats and semantics: docs/AUDIT.md.
// No command here (or anywhere) edits or deletes audit entries.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

#include "audit/audit.h"
#include "audit/report.h"
#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "common/db_uri.h"
#include "common/file.h"
#include "common/json_text.h"
#include "service/audit_access.h"

namespace facetrail::cli {

namespace {

struct AuditArgs {
  std::string db, user, key, checkpoints, out, from, to, format;
  std::vector<std::string> public_keys;
  int64_t from_seq = 1, to_seq = 0;
  audit::ReportOptions report;
  bool json = false;
};

// The verifier's trust, from its own configuration: keys pinned from outside the database's
// folder (never the .pub beside the database) and the external checkpoint log.
Expected<audit::VerifyOptions> TrustFromArgs(const AuditArgs& a) {
  audit::VerifyOptions o;
  for (const std::string& path : a.public_keys) {
    FT_ASSIGN_OR_RETURN(audit::PublicKey key, audit::LoadPinnedPublicKey(path, a.db));
    o.public_keys.push_back(key);
  }
  o.require_checkpoint = !o.public_keys.empty();
  if (!a.checkpoints.empty()) {
    FT_RETURN_IF_ERROR(
        audit::CheckOutsideDatabaseFolder(a.checkpoints, a.db, "the external checkpoint log"));
    FT_ASSIGN_OR_RETURN(o.external_checkpoints, audit::ReadCheckpointFile(a.checkpoints));
  }
  return o;
}

void PrintVerifyText(const audit::VerifyReport& r) {
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << '\n';
  if (r.ok()) {
    std::cout << "audit log intact: " << r.num_entries << " entries, " << r.num_checkpoints
              << " checkpoint(s) checked";
    if (r.last_checkpoint) {
      const int64_t unchecked = r.last_seq - r.proven_seq;
      std::cout << "; verified " << r.verified_at << " with pinned key "
                << r.last_checkpoint->key_id << ": "
                << (r.proven_seq == 1 ? "entry 1" : "entries 1.." + std::to_string(r.proven_seq))
                << " proven by the checkpoint signed " << r.last_checkpoint->time
                << (r.last_checkpoint_external ? " (also in the external log)" : "") << "; "
                << unchecked << (unchecked == 1 ? " newer entry" : " newer entries")
                << " not yet checkpointed";
    }
    std::cout << '\n';
    return;
  }
  const audit::Problem& first = r.problems.front();
  const std::string kind(audit::ProblemKindName(first.kind));
  if (first.kind == audit::ProblemKind::kUnverified) {
    std::cout << "AUDIT LOG NOT VERIFIED: " << first.message << '\n';
  } else if (first.kind == audit::ProblemKind::kBadCheckpoint ||
             first.kind == audit::ProblemKind::kMissingCheckpoint) {
    std::cout << "AUDIT LOG DAMAGED: checkpoint of entry " << first.seq << " (" << kind
              << "): " << first.message << '\n';
  } else {
    std::cout << "AUDIT LOG DAMAGED: first damaged entry " << first.seq << " (" << kind
              << "): " << first.message << '\n';
  }
  for (size_t i = 1; i < r.problems.size(); ++i) {
    std::cout << "  also: " << r.problems[i].message << '\n';
  }
}

int RunVerify(const AuditArgs& a) {
  auto db = Db::Open(a.db, /*create=*/false);
  if (!db.ok()) return Finish(db.status(), a.json);
  WarnIfOpenToOthers(a.db);
  auto options = TrustFromArgs(a);
  if (!options.ok()) return Finish(options.status(), a.json);
  auto report = audit::Verify(*db, *options);
  if (!report.ok()) return Finish(report.status(), a.json);
  if (a.json) {
    std::cout << JsonText(audit::VerifyReportJson(*report), 2) << '\n';
  } else {
    PrintVerifyText(*report);
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
  // Default: a table for a person at a terminal, JSON for a pipe or a file (as before).
  if (a.json) a.format = "json";
  if (a.format.empty()) a.format = a.out.empty() && ::isatty(STDOUT_FILENO) ? "table" : "json";
  if (a.format != "json" && a.format != "csv" && a.format != "table") {
    return Finish(InvalidArgument("--format must be table, json or csv"), a.json);
  }
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  a.report.from_date = a.from;
  a.report.to_date = a.to;
  auto r = service::AuditReport(*s->ctx, s->actor, a.report);
  if (!r.ok()) return Finish(r.status(), a.json);
  std::string text = a.format == "csv"     ? audit::ReportCsv(*r)
                     : a.format == "table" ? audit::ReportText(*r)
                                           : audit::ReportJson(*r) + "\n";
  return Finish(WriteOut(a.out, text), a.json);
}

int RunExport(const AuditArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto entries = service::ExportAuditLog(*s->ctx, s->actor, a.from_seq, a.to_seq);
  if (!entries.ok()) return Finish(entries.status(), a.json);
  std::string text;
  for (const audit::Entry& e : *entries) {
    // Stored text written before the edge checks may not be UTF-8: replaced, never fatal.
    text += JsonText(nlohmann::json{{"seq", e.seq},
                                    {"time", e.time},
                                    {"actor", e.actor},
                                    {"action", e.action},
                                    {"subject", e.subject},
                                    {"details", e.details},
                                    {"prev_hash", e.prev_hash},
                                    {"hash", e.hash}}) +
            "\n";
  }
  return Finish(WriteOut(a.out, text), a.json);
}

int RunCheckpoint(AuditArgs a) {
  // A PostgreSQL database has no folder to keep the signing key beside.
  if (IsPostgresUri(a.db) && a.key.empty()) {
    return Finish(
        InvalidArgument("a PostgreSQL database has no DB.audit-key beside it: give --key"), a.json);
  }
  std::string key_path = a.key.empty() ? a.db + ".audit-key" : a.key;
  auto key = audit::LoadSigningKey(key_path);
  if (!key.ok()) return Finish(key.status(), a.json);
  std::optional<audit::CheckpointLog> out;
  if (!a.out.empty()) {
    // The file it appends to is an external record too: verify against it before signing.
    if (a.checkpoints.empty() && FileExists(a.out)) a.checkpoints = a.out;
    auto opened = audit::CheckpointLog::Open(a.out, a.db);
    if (!opened.ok()) return Finish(opened.status(), a.json);
    out = std::move(*opened);
  }
  auto trust = TrustFromArgs(a);
  if (!trust.ok()) return Finish(trust.status(), a.json);
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto c = service::Checkpoint(*s->ctx, s->actor, *key, *trust);
  if (!c.ok()) return Finish(c.status(), a.json);
  std::cout << audit::ExportCheckpointLine(*c) << '\n';
  if (out) return Finish(out->Append(*c), a.json);
  return 0;
}

CLI::App* Sub(CLI::App* parent, const char* name, const char* help, AuditArgs& a, bool user) {
  auto* cmd = parent->add_subcommand(name, help);
  AddDatabaseOption(cmd, a.db, "Database");
  if (user) {
    cmd->add_option(
           "--user", a.user,
           "Acting user: an auditor or supervisor reads; a supervisor or admin signs a checkpoint "
           "(password: FACETRAIL_PASSWORD)")
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
  verify
      ->add_option("--public-key,--audit-public-key", a.public_keys,
                   "Trusted (pinned) checkpoint key, a .pub kept outside the database's folder; "
                   "repeat for old keys. Never taken from beside the database")
      ->allow_extra_args(false);
  verify->add_option("--checkpoints,--checkpoint-log", a.checkpoints,
                     "The external checkpoint log (append-only; outside the database's folder)");
  verify->callback([&result] { result.exit_code = RunVerify(a); });

  auto* report = Sub(audit_cmd, "report",
                     "Searches, refusals, open leads, unusual activity, "
                     "yearly statistics",
                     a, true);
  report->add_option("--from", a.from, "First day, YYYY-MM-DD");
  report->add_option("--to", a.to, "Last day, YYYY-MM-DD");
  report->add_option("--format", a.format,
                     "table, json or csv (default: table on a terminal, else json)");
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
                 "Also append the signed checkpoint to this append-only file, outside the "
                 "database's folder (keep it off this machine)");
  cp->add_option("--public-key,--audit-public-key", a.public_keys,
                 "Pinned key(s) to verify the log with before signing (default: the signing "
                 "key's own)")
      ->allow_extra_args(false);
  cp->add_option("--checkpoints,--checkpoint-log", a.checkpoints,
                 "External checkpoint log to verify against before signing (default: --out)");
  cp->callback([&result] { result.exit_code = RunCheckpoint(a); });
}

}  // namespace facetrail::cli
