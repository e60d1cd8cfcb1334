// `facetrail serve`: runs the HTTP API and web application (src/server/, docs/SERVER.md).
#include <algorithm>
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "server/server.h"

namespace facetrail::cli {

namespace {

struct ServeArgs {
  std::string config;
  std::string db, listen = "127.0.0.1:8080", models_dir, tls_cert, tls_key, web_dir;
  std::string snapshot_dir;  // gallery::StoreOptions::snapshot_dir
  int pipelines = 2;
  double searches_per_minute = 30, search_burst = 10;
  double logins_per_minute = 30, login_burst = 10;
  int session_minutes = 8 * 60, idle_minutes = 30;
  std::vector<std::string> audit_public_keys;
  std::vector<std::string> trusted_proxies;
  std::string audit_signing_key, audit_checkpoint_log;
  int64_t audit_checkpoint_entries = 100, audit_checkpoint_minutes = 5;
  server::HttpLimits http;
};

server::Server* g_server = nullptr;

void OnSignal(int) {
  if (g_server != nullptr) g_server->Stop();
}

Expected<std::pair<std::string, int>> SplitListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return InvalidArgument("--listen must be HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return InvalidArgument("--listen: bad port");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return InvalidArgument("--listen: bad port");
  return std::make_pair(host, port);
}

// Reads `path` (CLI11's configuration format: `name = value` per line, `#` comments, a repeated
// option as `name = ["a", "b"]`, optionally under a `[serve]` section) into the options of
// `serve` that neither the command line nor the environment set: those win over the file.
// Names are the long options without "--" (`listen`, `audit-public-key`). An unknown name, a
// section other than [serve] or a value an option refuses is an error naming the file.
Status ApplyConfigFile(CLI::App* serve, const std::string& path) {
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    return NotFound(path + ": cannot read the configuration file (" + e.what() + ")");
  }
  for (const CLI::ConfigItem& item : items) {
    if (item.name == "++" || item.name == "--") continue;  // section markers
    if (!item.parents.empty() && !(item.parents.size() == 1 && item.parents[0] == "serve")) {
      return InvalidArgument(path + ": section [" + item.parents[0] +
                             "] is not [serve]; every setting is a serve option");
    }
    std::string name = item.name;
    std::replace(name.begin(), name.end(), '_', '-');
    CLI::Option* opt = nullptr;
    if (name != "config" && name != "help") {
      try {
        opt = serve->get_option("--" + name);
      } catch (const CLI::OptionNotFound&) {
        opt = nullptr;
      }
    }
    if (opt == nullptr) {
      return InvalidArgument(path + ": unknown setting '" + item.name +
                             "' (the settings are serve's long options without --; facetrail "
                             "serve --help)");
    }
    if (opt->count() > 0) continue;  // the command line or the environment gave it
    try {
      for (const std::string& value : item.inputs) opt->add_result(value);
      opt->run_callback();
    } catch (const CLI::Error& e) {
      return InvalidArgument(path + ": " + item.name + ": " + e.what());
    }
  }
  return Status::Ok();
}

int RunServe(const ServeArgs& a) {
  if (a.db.empty()) {
    return PrintError(
        InvalidArgument("--db is required (on the command line or as db = PATH in "
                        "--config)"));
  }
  auto hp = SplitListen(a.listen);
  if (!hp.ok()) return PrintError(hp.status());
  if (a.idle_minutes > a.session_minutes) {
    return PrintError(InvalidArgument("--idle-minutes (" + std::to_string(a.idle_minutes) +
                                      ") must not exceed --session-minutes (" +
                                      std::to_string(a.session_minutes) + ")"));
  }
  server::ServerOptions o;
  o.db_path = a.db;
  o.snapshot_dir = a.snapshot_dir;
  o.models_dir = a.models_dir;
  o.host = hp->first;
  o.port = hp->second;
  o.tls_cert_path = a.tls_cert;
  o.tls_key_path = a.tls_key;
  o.web_dir = a.web_dir;
  o.num_pipelines = a.pipelines;
  o.searches_per_minute = a.searches_per_minute;
  o.search_burst = a.search_burst;
  o.logins_per_minute = a.logins_per_minute;
  o.login_burst = a.login_burst;
  o.session_ttl_s = a.session_minutes * 60;
  o.session_idle_s = a.idle_minutes * 60;
  o.audit_public_key_paths = a.audit_public_keys;
  o.audit_signing_key_path = a.audit_signing_key;
  o.audit_checkpoint_log_path = a.audit_checkpoint_log;
  o.audit_checkpoint_entries = a.audit_checkpoint_entries;
  o.audit_checkpoint_seconds = a.audit_checkpoint_minutes * 60;
  o.http = a.http;
  o.trusted_proxies = a.trusted_proxies;
  auto s = server::Server::Create(o);
  if (!s.ok()) return PrintError(s.status());
  if (Status bound = (*s)->Bind(); !bound.ok()) return PrintError(bound);
  g_server = s->get();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::cerr << "facetrail serve: " << (o.tls_cert_path.empty() ? "http" : "https") << "://"
            << o.host << ":" << (*s)->port() << "/ (database " << o.db_path << "); Ctrl-C stops\n";
  Status served = (*s)->Serve();
  g_server = nullptr;
  return served.ok() ? 0 : PrintError(served);
}

}  // namespace

void RegisterServeCommand(CLI::App& app, CommandResult& result) {
  static ServeArgs args;
  CLI::App* serve = app.add_subcommand("serve", "Run the HTTP API and the web application");
  serve->add_option("--config", args.config,
                    "Read settings from this file (name = value, the long options below without "
                    "--; the command line wins; /etc/facetrail/facetrail.conf when installed)");
  AddDatabaseOption(serve, args.db, "Gallery database (after 'facetrail admin init')")
      ->required(false);
  serve->add_option("--listen", args.listen, "HOST:PORT to listen on")->capture_default_str();
  AddSnapshotDirOption(serve, args.snapshot_dir);
  serve->add_option("--models", args.models_dir, kModelsOptionHelp)->envname("FACETRAIL_MODELS");
  serve->add_option("--tls-cert", args.tls_cert, "PEM certificate: serve HTTPS");
  serve->add_option("--tls-key", args.tls_key, "PEM private key for --tls-cert");
  serve->add_option("--web", args.web_dir,
                    "Folder of the web application (default: /usr/share/facetrail/web, else web/ "
                    "in the checkout the binary was built in; never the current folder)");
  serve->add_option("--pipelines", args.pipelines, "Face pipelines loaded at most (memory)")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  serve
      ->add_option("--searches-per-minute", args.searches_per_minute,
                   "Per-user rate limit on probe analyses and searches (token bucket refill)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve->add_option("--search-burst", args.search_burst, "Per-user burst (token bucket size)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e9));
  serve
      ->add_option("--logins-per-minute", args.logins_per_minute,
                   "Per-client-address rate limit on POST /api/v1/login (token bucket refill)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--login-burst", args.login_burst,
                   "Per-client-address sign-in burst (token bucket size)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e9));
  serve
      ->add_option("--session-minutes", args.session_minutes,
                   "A sign-in ends this long after it began (one shift by default)")
      ->capture_default_str()
      ->check(CLI::Range(5, 24 * 60));
  serve
      ->add_option("--idle-minutes", args.idle_minutes,
                   "A sign-in ends after this long without a request (an unattended screen)")
      ->capture_default_str()
      ->check(CLI::Range(1, 24 * 60));
  serve
      ->add_option("--audit-public-key", args.audit_public_keys,
                   "Trusted (pinned) audit checkpoint key, a .pub kept outside the database's "
                   "folder; repeat for old keys (docs/AUDIT.md)")
      ->allow_extra_args(false);
  serve->add_option("--audit-signing-key", args.audit_signing_key,
                    "Secret checkpoint key (mode 0600, its .pub pinned): sign automatic "
                    "checkpoints");
  serve->add_option("--audit-checkpoint-log", args.audit_checkpoint_log,
                    "Append-only file outside the database's folder: automatic checkpoints are "
                    "appended to it, verification reads it (chattr +a)");
  serve
      ->add_option("--audit-checkpoint-entries", args.audit_checkpoint_entries,
                   "Automatic checkpoint after this many new audit entries")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  serve
      ->add_option("--audit-checkpoint-minutes", args.audit_checkpoint_minutes,
                   "... or after this many minutes when any entry is new")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 60));
  serve->add_option("--workers", args.http.workers, "Threads that run complete requests")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  serve
      ->add_option("--heavy-workers", args.http.heavy_workers,
                   "Of the workers, at most this many run searches and probe analyses at once; "
                   "the others stay free for sign-ins, pages and reviews (0: workers - 2)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  serve
      ->add_option("--max-connections", args.http.max_connections,
                   "Open connections at most (more are closed at once)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000u));
  serve
      ->add_option("--max-connections-per-address", args.http.max_connections_per_address,
                   "Open connections per peer address at most (--trusted-proxy peers exempt)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100'000u));
  serve
      ->add_option("--trusted-proxy", args.trusted_proxies,
                   "Address (IPv4/IPv6) of a reverse proxy whose X-Forwarded-For names the client; "
                   "its connections are not capped per address; repeat for several "
                   "(docs/SERVER.md)")
      ->allow_extra_args(false)
      ->check(CLI::Validator(
          [](std::string& value) {
            return server::IsIpAddress(value)
                       ? std::string()
                       : "'" + value + "' is not an IPv4 or IPv6 address (no port, no name)";
          },
          "ADDRESS"));
  serve
      ->add_option("--keep-alive-seconds", args.http.idle_timeout_s,
                   "A connection that sends nothing for this long is closed")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3600u));
  serve->callback([serve, &result] {
    if (!args.config.empty()) {
      if (Status s = ApplyConfigFile(serve, args.config); !s.ok()) {
        result.exit_code = PrintError(s);
        return;
      }
    }
    result.exit_code = RunServe(args);
  });
}

}  // namespace facetrail::cli
