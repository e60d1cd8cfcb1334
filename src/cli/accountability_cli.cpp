#include "cli/accountability_cli.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/output.h"
#include "common/db_uri.h"
#include "common/file.h"

namespace facetrail::cli {

namespace {

Expected<std::string> AskNoEcho(const std::string& prompt) {
  FILE* tty = std::fopen("/dev/tty", "r+");
  if (tty == nullptr) {
    return Unauthenticated(
        "unauthenticated: no password: set FACETRAIL_PASSWORD or run on a "
        "terminal");
  }
  int fd = fileno(tty);
  termios old_mode{};
  bool restore = tcgetattr(fd, &old_mode) == 0;
  if (restore) {
    termios no_echo = old_mode;
    no_echo.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &no_echo);
  }
  std::fputs(prompt.c_str(), tty);
  std::fflush(tty);
  char buf[1024];
  bool got = std::fgets(buf, sizeof buf, tty) != nullptr;
  if (restore) tcsetattr(fd, TCSAFLUSH, &old_mode);
  std::fputs("\n", tty);
  std::fclose(tty);
  if (!got) return Unauthenticated("unauthenticated: no password entered");
  std::string password(buf);
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  return password;
}

}  // namespace

CLI::Option* AddDatabaseOption(CLI::App* cmd, std::string& db, const std::string& help) {
  auto resolve = [](std::string& value) -> std::string {
    Expected<std::string> path = ResolveDatabaseUri(value);
    if (!path.ok()) return path.status().message();
    value = *path;
    return {};
  };
  // GCC 12's -Wnull-dereference sees a null std::function where CLI11 moves the validator into
  // its vector (a false positive, as with nested vectors; see the project's build notes).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
  return cmd->add_option("--db", db, help)
      ->required()
      ->transform(CLI::Validator(resolve, "DB", "database path"));
#pragma GCC diagnostic pop
}

CLI::Option* AddSnapshotDirOption(CLI::App* cmd, std::string& dir) {
  return cmd
      ->add_option("--snapshot-dir", dir,
                   "folder for this machine's search-index snapshot files (default: beside a "
                   "SQLite database; a PostgreSQL gallery without it is indexed in memory at "
                   "every start)")
      ->envname("FACETRAIL_SNAPSHOT_DIR");
}

bool DatabaseExists(const std::string& db) {
  return IsPostgresUri(db) || FileExists(db);
}

void WarnIfOpenToOthers(const std::string& db_path) {
  if (IsPostgresUri(db_path)) return;
  static std::set<std::string> warned;  // the CLI runs one command on one thread
  if (!warned.insert(db_path).second) return;
  for (const std::string& w : OwnerOnlyWarnings(db_path)) std::cerr << "warning: " << w << '\n';
}

Expected<Session> OpenSession(const std::string& db_path, bool create) {
  Session s;
  auto db = Db::Open(db_path, create);
  if (!db.ok()) return db.status();
  WarnIfOpenToOthers(db_path);
  s.db = std::make_unique<Db>(std::move(*db));
  FT_ASSIGN_OR_RETURN(s.ctx, service::Context::Open(*s.db));
  return s;
}

Expected<bool> UnderAccountability(const std::string& db_path) {
  {
    // Looked up without migrating anything: a plain gallery stays untouched.
    FT_ASSIGN_OR_RETURN(Db raw, Db::Open(db_path, /*create=*/false));
    FT_ASSIGN_OR_RETURN(bool has_users, raw.TableExists("policy_users"));
    if (!has_users) return false;  // no accountability tables
  }
  FT_ASSIGN_OR_RETURN(Session session, OpenSession(db_path));
  FT_ASSIGN_OR_RETURN(int64_t users, session.ctx->store().NumUsers());
  return users > 0;
}

Status RefuseWithoutUser(const std::string& db_path, const std::string& refused_action,
                         const std::string& subject, const std::string& what,
                         const std::string& reason) {
  FT_ASSIGN_OR_RETURN(Session session, OpenSession(db_path));
  const std::string code = "unaccountable_" + what;
  FT_RETURN_IF_ERROR(session.ctx->log().AppendInOwnTransaction(
      {"unknown", refused_action, subject, {{"code", code}, {"reason", reason}}}));
  return PermissionDenied(code + ": " + reason);
}

Expected<Session> OpenAndLogin(const std::string& db_path, const std::string& user) {
  FT_ASSIGN_OR_RETURN(Session s, OpenSession(db_path));
  FT_ASSIGN_OR_RETURN(std::string password,
                      ReadPassword("FACETRAIL_PASSWORD", "Password for " + user + ": ", false));
  FT_ASSIGN_OR_RETURN(s.actor, service::Login(*s.ctx, user, password));
  return s;
}

Expected<std::string> ReadPassword(const char* env, const std::string& prompt, bool confirm) {
  if (const char* value = std::getenv(env); value != nullptr && *value != '\0') {
    return std::string(value);
  }
  FT_ASSIGN_OR_RETURN(std::string first, AskNoEcho(prompt));
  if (confirm) {
    FT_ASSIGN_OR_RETURN(std::string second, AskNoEcho("Repeat: "));
    if (first != second) return InvalidArgument("the two passwords differ");
  }
  return first;
}

int Finish(const Status& status, bool json) {
  if (status.ok()) return 0;
  if (service::IsRefusal(status)) {
    service::RefusalParts parts = service::SplitRefusal(status);
    if (json) {
      std::cout
          << nlohmann::json{{"refused", {{"code", parts.code}, {"reason", parts.reason}}}}.dump()
          << '\n';
    } else {
      std::cerr << "facetrail: refused (" << parts.code << "): " << parts.reason << '\n';
    }
    return 3;
  }
  if (json) {  // scripts that asked for JSON get JSON on stdout, whatever happened
    std::cout << nlohmann::json{{"error",
                                 {{"code", StatusCodeName(status.code())},
                                  {"message", status.message()}}}}
                     .dump()
              << '\n';
  }
  return PrintError(status);
}

int Done(bool json, const nlohmann::json& result, const std::string& text) {
  if (json) {
    std::cout << result.dump() << '\n';
  } else {
    std::cout << text;
  }
  return 0;
}

}  // namespace facetrail::cli
