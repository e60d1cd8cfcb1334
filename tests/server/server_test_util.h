// A real facetrail server on 127.0.0.1 (ephemeral port) over a fresh database with a first admin,
// in this process, and an httplib::Client speaking JSON to it as a browser or script would.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/db.h"
#include "server/server.h"
#include "service/context.h"
#include "service/user_admin.h"

namespace facetrail::server::testing {

using nlohmann::json;

inline constexpr const char* kAgency = "Metro PD";
inline constexpr const char* kCase = "MPD-2026-0042";
inline constexpr const char* kAdminPassword = "admin-password-1";

struct Reply {
  int status = 0;
  json body;
  std::string raw;
  httplib::Headers headers;
  std::string Code() const {
    return body.is_object() && body.contains("error") ? body["error"].value("code", "") : "";
  }
};

// Who is calling: a session (cookie + CSRF token), a bearer token, or nobody.
struct Caller {
  std::string cookie, csrf, bearer;
};

inline Reply ToReply(const httplib::Result& r) {
  Reply out;
  if (!r) return out;
  out.status = r->status;
  out.raw = r->body;
  out.headers = r->headers;
  out.body = json::parse(r->body, nullptr, false);
  return out;
}

inline httplib::Headers HeadersFor(const Caller& c, bool with_csrf = true) {
  httplib::Headers h;
  if (!c.cookie.empty()) h.emplace("Cookie", c.cookie);
  if (!c.csrf.empty() && with_csrf) h.emplace("X-CSRF-Token", c.csrf);
  if (!c.bearer.empty()) h.emplace("Authorization", "Bearer " + c.bearer);
  return h;
}

// One JSON request as `c` through `client`; `extra` headers replace the caller's.
inline Reply SendVia(httplib::Client& client, const std::string& method, const std::string& path,
                     const Caller& c, const json& body = json::object(),
                     const httplib::Headers& extra = {}) {
  httplib::Headers h = HeadersFor(c);
  for (const auto& kv : extra) {
    h.erase(kv.first);
    h.insert(kv);
  }
  if (method == "GET") return ToReply(client.Get(path.c_str(), h));
  std::string text = body.dump();
  if (method == "POST") return ToReply(client.Post(path.c_str(), h, text, "application/json"));
  if (method == "PUT") return ToReply(client.Put(path.c_str(), h, text, "application/json"));
  return ToReply(client.Delete(path.c_str(), h, text, "application/json"));
}

// Signs in through `client`: the session cookie and CSRF token (empty if refused).
inline Caller LoginVia(httplib::Client& client, const std::string& name,
                       const std::string& password) {
  Reply r = SendVia(client, "POST", "/api/v1/login", {}, {{"name", name}, {"password", password}});
  EXPECT_EQ(r.status, 200) << name << ": " << r.raw;
  Caller c;
  for (auto& [k, v] : r.headers) {
    if (k == "Set-Cookie") c.cookie = v.substr(0, v.find(';'));
  }
  if (r.body.is_object()) c.csrf = r.body.value("csrf_token", "");
  return c;
}

// A server in this process on 127.0.0.1 (ephemeral port) over options.db_path, serving on its
// own thread, and a client speaking to it. The test defaults (models, fast hashing, one pipeline,
// a 2 MiB upload limit unless the caller set one) are applied here.
struct ServerNode {
  std::unique_ptr<Server> server;
  std::thread thread;
  std::unique_ptr<httplib::Client> client;

  ServerNode() = default;
  ServerNode(const ServerNode&) = delete;
  ServerNode& operator=(const ServerNode&) = delete;
  ~ServerNode() { Stop(); }

  void Start(ServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.models_dir = FACETRAIL_MODELS_DIR;
    options.fast_password_hashing = true;
    options.num_pipelines = 1;
    if (options.max_upload_bytes == ServerOptions{}.max_upload_bytes) {
      options.max_upload_bytes = size_t{2} << 20;
    }
    auto created = Server::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    server = std::move(*created);
    ASSERT_TRUE(server->Bind().ok());
    Server* s = server.get();
    thread = std::thread([s] { (void)s->Serve(); });
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    client->set_read_timeout(120, 0);
    for (int i = 0; i < 200 && !client->Get("/healthz"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void Stop() {
    if (server) server->Stop();
    if (thread.joinable()) thread.join();
    client.reset();
    server.reset();
  }

  Reply Send(const std::string& method, const std::string& path, const Caller& c,
             const json& body = json::object(), const httplib::Headers& extra = {}) {
    return SendVia(*client, method, path, c, body, extra);
  }
  Caller Login(const std::string& name, const std::string& password) {
    return LoginVia(*client, name, password);
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "ft-srv-XXXXXX").string();
    dir_ = ::mkdtemp(templ.data());
    db_path_ = db_uri_.empty() ? dir_ + "/facetrail.db" : db_uri_;
    auto db = Db::Open(db_path_, /*create=*/true);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    service::ContextOptions co;
    co.password_cost = policy::PasswordCost::Minimum();
    auto ctx = service::Context::Open(*db, co);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    auto admin = service::InitAdmin(**ctx, {"admin", "Ada Admin", kAdminPassword, kAgency, ""});
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  }

  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }

  // Changes the policy configuration as the first admin would (audited), e.g. before the server
  // starts.
  void ChangePolicy(const std::function<void(policy::PolicyConfig&)>& change) {
    auto db = Db::Open(db_path_, false);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    service::ContextOptions co;
    co.password_cost = policy::PasswordCost::Minimum();
    auto ctx = service::Context::Open(*db, co);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    auto admin = service::Login(**ctx, "admin", kAdminPassword);
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    auto config = (*ctx)->store().LoadConfig();
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    change(*config);
    Status s = service::UpdateConfig(**ctx, *admin, *config);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Hook for fixtures that add data (a gallery) before the server starts.
  void StartServer(ServerOptions options = {}) {
    options.db_path = db_path_;
    node_.Start(std::move(options));
    server_ = node_.server.get();
    client_ = node_.client.get();
  }

  void StopServer() {
    node_.Stop();
    server_ = nullptr;
    client_ = nullptr;
  }

  Reply Send(const std::string& method, const std::string& path, const Caller& c,
             const json& body = json::object(), const httplib::Headers& extra = {}) {
    return SendVia(*client_, method, path, c, body, extra);
  }

  Reply Upload(const std::string& path, const Caller& c, const std::string& probe,
               std::map<std::string, std::string> fields = {}) {
    httplib::MultipartFormDataItems items;
    items.push_back({"probe", probe, "probe.jpg", "image/jpeg"});
    for (auto& [k, v] : fields) items.push_back({k, v, "", ""});
    return ToReply(client_->Post(path.c_str(), HeadersFor(c), items));
  }

  Caller Login(const std::string& name, const std::string& password) {
    return LoginVia(*client_, name, password);
  }

  // Creates a user through the API as the admin; `certified` adds a valid certificate.
  void MakeUser(const Caller& admin, const std::string& name, const std::vector<std::string>& roles,
                bool certified, const std::string& agency = kAgency) {
    Reply r = Send("POST", "/api/v1/users", admin,
                   {{"name", name},
                    {"full_name", name + " Example"},
                    {"agency", agency},
                    {"roles", roles},
                    {"password", name + "-password-1"}});
    ASSERT_EQ(r.status, 201) << r.raw;
    if (certified) {
      r = Send("POST", "/api/v1/users/" + name + "/certificates", admin,
               {{"course", "Facial comparison"},
                {"number", "FC-" + name},
                {"issued", "2026-01-01"},
                {"expires", "2030-12-31"},
                {"issued_by", "State Academy"}});
      ASSERT_EQ(r.status, 201) << r.raw;
    }
  }

  std::string dir_, db_path_;
  // A fixture on another database (a PostgreSQL URI) sets this before ServerTest::SetUp.
  std::string db_uri_;
  ServerNode node_;
  Server* server_ = nullptr;           // node_'s, while it runs
  httplib::Client* client_ = nullptr;  // node_'s, while it runs
};

}  // namespace facetrail::server::testing
