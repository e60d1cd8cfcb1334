// facetrail admin init | user add | user role | cert add | cert revoke | lock | unlock |
// sessions revoke | config show | config set | purge-probes | migrate-db. Argument parsing and
// printing only; the rules and the audit entries are in service/user_admin.h,
// service/sessions.h, service/retention.h and service/migrate_db.h.
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <vector>

#include "audit/audit.h"
#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "common/db_uri.h"
#include "common/file.h"
#include "common/sha256.h"
#include "service/migrate_db.h"
#include "service/retention.h"
#include "service/server_queries.h"
#include "service/sessions.h"
#include "service/user_admin.h"

namespace facetrail::cli {

namespace {

using service::CertificateJson;
using service::RolesJson;
using service::UserJson;

bool CertificateValid(const policy::Certificate& c, const std::string& today) {
  return !c.revoked_at && c.issued <= today && today <= c.expires;
}

struct AdminArgs {
  std::string db, user;  // the acting admin
  std::string name, full_name, agency, roles, key;
  std::string course, number, issued, expires, issued_by, reason, file;
  std::optional<float> threshold;  // config candidates
  int list_length = 0;
  bool model_calibration = false;
  bool json = false;
  bool break_glass = false;
  // migrate-db
  std::string from, to, checkpoints;
  std::vector<std::string> public_keys;
};

Expected<policy::RoleSet> ParseRoles(const std::string& text) {
  policy::RoleSet roles;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    FT_ASSIGN_OR_RETURN(policy::Role r, policy::ParseRole(item));
    roles.insert(r);
  }
  return roles;
}

// Removes the database files `admin init` created when it failed (issue 17: no empty database
// is left behind to be mistaken for an initialised one).
void RemoveCreatedDatabase(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    std::filesystem::remove(db + suffix, ec);
  }
}

int RunInit(const AdminArgs& a) {
  // A PostgreSQL database has no folder to keep the signing key beside.
  if (IsPostgresUri(a.db) && a.key.empty()) {
    return Finish(InvalidArgument("admin init on a PostgreSQL database needs --key FILE: where "
                                  "to create the checkpoint signing key (secret, mode 0600)"),
                  a.json);
  }
  // The password first: a run that cannot read one creates nothing.
  auto password = ReadPassword("FACETRAIL_PASSWORD", "New password for " + a.name + ": ", true);
  if (!password.ok()) return Finish(password.status(), a.json);
  std::error_code ec;
  const bool existed = std::filesystem::exists(a.db, ec);
  const std::string key = a.key.empty() ? a.db + ".audit-key" : a.key;
  // Opened, initialised and closed here, so that a failure can remove what it created.
  auto init = [&]() -> Expected<std::string> {
    FT_ASSIGN_OR_RETURN(Session session, OpenSession(a.db, /*create=*/true));
    FT_ASSIGN_OR_RETURN(auto user, service::InitAdmin(*session.ctx, {a.name, a.full_name, *password,
                                                                     a.agency, key}));
    return user.name;
  };
  Expected<std::string> admin = init();
  if (!admin.ok()) {
    if (!existed && !IsPostgresUri(a.db)) RemoveCreatedDatabase(a.db);
    return Finish(admin.status(), a.json);
  }
  auto pub = audit::LoadPublicKey(key + ".pub");
  if (!pub.ok()) return Finish(pub.status(), a.json);
  if (a.json) {
    return Done(true,
                {{"initialised", a.db},
                 {"admin", *admin},
                 {"agency", a.agency},
                 {"signing_key", key},
                 {"public_key", key + ".pub"},
                 {"key_id", pub->KeyId()}},
                "");
  }
  std::cout << "initialised " << a.db << ": admin " << *admin << ", home agency " << a.agency
            << "\naudit checkpoint signing key: " << key << " (secret, mode 0600; key id "
            << pub->KeyId() << "); the log's first checkpoint is signed with it\n"
            << "its public key: " << key << ".pub. Pin a copy of it kept OUTSIDE the "
            << "database's folder, where whoever can write the database cannot replace it, "
            << "and give it to the server and to every verification (docs/AUDIT.md):\n"
            << "  facetrail serve --db " << a.db << " --audit-public-key PINNED.pub "
            << "--audit-signing-key " << key << " --audit-checkpoint-log EXTERNAL.jsonl\n"
            << "  facetrail audit verify --db " << a.db
            << " --public-key PINNED.pub --checkpoints EXTERNAL.jsonl\n"
            << "Until a key is pinned, verification reports the log as not verified.\n";
  return 0;
}

int RunUserAdd(const AdminArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto roles = ParseRoles(a.roles);
  if (!roles.ok()) return Finish(roles.status(), a.json);
  auto password =
      ReadPassword("FACETRAIL_NEW_PASSWORD", "Initial password for " + a.name + ": ", true);
  if (!password.ok()) return Finish(password.status(), a.json);
  auto u = service::AddUser(*s->ctx, s->actor, {a.name, a.full_name, a.agency, *roles, *password});
  if (!u.ok()) return Finish(u.status(), a.json);
  return Done(a.json, UserJson(*u),
              "added " + u->name + " (" + policy::RoleSetText(u->roles) + ", " + u->agency + ")\n");
}

int RunUserRole(const AdminArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto roles = ParseRoles(a.roles);
  if (!roles.ok()) return Finish(roles.status(), a.json);
  Status st = service::SetRoles(*s->ctx, s->actor, a.name, *roles);
  if (!st.ok()) return Finish(st, a.json);
  return Done(a.json, {{"user", a.name}, {"roles", RolesJson(*roles)}},
              a.name + ": roles " + policy::RoleSetText(*roles) + "\n");
}

int RunCertAdd(const AdminArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto c = service::AddCertificate(*s->ctx, s->actor, a.name,
                                   {a.course, a.number, a.issued, a.expires, a.issued_by});
  if (!c.ok()) return Finish(c.status(), a.json);
  return Done(a.json, {{"user", a.name}, {"certificate", CertificateJson(*c)}},
              a.name + ": certificate " + c->number + " (" + c->course + ") valid " + c->issued +
                  " to " + c->expires + "\n");
}

int RunCertRevoke(const AdminArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::RevokeCertificate(*s->ctx, s->actor, a.name, a.number, a.reason);
  if (!st.ok()) return Finish(st, a.json);
  return Done(a.json, {{"user", a.name}, {"certificate", a.number}, {"revoked", true}},
              a.name + ": certificate " + a.number + " revoked\n");
}

// Who ran a break-glass unlock, as far as the operating system can say.
std::string OperatorIdentity() {
  std::string who = "uid " + std::to_string(::getuid());
  passwd entry{};
  passwd* pw = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(::getuid(), &entry, buf.data(), buf.size(), &pw) == 0 && pw != nullptr) {
    who += std::string(" (") + pw->pw_name + ")";
  }
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) who += std::string(" on ") + host;
  return who;
}

int RunLock(const AdminArgs& a, bool lock) {
  if (a.break_glass) {
    if (lock || !a.user.empty()) {
      return Finish(InvalidArgument("--break-glass unlocks without an account: no --user"), a.json);
    }
    auto s = OpenSession(a.db);
    if (!s.ok()) return Finish(s.status(), a.json);
    Status st = service::BreakGlassUnlock(*s->ctx, a.name, a.reason, OperatorIdentity());
    if (!st.ok()) return Finish(st, a.json);
    return Done(a.json, {{"user", a.name}, {"locked", false}, {"break_glass", true}},
                a.name + ": unlocked (break-glass, audited)\n");
  }
  if (a.user.empty()) {
    return Finish(InvalidArgument("--user (the acting admin) is required, or --break-glass"),
                  a.json);
  }
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  Status st = service::SetLocked(*s->ctx, s->actor, a.name, lock, a.reason);
  if (!st.ok()) return Finish(st, a.json);
  return Done(a.json, {{"user", a.name}, {"locked", lock}},
              a.name + (lock ? ": locked\n" : ": unlocked\n"));
}

int RunSessionsRevoke(const AdminArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto r = service::RevokeUserCredentials(*s->ctx, s->actor, a.name, a.reason);
  if (!r.ok()) return Finish(r.status(), a.json);
  return Done(a.json,
              {{"user", a.name},
               {"sessions_revoked", r->session_ids.size()},
               {"tokens_revoked", r->token_ids.size()}},
              a.name + ": signed out everywhere (" + std::to_string(r->session_ids.size()) +
                  " session(s) and " + std::to_string(r->token_ids.size()) +
                  " API token(s) revoked)\n");
}

int RunConfigShow(const AdminArgs& a) {
  auto s = OpenSession(a.db);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto c = s->ctx->store().LoadConfig();
  if (!c.ok()) return Finish(c.status(), a.json);
  std::cout << nlohmann::json::parse(policy::ConfigToJsonText(*c)).dump(2) << '\n';
  return 0;
}

int RunConfigSet(const AdminArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  std::ifstream in(a.file);
  if (!in) return Finish(NotFound(a.file + ": cannot open"), a.json);
  std::stringstream text;
  text << in.rdbuf();
  auto c = policy::ParseConfigJson(text.str());
  if (!c.ok()) return Finish(c.status().WithContext(a.file), a.json);
  Status st = service::UpdateConfig(*s->ctx, s->actor, *c);
  if (!st.ok()) return Finish(st, a.json);
  return Done(a.json, {{"configuration_updated", true}}, "configuration updated\n");
}

int RunConfigCandidates(const AdminArgs& a) {
  if (a.threshold.has_value() == a.model_calibration) {
    return Finish(InvalidArgument("give either --threshold S or --model-calibration"), a.json);
  }
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto stored = service::SetCandidatePolicy(
      *s->ctx, s->actor, a.threshold,
      a.list_length > 0 ? std::optional<int>(a.list_length) : std::nullopt, a.reason);
  if (!stored.ok()) return Finish(stored.status(), a.json);
  return Done(a.json,
              {{"max_list_length", stored->max_top_k},
               {"threshold", a.threshold ? nlohmann::json(*a.threshold) : nlohmann::json()},
               {"threshold_source", a.threshold ? "department" : "model_calibration"}},
              "candidate-list policy: at most " + std::to_string(stored->max_top_k) +
                  " candidates scoring at least " +
                  (a.threshold ? std::to_string(*a.threshold)
                               : std::string("the active model's calibrated threshold")) +
                  "; every front end uses it from the next search\n");
}

// The department's signing key's public half and key id (no secret read when KEY.pub exists):
// what an admin hands, through a channel a forger does not control, to whoever verifies audit
// checkpoints or case packages (facetrail review verify-case --public-key/--key-id).
int RunSigningKey(const AdminArgs& a) {
  if (IsPostgresUri(a.db) && a.key.empty()) {
    return Finish(
        InvalidArgument("a PostgreSQL database has no DB.audit-key beside it: give --key"), a.json);
  }
  const std::string key = a.key.empty() ? a.db + ".audit-key" : a.key;
  auto pub =
      FileExists(key + ".pub") ? audit::LoadPublicKey(key + ".pub") : audit::LoadPublicKey(key);
  if (!pub.ok()) return Finish(pub.status(), a.json);
  const std::string hex = ToHex(pub->bytes);
  if (a.json) {
    std::cout << nlohmann::json{{"public_key", hex}, {"key_id", pub->KeyId()}}.dump() << '\n';
    return 0;
  }
  std::cout << "public key: " << hex << "\nkey id:     " << pub->KeyId()
            << "\nGive it to verifiers through a channel a forger does not control; they pass it "
               "to 'facetrail review verify-case DIR --public-key HEX' (or --key-id).\n";
  return 0;
}

int RunPurge(const AdminArgs& a) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto r = service::PurgeProbes(*s->ctx, s->actor);
  if (!r.ok()) return Finish(r.status(), a.json);
  return Done(a.json, {{"purged_sha256", r->purged_sha256}, {"kept_on_hold", r->kept_on_hold}},
              "purged " + std::to_string(r->purged_sha256.size()) + " probe image(s); kept " +
                  std::to_string(r->kept_on_hold) +
                  " for cases on hold; hashes and audit entries kept\n");
}

// admin user list / admin cert list: every user (with certificates), admin only, audited by
// the use case like the server's GET /api/v1/users.
int RunUserList(const AdminArgs& a, bool certificates) {
  auto s = OpenAndLogin(a.db, a.user);
  if (!s.ok()) return Finish(s.status(), a.json);
  auto users = service::ListUsersForAdmin(*s->ctx, s->actor);
  if (!users.ok()) return Finish(users.status(), a.json);
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const policy::User& u : *users) {
      if (certificates) {
        for (const policy::Certificate& c : u.certificates) {
          nlohmann::json j = CertificateJson(c);
          j["user"] = u.name;
          out.push_back(j);
        }
      } else {
        out.push_back(UserJson(u));
      }
    }
    return Done(true, {{certificates ? "certificates" : "users", out}}, "");
  }
  std::ostringstream text;
  const std::string today = s->ctx->Today();
  for (const policy::User& u : *users) {
    if (!certificates) {
      int valid = 0;
      for (const policy::Certificate& c : u.certificates) valid += CertificateValid(c, today);
      text << std::left << std::setw(16) << u.name << ' ' << std::setw(28)
           << policy::RoleSetText(u.roles) << ' ' << std::setw(20) << u.agency << ' '
           << (u.locked ? "LOCKED " : "") << valid << " valid certificate(s)"
           << (u.full_name.empty() ? "" : "  (" + u.full_name + ")") << '\n';
      continue;
    }
    for (const policy::Certificate& c : u.certificates) {
      text << std::left << std::setw(16) << u.name << ' ' << std::setw(16) << c.number << ' '
           << c.issued << " to " << c.expires << ' '
           << (c.revoked_at ? "REVOKED " + *c.revoked_at
                            : (CertificateValid(c, today) ? "valid" : "not valid today"))
           << "  " << c.course << " (" << c.issued_by << ")\n";
    }
  }
  if (text.str().empty()) text << (certificates ? "no certificates\n" : "no users\n");
  return Done(false, {}, text.str());
}

// admin migrate-db: everything in a SQLite database copied into an empty PostgreSQL one, then
// the copy's audit log verified with the trust given here (as `audit verify` takes it). Exit
// status 1 when the copy was made but does not verify.
int RunMigrateDb(const AdminArgs& a) {
  auto from = DatabaseFilePath(a.from);
  if (!from.ok()) return Finish(from.status().WithContext("--from"), a.json);
  if (*from == ":memory:" || !FileExists(*from)) {
    return Finish(NotFound(*from + ": no such SQLite database (--from)"), a.json);
  }
  if (!IsPostgresUri(a.to)) {
    return Finish(InvalidArgument("--to must be a postgresql:// URI (password from PGPASSWORD or "
                                  "~/.pgpass, never in the URI)"),
                  a.json);
  }
  // The verifier's trust: pinned keys and the external log, from outside the source's folder.
  service::MigrateDbOptions options;
  options.operator_identity = OperatorIdentity();
  for (const std::string& path : a.public_keys) {
    auto key = audit::LoadPinnedPublicKey(path, *from);
    if (!key.ok()) return Finish(key.status(), a.json);
    options.verify.public_keys.push_back(*key);
  }
  options.verify.require_checkpoint = !options.verify.public_keys.empty();
  if (!a.checkpoints.empty()) {
    Status outside =
        audit::CheckOutsideDatabaseFolder(a.checkpoints, *from, "the external checkpoint log");
    if (!outside.ok()) return Finish(outside, a.json);
    auto external = audit::ReadCheckpointFile(a.checkpoints);
    if (!external.ok()) return Finish(external.status(), a.json);
    options.verify.external_checkpoints = *external;
  }
  auto source = Db::Open(*from, /*create=*/false);
  if (!source.ok()) return Finish(source.status(), a.json);
  WarnIfOpenToOthers(*from);
  auto target = Db::Open(a.to);
  if (!target.ok()) return Finish(target.status(), a.json);
  auto r = service::MigrateDatabase(*source, *target, options);
  if (!r.ok()) return Finish(r.status(), a.json);
  const int exit_code = r->verify.ok() ? 0 : 1;
  if (a.json) {
    std::cout << service::MigrateDbResultJson(*r).dump() << '\n';
    return exit_code;
  }
  std::cout << "copied " << r->from << " into " << r->to << ": " << r->rows << " rows in "
            << r->tables.size() << " tables, ids kept (schema";
  for (const auto& [component, version] : r->schema_versions) {
    std::cout << ' ' << component << ' ' << version;
  }
  std::cout << ")\n";
  for (const service::CopiedTable& t : r->tables) {
    std::cout << "  " << std::left << std::setw(24) << t.table << ' ' << t.rows << '\n';
  }
  std::cout << "audited on the target as entry " << r->migrate_entry_seq
            << " (admin.migrate_db), after the source's entry " << r->source_audit_seq << '\n';
  const audit::VerifyReport& v = r->verify;
  for (const std::string& w : v.warnings) std::cerr << "warning: " << w << '\n';
  if (v.ok()) {
    std::cout << "audit verify on the target: intact, " << v.num_entries << " entries, "
              << v.num_checkpoints << " checkpoint(s) checked";
    if (v.last_checkpoint) std::cout << ", entries 1.." << v.proven_seq << " proven";
    std::cout << '\n';
  } else {
    const audit::Problem& first = v.problems.front();
    std::cout << "audit verify on the target: "
              << (first.kind == audit::ProblemKind::kUnverified ? "NOT VERIFIED" : "DAMAGED")
              << " (" << audit::ProblemKindName(first.kind) << ", entry " << first.seq
              << "): " << first.message << "\n(the copy is committed; 'facetrail audit verify' "
              << "on the source tells whether it was so there)\n";
  }
  return exit_code;
}

void AddDbUser(CLI::App* cmd, AdminArgs& a) {
  AddDatabaseOption(cmd, a.db, "Database");
  cmd->add_option("--user", a.user, "Acting admin (password: FACETRAIL_PASSWORD or terminal)")
      ->required();
  cmd->add_flag("--json", a.json, "JSON output (the result, a refusal or an error)");
}

}  // namespace

void RegisterAdminCommands(CLI::App& app, CommandResult& result) {
  static AdminArgs a;
  auto* admin = app.add_subcommand("admin", "Users, roles, certificates, configuration");
  admin->require_subcommand(1);

  auto* init = admin->add_subcommand("init", "Create the first admin on a database without users");
  AddDatabaseOption(init, a.db, "Database (created if missing)");
  init->add_option("--name", a.name, "Admin user name")->required();
  init->add_option("--full-name", a.full_name, "Admin's full name");
  init->add_option("--agency", a.agency, "Home agency: the only agency searches are made for")
      ->required();
  init->add_option("--key", a.key, "Checkpoint signing key to create (default: DB.audit-key)");
  init->add_flag("--json", a.json, "JSON output (the result, a refusal or an error)");
  init->callback([&result] { result.exit_code = RunInit(a); });

  auto* signing_key = admin->add_subcommand(
      "signing-key",
      "Print the signing key's public key and key id (for verify-case, audit verify)");
  AddDatabaseOption(signing_key, a.db, "Database (its key is DB.audit-key unless --key)");
  signing_key->add_option("--key", a.key, "Signing key file (default: DB.audit-key)");
  signing_key->add_flag("--json", a.json, "JSON output");
  signing_key->callback([&result] { result.exit_code = RunSigningKey(a); });

  auto* user = admin->add_subcommand("user", "Add users and set their roles");
  user->require_subcommand(1);
  auto* add = user->add_subcommand("add", "Add a user (initial password: FACETRAIL_NEW_PASSWORD)");
  AddDbUser(add, a);
  add->add_option("--name", a.name, "New user name")->required();
  add->add_option("--full-name", a.full_name, "Full name");
  add->add_option("--agency", a.agency, "The user's agency")->required();
  add->add_option("--roles", a.roles, "searcher,examiner,supervisor,auditor or admin")->required();
  add->callback([&result] { result.exit_code = RunUserAdd(a); });
  auto* list = user->add_subcommand("list", "Every user: roles, agency, lock, certificates");
  AddDbUser(list, a);
  list->callback([&result] { result.exit_code = RunUserList(a, false); });
  auto* role = user->add_subcommand("role", "Replace a user's roles");
  AddDbUser(role, a);
  role->add_option("--name", a.name, "User")->required();
  role->add_option("--roles", a.roles, "Comma-separated roles")->required();
  role->callback([&result] { result.exit_code = RunUserRole(a); });

  auto* cert = admin->add_subcommand("cert", "Training certificates");
  cert->require_subcommand(1);
  auto* cadd = cert->add_subcommand("add", "Record a training certificate");
  AddDbUser(cadd, a);
  cadd->add_option("--name", a.name, "Holder")->required();
  cadd->add_option("--course", a.course, "Course")->required();
  cadd->add_option("--number", a.number, "Certificate number")->required();
  cadd->add_option("--issued", a.issued, "First valid day, YYYY-MM-DD")->required();
  cadd->add_option("--expires", a.expires, "Last valid day, YYYY-MM-DD")->required();
  cadd->add_option("--issued-by", a.issued_by, "Issuing body")->required();
  cadd->callback([&result] { result.exit_code = RunCertAdd(a); });
  auto* clist = cert->add_subcommand("list", "Every user's certificates, valid or not");
  AddDbUser(clist, a);
  clist->callback([&result] { result.exit_code = RunUserList(a, true); });
  auto* revoke = cert->add_subcommand("revoke", "Revoke a certificate (recorded, never deleted)");
  AddDbUser(revoke, a);
  revoke->add_option("--name", a.name, "Holder")->required();
  revoke->add_option("--number", a.number, "Certificate number")->required();
  revoke->add_option("--reason", a.reason, "Why")->required();
  revoke->callback([&result] { result.exit_code = RunCertRevoke(a); });

  for (bool lock : {true, false}) {
    auto* cmd = admin->add_subcommand(lock ? "lock" : "unlock",
                                      lock ? "Lock an account" : "Unlock an account");
    if (lock) {
      AddDbUser(cmd, a);
    } else {
      // Break-glass: whoever can write the database file unlocks without an account (the only
      // admin locked), audited as such.
      AddDatabaseOption(cmd, a.db, "Database");
      cmd->add_option("--user", a.user, "Acting admin (password: FACETRAIL_PASSWORD or terminal)");
      cmd->add_flag("--json", a.json, "JSON output (the result, a refusal or an error)");
      cmd->add_flag("--break-glass", a.break_glass,
                    "No acting admin: for whoever can write the database file; audited "
                    "user.unlock.break_glass");
    }
    cmd->add_option("--name", a.name, "User")->required();
    cmd->add_option("--reason", a.reason, "Why")->required();
    cmd->callback([&result, lock] { result.exit_code = RunLock(a, lock); });
  }

  auto* sessions = admin->add_subcommand("sessions", "Web sessions and API tokens");
  sessions->require_subcommand(1);
  auto* srevoke = sessions->add_subcommand(
      "revoke", "Sign a user out everywhere: revoke every session and API token");
  AddDbUser(srevoke, a);
  srevoke->add_option("--name", a.name, "User to sign out")->required();
  srevoke->add_option("--reason", a.reason, "Why")->required();
  srevoke->callback([&result] { result.exit_code = RunSessionsRevoke(a); });

  auto* config = admin->add_subcommand("config", "Policy configuration (docs/POLICY.md)");
  config->require_subcommand(1);
  auto* show = config->add_subcommand("show", "Print the configuration as JSON");
  AddDatabaseOption(show, a.db, "Database");
  show->callback([&result] { result.exit_code = RunConfigShow(a); });
  auto* set = config->add_subcommand("set", "Replace the configuration from a JSON file");
  AddDbUser(set, a);
  set->add_option("--file", a.file, "JSON as printed by 'config show'")->required();
  set->callback([&result] { result.exit_code = RunConfigSet(a); });
  auto* candidates = config->add_subcommand(
      "candidates",
      "Supervisor or admin: the candidate-list policy every front end uses (list length and "
      "score threshold); audited");
  candidates->add_option("--db", a.db, "Database")->required();
  candidates->add_option("--user", a.user, "Supervisor or admin (password: FACETRAIL_PASSWORD)")
      ->required();
  candidates
      ->add_option("--length", a.list_length,
                   "Candidates per list, at most (default: the current length stays)")
      ->check(CLI::Range(1, 1000));
  candidates->add_option("--threshold", a.threshold, "Lowest similarity listed")
      ->check(CLI::Range(-1.0, 1.0));
  candidates->add_flag("--model-calibration", a.model_calibration,
                       "Use the active model's calibrated threshold (models/*.model.json)");
  candidates->add_option("--reason", a.reason, "Why (e.g. the FPIR and gallery size chosen)")
      ->required();
  candidates->add_flag("--json", a.json, "JSON output (the result, a refusal or an error)");
  candidates->callback([&result] { result.exit_code = RunConfigCandidates(a); });

  auto* migrate = admin->add_subcommand(
      "migrate-db",
      "Copy everything in a SQLite database into an empty PostgreSQL database (ids kept), in "
      "one transaction; audited admin.migrate_db; then verify the copy's audit log");
  migrate->add_option("--from", a.from, "The SQLite database (PATH or sqlite:PATH)")->required();
  migrate
      ->add_option("--to", a.to,
                   "postgresql://USER@HOST:PORT/DB (password: PGPASSWORD or ~/.pgpass)")
      ->required();
  migrate
      ->add_option("--public-key,--audit-public-key", a.public_keys,
                   "Trusted (pinned) checkpoint key to verify the copy with, as for 'audit "
                   "verify'; repeat for old keys")
      ->allow_extra_args(false);
  migrate->add_option("--checkpoints,--checkpoint-log", a.checkpoints,
                      "The external checkpoint log to verify the copy against");
  migrate->add_flag("--json", a.json, "JSON output (the result, or an error)");
  migrate->callback([&result] { result.exit_code = RunMigrateDb(a); });

  auto* purge = admin->add_subcommand(
      "purge-probes", "Purge probe images past the retention period (cases on hold are kept)");
  AddDbUser(purge, a);
  purge->callback([&result] { result.exit_code = RunPurge(a); });
}

}  // namespace facetrail::cli
