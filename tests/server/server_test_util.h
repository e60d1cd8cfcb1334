// A real facetrail server on 127.0.0.1 (ephemeral port) over a fresh database with a first admin,
// in this process, and an httplib::Client speaking JSON to it as a browser or script would.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
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

  // Hook for fixtures that add data (a gallery) before the server starts.
  void StartServer(ServerOptions options = {}) {
    options.db_path = db_path_;
    options.host = "127.0.0.1";
    options.port = 0;
    options.models_dir = FACETRAIL_MODELS_DIR;
    options.fast_password_hashing = true;
    options.num_pipelines = 1;
    if (options.max_upload_bytes == ServerOptions{}.max_upload_bytes) {
      options.max_upload_bytes = size_t{2} << 20;
    }
    auto server = Server::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Bind().ok());
    thread_ = std::thread([this] { (void)server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(120, 0);
    for (int i = 0; i < 200 && !client_->Get("/healthz"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void StopServer() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    client_.reset();
    server_.reset();
  }

  static Reply ToReply(const httplib::Result& r) {
    Reply out;
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.headers = r->headers;
    out.body = json::parse(r->body, nullptr, false);
    return out;
  }

  static httplib::Headers HeadersFor(const Caller& c, bool with_csrf = true) {
    httplib::Headers h;
    if (!c.cookie.empty()) h.emplace("Cookie", c.cookie);
    if (!c.csrf.empty() && with_csrf) h.emplace("X-CSRF-Token", c.csrf);
    if (!c.bearer.empty()) h.emplace("Authorization", "Bearer " + c.bearer);
    return h;
  }

  Reply Send(const std::string& method, const std::string& path, const Caller& c,
             const json& body = json::object(), httplib::Headers extra = {}) {
    httplib::Headers h = HeadersFor(c);
    for (auto& kv : extra) {
      h.erase(kv.first);
      h.insert(kv);
    }
    if (method == "GET") return ToReply(client_->Get(path.c_str(), h));
    std::string text = body.dump();
    if (method == "POST") return ToReply(client_->Post(path.c_str(), h, text, "application/json"));
    if (method == "PUT") return ToReply(client_->Put(path.c_str(), h, text, "application/json"));
    return ToReply(client_->Delete(path.c_str(), h, text, "application/json"));
  }

  Reply Upload(const std::string& path, const Caller& c, const std::string& probe,
               std::map<std::string, std::string> fields = {}) {
    httplib::MultipartFormDataItems items;
    items.push_back({"probe", probe, "probe.jpg", "image/jpeg"});
    for (auto& [k, v] : fields) items.push_back({k, v, "", ""});
    return ToReply(client_->Post(path.c_str(), HeadersFor(c), items));
  }

  Caller Login(const std::string& name, const std::string& password) {
    Reply r = Send("POST", "/api/v1/login", {}, {{"name", name}, {"password", password}});
    EXPECT_EQ(r.status, 200) << name << ": " << r.raw;
    Caller c;
    for (auto& [k, v] : r.headers) {
      if (k == "Set-Cookie") c.cookie = v.substr(0, v.find(';'));
    }
    if (r.body.is_object()) c.csrf = r.body.value("csrf_token", "");
    return c;
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
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace facetrail::server::testing
