// Shared plumbing of the accountability commands (admin, review, audit, accountable search):
// opening the database and the service context, reading passwords, and turning a status into
// output and an exit status (0 ok, 1 error, 2 usage, 3 refusal — refusals include failed logins).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/db.h"
#include "service/context.h"

namespace facetrail::cli {

struct Session {
  std::unique_ptr<Db> db;
  std::unique_ptr<service::Context> ctx;
  service::Actor actor;  // empty name when not logged in
};

// Adds the required `--db` option to `cmd`. Its spelling (sqlite:PATH, file:PATH, …) becomes the
// path of the file that is opened (ResolveDatabaseUri) while the command line is parsed, before
// any command looks at it, so the accountability check and the store always see the same file;
// a postgresql://USER@HOST:PORT/DB URI stays as given. A bad spelling, or a password in the URI,
// is a usage error.
CLI::Option* AddDatabaseOption(CLI::App* cmd, std::string& db, const std::string& help);
// Adds `--snapshot-dir DIR` (also FACETRAIL_SNAPSHOT_DIR) to a command that opens the search
// index: where this machine keeps its snapshot files (gallery::StoreOptions::snapshot_dir).
CLI::Option* AddSnapshotDirOption(CLI::App* cmd, std::string& dir);

// False when `db` (as AddDatabaseOption resolved it) is a SQLite file that does not exist. A
// PostgreSQL database is taken to exist: opening it says otherwise.
bool DatabaseExists(const std::string& db);

// Opens an existing database (kNotFound otherwise) and its accountability schema; warns (once
// per process) about its files that are open to group or others (WarnIfOpenToOthers).
Expected<Session> OpenSession(const std::string& db_path, bool create = false);
// Prints "warning: <file> is open to group or others …" on stderr for each of the database's
// files that OwnerOnlyWarnings names, the first time it is called for `db_path` (SQLite only: a
// PostgreSQL server's files are its DBA's business).
void WarnIfOpenToOthers(const std::string& db_path);
// OpenSession + Login(user, password from FACETRAIL_PASSWORD or the terminal).
Expected<Session> OpenAndLogin(const std::string& db_path, const std::string& user);

// True when `db_path` is under accountability: the file exists and holds at least one user
// ('admin init' ran). Looked up read-only, so a plain development gallery stays untouched.
Expected<bool> UnderAccountability(const std::string& db_path);
// A command that must name its user on a database under accountability ran without --user: the
// attempt is audited as `refused_action` on `subject` (actor "unknown", code
// unaccountable_<what>) and the refusal returned (kPermissionDenied; exit status 3).
Status RefuseWithoutUser(const std::string& db_path, const std::string& refused_action,
                         const std::string& subject, const std::string& what,
                         const std::string& reason);

// The password in environment variable `env`, else asked on the terminal without echo (twice
// when `confirm`). kUnauthenticated when neither is available.
Expected<std::string> ReadPassword(const char* env, const std::string& prompt, bool confirm);

// 0 for OK. A refusal prints {"refused": {"code", "reason"}} on stdout with --json, or
// "facetrail: refused (<code>): <reason>" on stderr, and returns 3; other errors as PrintError,
// and with --json also {"error": {"code", "message"}} on stdout (exit status 1, or 2 for
// invalid input).
int Finish(const Status& status, bool json);
// What a command that changed something did: `result` as one JSON line on stdout with --json
// (scripts read it), else `text` (ending in a newline). Returns 0.
int Done(bool json, const nlohmann::json& result, const std::string& text);

}  // namespace facetrail::cli

namespace facetrail::cli {

struct CommandResult;
// The three command groups that RegisterAccountabilityCommands adds.
void RegisterAdminCommands(CLI::App& app, CommandResult& result);
void RegisterReviewCommands(CLI::App& app, CommandResult& result);
void RegisterAuditCommands(CLI::App& app, CommandResult& result);

}  // namespace facetrail::cli
