// The HTTP server: routes, authentication (session cookie + CSRF, or Bearer token), limits, and
// the translation between JSON and the service layer's use cases. No rule is decided here.
#include "server/server.h"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "audit/checkpointer.h"
#include "audit/report.h"
#include "common/db_listener.h"
#include "common/db_uri.h"
#include "common/file.h"
#include "common/install_paths.h"
#include "common/json_text.h"
#include "common/sha256.h"
#include "common/text.h"
#include "gallery/face_search.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_store.h"
#include "server/internal/http_common.h"
#include "server/internal/http_transport.h"
#include "server/internal/json_views.h"
#include "server/internal/openapi_text.h"
#include "service/audit_access.h"
#include "service/case_file.h"
#include "service/face_view.h"
#include "service/gallery_candidate_source.h"
#include "service/models.h"
#include "service/probe_view.h"
#include "service/retention.h"
#include "service/review.h"
#include "service/search_request.h"
#include "service/search_response_json.h"
#include "service/server_queries.h"
#include "service/sessions.h"
#include "service/user_admin.h"
#include "vision/face_pipeline.h"
#include "vision/models.h"

namespace facetrail::server {

namespace {

using internal::ErrorBody;
using internal::HttpRequest;
using internal::HttpResponse;
using internal::HttpStatusFor;
using nlohmann::json;

constexpr const char* kSessionCookie = "ft_session";

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Database connections with their service::Context, one per concurrent request.
class ContextPool {
 public:
  struct Entry {
    std::unique_ptr<Db> db;
    std::unique_ptr<service::Context> ctx;
  };
  ContextPool(std::string path, service::ContextOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}

  Expected<std::unique_ptr<Entry>> Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        auto e = std::move(free_.back());
        free_.pop_back();
        return e;
      }
    }
    auto e = std::make_unique<Entry>();
    FT_ASSIGN_OR_RETURN(Db db, Db::Open(path_, /*create=*/false));
    e->db = std::make_unique<Db>(std::move(db));
    FT_ASSIGN_OR_RETURN(e->ctx, service::Context::Open(*e->db, options_));
    return e;
  }
  void Release(std::unique_ptr<Entry> e) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(e));
  }

 private:
  std::string path_;
  service::ContextOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> free_;  // guarded by mu_
};

// At most `max` FacePipelines in all (not thread-safe: one request uses one at a time), created on
// first use for the model a request needs. When the gallery switches to another model, idle
// pipelines of the old one make room for the new one.
class PipelinePool {
 public:
  explicit PipelinePool(int max) : max_(max) {}

  Expected<std::unique_ptr<vision::FacePipeline>> Acquire(const vision::PipelineOptions& options) {
    const std::string key = Key(options);
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_[key].empty() || created_ < max_ || AnyOtherFree(key); });
    if (auto& mine = free_[key]; !mine.empty()) {
      auto p = std::move(mine.back());
      mine.pop_back();
      return p;
    }
    std::unique_ptr<vision::FacePipeline> dropped;  // destroyed outside the lock
    if (created_ >= max_) {
      for (auto& [k, list] : free_) {
        if (k != key && !list.empty()) {
          dropped = std::move(list.back());
          list.pop_back();
          --created_;
          break;
        }
      }
    }
    ++created_;
    lock.unlock();
    dropped.reset();
    auto p = vision::FacePipeline::Create(options);
    if (!p.ok()) {
      std::lock_guard relock(mu_);
      --created_;
      cv_.notify_all();
    }
    return p;
  }
  void Release(std::unique_ptr<vision::FacePipeline> p) {
    std::lock_guard lock(mu_);
    free_[Key(p->options())].push_back(std::move(p));
    cv_.notify_all();
  }

 private:
  static std::string Key(const vision::PipelineOptions& o) {
    return o.model + "/" + std::string(vision::AlignModeName(o.align)) +
           (o.flip_average ? "/flip" : "") + (o.two_crops ? "/2crop" : "");
  }
  bool AnyOtherFree(const std::string& key) const {
    for (const auto& [k, list] : free_) {
      if (k != key && !list.empty()) return true;
    }
    return false;
  }
  int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Idle pipelines by model (guarded by mu_).
  std::map<std::string, std::vector<std::unique_ptr<vision::FacePipeline>>> free_;
  int created_ = 0;  // guarded by mu_
};

// The gallery store and its indexes, opened once (both are thread-safe).
class Gallery {
 public:
  Gallery(std::string path, std::string snapshot_dir)
      : path_(std::move(path)), snapshot_dir_(std::move(snapshot_dir)) {}
  Expected<gallery::GalleryStore*> Store() {
    std::lock_guard lock(mu_);
    return StoreLocked();
  }
  Expected<gallery::GalleryIndex*> Index(const vision::TemplateModel& model) {
    std::lock_guard lock(mu_);
    FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, StoreLocked());
    auto& slot = indexes_[model.id + "@" + std::to_string(model.version)];
    if (!slot) {
      FT_ASSIGN_OR_RETURN(slot, gallery::GalleryIndex::Open(*store, service::ToModelRef(model)));
    }
    return slot.get();
  }
  // Brings every open index up to date with the database now (after a change notification).
  // A failure is left for the next search, which checks the change counter and reports it.
  void RefreshAll() {
    std::vector<gallery::GalleryIndex*> open;
    {
      std::lock_guard lock(mu_);
      for (auto& [key, index] : indexes_) open.push_back(index.get());
    }
    for (gallery::GalleryIndex* index : open) (void)index->Refresh();
  }
  // Logs a deferred snapshot rebuild (a full disk) once per change of its text: searches go on
  // exactly from memory meanwhile, but an administrator must free space.
  void LogDeferredRebuild(const gallery::GalleryIndex& index) {
    std::string deferred = index.deferred_rebuild();
    std::lock_guard lock(mu_);
    if (deferred == logged_deferred_) return;
    logged_deferred_ = deferred;
    std::cerr << "facetrail serve: search index "
              << (deferred.empty() ? "snapshot rebuilt; the deferred rebuild is done"
                                   : "snapshot rebuild deferred: " + deferred)
              << '\n';
  }

 private:
  Expected<gallery::GalleryStore*> StoreLocked() {
    if (!store_) {
      gallery::StoreOptions options;
      options.create_if_missing = false;
      options.snapshot_dir = snapshot_dir_;
      FT_ASSIGN_OR_RETURN(store_, gallery::GalleryStore::Open(path_, options));
    }
    return store_.get();
  }
  std::string path_;
  std::string snapshot_dir_;
  std::mutex mu_;
  std::unique_ptr<gallery::GalleryStore> store_;                           // guarded by mu_
  std::map<std::string, std::unique_ptr<gallery::GalleryIndex>> indexes_;  // guarded by mu_
  std::string logged_deferred_;                                            // guarded by mu_
};

// Reads the gallery's active model when the use case asks for an analysis (a refused request
// loads nothing; a model switch takes effect at the next search), borrows a pipeline of that
// model, and gives it back when the request ends.
class PooledAnalyzer final : public service::ProbeAnalyzer {
 public:
  PooledAnalyzer(PipelinePool& pool, Gallery& gallery, const vision::PipelineOptions& base)
      : pool_(pool), gallery_(gallery), base_(base) {}
  ~PooledAnalyzer() override {
    if (pipeline_) pool_.Release(std::move(pipeline_));
  }
  Expected<service::ProbeAnalysis> Analyze(std::span<const uint8_t> bytes) override {
    if (!pipeline_) {
      FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.Store());
      FT_ASSIGN_OR_RETURN(vision::PipelineOptions options,
                          gallery::ActiveModelPipeline(*store, base_));
      FT_ASSIGN_OR_RETURN(pipeline_, pool_.Acquire(options));
      inner_ = service::MakeVisionProbeAnalyzer(*pipeline_);
    }
    return inner_->Analyze(bytes);
  }
  const vision::FacePipeline* pipeline() const { return pipeline_.get(); }

 private:
  PipelinePool& pool_;
  Gallery& gallery_;
  const vision::PipelineOptions& base_;
  std::unique_ptr<vision::FacePipeline> pipeline_;
  std::unique_ptr<service::ProbeAnalyzer> inner_;
};

// The shared gallery index; the threshold and list length are the department's candidate-list
// policy, resolved by the use case (service::RequestSearch).
class GallerySource final : public service::CandidateSource {
 public:
  explicit GallerySource(Gallery& gallery) : gallery_(gallery) {}
  Expected<service::CandidateList> Search(std::span<const float> templ,
                                          const vision::TemplateModel& model, int top_k,
                                          float min_score) override {
    FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.Store());
    FT_ASSIGN_OR_RETURN(gallery::GalleryIndex * index, gallery_.Index(model));
    auto source = service::MakeGalleryCandidateSource(*store, *index);
    auto list = source->Search(templ, model, top_k, min_score);
    gallery_.LogDeferredRebuild(*index);
    return list;
  }

 private:
  Gallery& gallery_;
};

struct Metrics {
  std::atomic<uint64_t> responses[6] = {};  // by status class 1xx..5xx (index 1..5)
  std::atomic<uint64_t> searches{0}, refusals{0}, logins{0}, failed_logins{0}, rate_limited{0};
  std::atomic<uint64_t> analyses{0};
  std::atomic<uint64_t> change_notifications{0};
};

// What an authenticated handler gets.
struct Call {
  service::Context& ctx;
  service::Actor actor;
  service::SignedIn credential;  // the session (cookie) or API token (Bearer) presented
};

bool IsStateChanging(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "DELETE" || method == "PATCH";
}

std::string CookieValue(const HttpRequest& req, const std::string& name) {
  std::string header = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string part = header.substr(pos, end - pos);
    size_t start = part.find_first_not_of(' ');
    if (start != std::string::npos) part = part.substr(start);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    pos = end + 1;
  }
  return "";
}

// Every string in a request body passes common/text.h's check (UTF-8, no control characters but
// tab and line ends, at most kMaxLongTextBytes) before any handler sees it; the use cases check
// their own fields' tighter limits. A failure is a 400 naming the field.
void CheckBodyText(const json& j, const std::string& where) {
  if (j.is_string()) {
    Status s = ValidateText(where, j.get_ref<const std::string&>(), kMaxLongTextBytes,
                            {.multiline = true});
    if (!s.ok()) throw json::type_error::create(302, s.message(), &j);
  } else if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      Status s = ValidateText("a field name", key, kMaxShortTextBytes);
      if (!s.ok()) throw json::type_error::create(302, s.message(), &j);
      CheckBodyText(value, key);
    }
  } else if (j.is_array()) {
    for (const json& item : j) CheckBodyText(item, where);
  }
}

json ParseJsonBody(const HttpRequest& req) {
  if (req.body.empty()) return json::object();
  json j = json::parse(req.body);  // throws: turned into 400 by the route wrapper
  if (!j.is_object()) throw json::type_error::create(302, "the body must be a JSON object", &j);
  CheckBodyText(j, "body");
  return j;
}

std::string Field(const json& j, const char* key) {
  return j.value(key, std::string());
}

// A multipart text field, checked like the strings of a JSON body (400 naming the field).
std::string FormField(const HttpRequest& req, const char* key) {
  if (!req.has_file(key)) return {};
  const std::string& value = req.get_file_value(key).content;
  Status s = ValidateText(key, value, kMaxLongTextBytes, {.multiline = true});
  if (!s.ok()) throw json::type_error::create(302, s.message(), nullptr);
  return value;
}

Expected<int64_t> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 18) return InvalidArgument("bad id '" + text + "'");
  return std::stoll(text);
}

std::string ContentTypeFor(const std::string& path) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(ServerOptions options)
      : options_(std::move(options)),
        limits_(MakeSessionLimits(options_)),
        limiter_(options_.search_burst, options_.searches_per_minute),
        login_limiter_(options_.login_burst, options_.logins_per_minute),
        contexts_(options_.db_path, MakeContextOptions(options_)),
        pipeline_options_(MakePipelineOptions(options_)),
        pipelines_(std::max(1, options_.num_pipelines)),
        gallery_(options_.db_path, options_.snapshot_dir) {}

  ~ServerImpl() override {
    stopping_ = true;
    if (follower_.joinable()) follower_.join();
    if (checkpointer_) checkpointer_->Stop();  // a last checkpoint of what this server logged
  }
  Status Init();
  Status InitAudit();
  Status Bind() override;
  int port() const override { return port_; }
  Status Serve() override;
  void Stop() override {
    if (http_) http_->Stop();
  }
  std::vector<std::string> RegisteredRoutes() const override { return routes_; }

 private:
  using ApiFn = std::function<Expected<json>(const HttpRequest&, HttpResponse&, Call&)>;
  using PublicFn = std::function<Expected<json>(const HttpRequest&, HttpResponse&)>;
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;
  struct Route {
    std::string method;
    std::string doc_path;  // the route template the access log names
    std::regex pattern;
    Handler handler;
  };

  static service::ContextOptions MakeContextOptions(const ServerOptions& o) {
    service::ContextOptions c;
    if (o.fast_password_hashing) c.password_cost = policy::PasswordCost::Minimum();
    return c;
  }
  static service::SessionLimits MakeSessionLimits(const ServerOptions& o) {
    service::SessionLimits l;
    l.session_lifetime_s = o.session_ttl_s;
    l.session_idle_s = o.session_idle_s;
    return l;
  }
  static vision::PipelineOptions MakePipelineOptions(const ServerOptions& o) {
    vision::PipelineOptions p;
    p.models_dir = o.models_dir;
    p.max_pixels = o.max_pixels;
    // Requests run side by side, one pipeline each: one OpenMP thread apiece.
    if (o.num_pipelines > 1) p.network_threads = 1;
    return p;
  }

  void Register(const std::string& method, const std::string& doc_path, const std::string& regex,
                Handler handler);
  void Dispatch(HttpRequest& req, HttpResponse& res);
  void Refuse(int http_status, const std::string& message, HttpResponse& res);
  void Public(const std::string& method, const std::string& doc_path, const std::string& regex,
              PublicFn fn);
  void Api(const std::string& method, const std::string& doc_path, const std::string& regex,
           ApiFn fn);
  void RunApi(const HttpRequest& req, HttpResponse& res, const ApiFn& fn);
  Expected<json> RunApiCall(const HttpRequest& req, HttpResponse& res, const ApiFn& fn);
  Expected<json> AuthenticateAndRun(const HttpRequest& req, HttpResponse& res, const ApiFn& fn,
                                    service::Context& ctx);
  Status CheckOrigin(const HttpRequest& req) const;
  void SendError(HttpResponse& res, const Status& status);
  void AddRoutes();
  void AddSessionRoutes();
  void AddTokenRoutes();
  void AddSearchRoutes();
  void AddReviewRoutes();
  void AddAdminRoutes();
  void AddAuditRoutes();
  void AddSupervisorRoutes();
  void AddStaticRoutes();
  void OnResponse(const HttpRequest& req, HttpResponse& res);
  std::string NewRequestId();
  // `proxy`: the trusted proxy the request came through (empty: none).
  void LogRequest(const std::string& method, const std::string& client, const std::string& proxy,
                  const HttpResponse& res, std::chrono::steady_clock::time_point started);
  std::string MetricsText();
  Expected<std::vector<uint8_t>> ProbeBytes(const HttpRequest& req) const;
  Status TakeSearchToken(const service::Actor& actor);
  void FollowGalleryChanges();

  const ServerOptions options_;
  bool tls_ = false;
  std::unique_ptr<internal::HttpServer> http_;
  std::vector<Route> table_;  // constant after Init
  int port_ = 0;
  std::string openapi_text_;
  std::string web_dir_;              // found by Init
  std::vector<std::string> routes_;  // constant after Init
  const service::SessionLimits limits_;
  internal::RateLimiter limiter_;
  internal::RateLimiter login_limiter_;  // POST /api/v1/login, per client address
  ContextPool contexts_;
  vision::PipelineOptions pipeline_options_;  // models folder, limits; the model: the gallery's
  PipelinePool pipelines_;
  Gallery gallery_;
  Metrics metrics_;
  std::vector<audit::PublicKey> audit_keys_;           // pinned; constant after Init
  std::unique_ptr<audit::Checkpointer> checkpointer_;  // null without a signing key
  const uint32_t request_id_prefix_ = std::random_device{}();
  std::atomic<uint64_t> request_counter_{0};
  std::mutex log_mu_;  // one access-log line at a time on stderr
  // PostgreSQL: the thread that follows the gallery's change notifications (Serve starts it).
  std::thread follower_;
  std::atomic<bool> stopping_{false};
};

Status ServerImpl::Init() {
  // The files a search and the web application need, found now (never the current folder).
  FT_ASSIGN_OR_RETURN(web_dir_, FindDataDir("web", options_.web_dir, "index.html", "--web"));
  if (!FileExists(web_dir_ + "/index.html")) {
    return NotFound(web_dir_ + "/index.html: no web application there (give --web)");
  }
  FT_ASSIGN_OR_RETURN(pipeline_options_.models_dir, vision::ResolveModelsDir(options_.models_dir));
  if (!IsPostgresUri(options_.db_path) && !FileExists(options_.db_path)) {
    return NotFound(options_.db_path +
                    ": no such database (create it with 'facetrail admin init')");
  }
  if (options_.tls_cert_path.empty() != options_.tls_key_path.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  if (options_.openapi_path.empty()) {
    openapi_text_ = internal::kOpenApiText;
  } else {
    FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                        ReadFileBytes(options_.openapi_path, size_t{4} << 20));
    openapi_text_.assign(bytes.begin(), bytes.end());
  }
  if (!json::accept(openapi_text_)) return DataLoss("the OpenAPI description is not valid JSON");
  // Fail now rather than at the first request when the database cannot be opened.
  FT_ASSIGN_OR_RETURN(auto entry, contexts_.Acquire());
  FT_ASSIGN_OR_RETURN(int64_t users, entry->ctx->store().NumUsers());
  contexts_.Release(std::move(entry));
  if (users == 0) {
    return FailedPrecondition(options_.db_path +
                              ": no users yet; run 'facetrail admin init' first");
  }
  {
    FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.Store());
    FT_ASSIGN_OR_RETURN(vision::PipelineOptions active,
                        gallery::ActiveModelPipeline(*store, pipeline_options_));
    FT_RETURN_IF_ERROR(vision::CheckModelFiles(active).WithContext("the gallery's model"));
    // The search index of the active model is opened now, before the server listens: without
    // its snapshot a server reads every template (~3 minutes at 10M on PostgreSQL,
    // docs/PERFORMANCE.md), which the first searches would otherwise wait for, on a server a
    // load balancer already sends them to.
    FT_ASSIGN_OR_RETURN(std::optional<gallery::ModelRef> searched, store->ActiveModel());
    if (searched) {
      const auto start = std::chrono::steady_clock::now();
      FT_ASSIGN_OR_RETURN(gallery::GalleryIndex * index,
                          gallery_.Index(service::ToTemplateModel(*searched)));
      std::cerr << "facetrail serve: search index of " << searched->id << " v" << searched->version
                << " open, " << index->size() << " templates, in "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                << " s\n";
    }
  }
  if (!IsPostgresUri(options_.db_path)) {  // a PostgreSQL server's files are its DBA's business
    for (const std::string& w : OwnerOnlyWarnings(options_.db_path)) {
      std::cerr << "WARNING: " << w << '\n';
    }
  }
  FT_RETURN_IF_ERROR(InitAudit());
  std::optional<internal::TlsPem> tls;
  if (!options_.tls_cert_path.empty()) {
    auto cert = ReadFileBytes(options_.tls_cert_path, size_t{1} << 20);
    auto key = ReadFileBytes(options_.tls_key_path, size_t{1} << 20);
    if (!cert.ok() || !key.ok()) {
      return InvalidArgument("cannot read the TLS certificate or key (" + options_.tls_cert_path +
                             ", " + options_.tls_key_path + ")");
    }
    tls = internal::TlsPem{std::string(cert->begin(), cert->end()),
                           std::string(key->begin(), key->end())};
    tls_ = true;
  }
  std::set<std::string> trusted_proxies;
  for (const std::string& proxy : options_.trusted_proxies) {
    std::optional<std::string> address = internal::CanonicalAddress(proxy);
    if (!address) {
      return InvalidArgument("trusted proxy '" + proxy.substr(0, 64) +
                             "': not an IPv4 or IPv6 address");
    }
    trusted_proxies.insert(*address);
  }
  internal::HttpLimits limits = options_.http;
  // Room for the multipart framing around a probe of max_upload_bytes.
  limits.max_body_bytes = options_.max_upload_bytes + size_t{64} * 1024;
  http_ = std::make_unique<internal::HttpServer>(
      limits, std::move(tls), [this](HttpRequest& req, HttpResponse& res) { Dispatch(req, res); },
      [this](int status, const std::string& message, HttpResponse& res) {
        Refuse(status, message, res);
      },
      [](const HttpRequest& req) {  // the routes that wait for a pipeline
        return req.method == "POST" &&
               (req.path == "/api/v1/searches" || req.path == "/api/v1/probes/analyze");
      },
      std::move(trusted_proxies));
  AddRoutes();
  return Status::Ok();
}

// Pinned keys, the external checkpoint log and the automatic checkpoints (docs/AUDIT.md).
Status ServerImpl::InitAudit() {
  const ServerOptions& o = options_;
  for (const std::string& path : o.audit_public_key_paths) {
    FT_ASSIGN_OR_RETURN(audit::PublicKey key, audit::LoadPinnedPublicKey(path, o.db_path));
    audit_keys_.push_back(key);
  }
  if (!o.audit_checkpoint_log_path.empty()) {
    FT_RETURN_IF_ERROR(audit::CheckOutsideDatabaseFolder(o.audit_checkpoint_log_path, o.db_path,
                                                         "the external checkpoint log"));
  }
  if (audit_keys_.empty()) {
    std::cerr << "WARNING: no audit public key is pinned (--audit-public-key): the audit log's "
                 "checkpoints cannot be checked, and verification reports the log as not "
                 "verified once it has any.\n";
  }
  if (o.audit_signing_key_path.empty()) {
    if (!o.audit_checkpoint_log_path.empty() && !FileExists(o.audit_checkpoint_log_path)) {
      return NotFound(o.audit_checkpoint_log_path +
                      ": no such external checkpoint log (without --audit-signing-key this "
                      "server only reads it)");
    }
    return Status::Ok();
  }
  FT_ASSIGN_OR_RETURN(audit::SigningKey key, audit::LoadSigningKey(o.audit_signing_key_path));
  audit::CheckpointerOptions co;
  co.every_entries = o.audit_checkpoint_entries;
  co.every_seconds = o.audit_checkpoint_seconds;
  co.poll_ms = o.audit_checkpoint_poll_ms;
  co.log = [](const std::string& line) { std::cerr << "facetrail serve: " << line << '\n'; };
  FT_ASSIGN_OR_RETURN(checkpointer_,
                      audit::Checkpointer::Create(o.db_path, key, audit_keys_,
                                                  o.audit_checkpoint_log_path, std::move(co)));
  if (o.audit_checkpoint_log_path.empty()) {
    std::cerr << "WARNING: automatic audit checkpoints stay in the database only: give "
                 "--audit-checkpoint-log FILE (outside the database's folder, append-only) so "
                 "that deleting checkpoints and the newest entries is caught.\n";
  } else if (checkpointer_->ExternalLogIsAppendOnly() != std::optional<bool>(true)) {
    std::cerr << "WARNING: the external checkpoint log " << o.audit_checkpoint_log_path
              << " is not append-only (or the file system cannot say): whoever can write it can "
                 "rewrite it; run: sudo chattr +a "
              << o.audit_checkpoint_log_path << '\n';
  }
  checkpointer_->Start();
  return Status::Ok();
}

Status ServerImpl::Bind() {
  FT_RETURN_IF_ERROR(http_->Bind(options_.host, options_.port));
  port_ = http_->port();
  if (!tls_ && !IsLoopback(options_.host)) {
    std::cerr << "WARNING: facetrail serve is listening on " << options_.host << ":" << port_
              << " WITHOUT TLS. Passwords, session cookies, probe images and candidate lists "
                 "cross the network in clear text. Give --tls-cert and --tls-key, or listen on "
                 "127.0.0.1 behind a TLS proxy.\n";
  }
  return Status::Ok();
}

Status ServerImpl::Serve() {
  if (IsPostgresUri(options_.db_path) && !follower_.joinable()) {
    follower_ = std::thread([this] { FollowGalleryChanges(); });
  }
  return http_->Serve();
}

// Several servers on one PostgreSQL (docs/DEPLOYMENT.md): a seal, expunge or enrolment made
// through another server (or the command line) announces itself on gallery::kGalleryChannel when
// it commits; this server then refreshes its open indexes at once, so its next search does not
// pay for the catch-up. Each search still checks the change counter before it answers: a
// notification missed while the connection was down costs time, never a stale result.
void ServerImpl::FollowGalleryChanges() {
  std::unique_ptr<DbListener> listener;
  std::string reported;  // the last problem logged, so a long outage logs once
  while (!stopping_) {
    if (!listener) {
      auto opened = DbListener::Open(options_.db_path, gallery::kGalleryChannel);
      if (!opened.ok()) {
        if (opened.status().message() != reported) {
          reported = opened.status().message();
          std::cerr << "facetrail serve: not following gallery changes for now (each search "
                       "still checks them): "
                    << reported << '\n';
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      listener = std::move(*opened);
      // Changes made while nobody listened: caught up now.
      gallery_.RefreshAll();
      if (!reported.empty()) {
        std::cerr << "facetrail serve: following gallery changes again\n";
        reported.clear();
      }
    }
    Expected<int> heard = listener->Wait(std::chrono::milliseconds(500));
    if (!heard.ok()) {
      listener.reset();
      continue;
    }
    if (*heard > 0) {
      metrics_.change_notifications += static_cast<uint64_t>(*heard);
      gallery_.RefreshAll();
    }
  }
}

void ServerImpl::Register(const std::string& method, const std::string& doc_path,
                          const std::string& regex, Handler handler) {
  if (!doc_path.empty()) routes_.push_back(method + " " + doc_path);
  // Pages have no documented path: the access log names them by their pattern's plain prefix.
  std::string logged = doc_path;
  if (logged.empty()) logged = regex == "/" ? "/" : regex.substr(0, regex.find('(')) + "{file}";
  table_.push_back(Route{method, std::move(logged), std::regex(regex), std::move(handler)});
}

// Finds the route (HEAD is GET without the body), runs it, adds the headers every response has.
void ServerImpl::Dispatch(HttpRequest& req, HttpResponse& res) {
  const auto started = std::chrono::steady_clock::now();
  res.request_id = NewRequestId();
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  std::string allowed;
  const Route* route = nullptr;
  for (const Route& r : table_) {
    if (!std::regex_match(req.path, req.matches, r.pattern)) continue;
    if (r.method == method) {
      route = &r;
      break;
    }
    allowed += (allowed.empty() ? "" : ", ") + r.method;
  }
  if (route != nullptr) {
    res.log_route = route->doc_path;
    try {
      route->handler(req, res);
    } catch (const std::exception& e) {
      const std::string id = res.request_id, logged_route = res.log_route, user = res.log_user;
      res = HttpResponse{};
      res.request_id = id;
      res.log_route = logged_route;
      res.log_user = user;
      SendError(res, Internal(std::string("uncaught exception: ") + e.what()));
    }
  } else if (!allowed.empty()) {
    SendError(res, InvalidArgument("method not allowed: " + req.method + " " + req.path));
    res.status = 405;
    res.set_header("Allow", allowed);
  } else {
    SendError(res, NotFound("no such resource: " + req.method + " " + req.path));
  }
  OnResponse(req, res);
  LogRequest(req.method, req.remote_addr, req.proxy_addr, res, started);
}

std::string ServerImpl::NewRequestId() {
  // Unique within the process and unlikely to repeat across restarts: a random prefix drawn at
  // start-up and a counter. Not a secret.
  char text[32];
  std::snprintf(text, sizeof text, "%08x-%08llx", request_id_prefix_,
                static_cast<unsigned long long>(++request_counter_));
  return text;
}

// One JSON line: what an administrator needs to follow a request, nothing a request carried
// (no path or query beyond the route template, no header, body, password, token or image).
void ServerImpl::LogRequest(const std::string& method, const std::string& client,
                            const std::string& proxy, const HttpResponse& res,
                            std::chrono::steady_clock::time_point started) {
  if (!options_.access_log_enabled) return;
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  char stamp[80];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  json line{{"time", stamp},
            {"event", "http_request"},
            {"request_id", res.request_id},
            {"method", ValidateText("method", method, 16).ok() ? method : "?"},
            {"route", res.log_route.empty() ? "(no route)" : res.log_route},
            {"status", res.status},
            {"duration_ms", std::round(ms * 10) / 10},
            {"user", res.log_user.empty() ? json() : json(res.log_user)},
            {"client", client},
            {"proxy", proxy.empty() ? json() : json(proxy)}};
  const std::string text = JsonText(line);
  if (options_.access_log) {
    options_.access_log(text);
    return;
  }
  std::lock_guard lock(log_mu_);
  std::cerr << text << '\n' << std::flush;
}

// A request the transport refused before any route saw it.
void ServerImpl::Refuse(int http_status, const std::string& message, HttpResponse& res) {
  Status s = http_status == 413   ? ResourceExhausted(message)
             : http_status == 503 ? Unavailable(message)
             : http_status >= 500 ? Internal(message)
                                  : InvalidArgument(message);
  const auto started = std::chrono::steady_clock::now();
  res.request_id = NewRequestId();
  SendError(res, s);
  res.status = http_status;
  HttpRequest none;
  OnResponse(none, res);
  LogRequest("?", "", "", res, started);
}

void ServerImpl::SendError(HttpResponse& res, const Status& status) {
  res.status = HttpStatusFor(status);
  json body = ErrorBody(status);
  body["error"]["request_id"] = res.request_id;  // the access log's line names it too
  res.set_content(JsonText(body), "application/json");
}

Status ServerImpl::CheckOrigin(const HttpRequest& req) const {
  if (!req.has_header("Origin")) return Status::Ok();
  std::string origin = req.get_header_value("Origin");
  std::string expected = std::string(tls_ ? "https://" : "http://") + req.get_header_value("Host");
  if (origin != expected) {
    return PermissionDenied("csrf_origin: the request comes from another site (" + origin + ")");
  }
  return Status::Ok();
}

void ServerImpl::Public(const std::string& method, const std::string& doc_path,
                        const std::string& regex, PublicFn fn) {
  Register(method, doc_path, regex,
           [this, fn = std::move(fn)](const HttpRequest& req, HttpResponse& res) {
             Expected<json> out = Internal("not run");
             try {
               out = fn(req, res);
             } catch (const json::exception& e) {
               out = InvalidArgument(std::string("request body: ") + e.what());
             }
             if (!out.ok()) return SendError(res, out.status());
             if (!out->is_null()) res.set_content(JsonText(*out), "application/json");
           });
}

void ServerImpl::Api(const std::string& method, const std::string& doc_path,
                     const std::string& regex, ApiFn fn) {
  Register(method, doc_path, regex,
           [this, fn = std::move(fn)](const HttpRequest& req, HttpResponse& res) {
             RunApi(req, res, fn);
           });
}

void ServerImpl::RunApi(const HttpRequest& req, HttpResponse& res, const ApiFn& fn) {
  Expected<json> out = Internal("not run");
  try {
    out = RunApiCall(req, res, fn);
  } catch (const json::exception& e) {
    out = InvalidArgument(std::string("request body: ") + e.what());
  } catch (const std::invalid_argument&) {
    out = InvalidArgument("malformed number in the request");
  } catch (const std::out_of_range&) {
    out = InvalidArgument("number out of range in the request");
  }
  if (!out.ok()) {
    if (service::IsRefusal(out.status()) && out.status().code() == StatusCode::kPermissionDenied) {
      ++metrics_.refusals;
    }
    return SendError(res, out.status());
  }
  if (!out->is_null()) res.set_content(JsonText(*out), "application/json");
}

// Borrows a database context and runs the handler through AuthenticateAndRun.
Expected<json> ServerImpl::RunApiCall(const HttpRequest& req, HttpResponse& res, const ApiFn& fn) {
  FT_ASSIGN_OR_RETURN(auto entry, contexts_.Acquire());
  Expected<json> out = Internal("not run");
  try {
    out = AuthenticateAndRun(req, res, fn, *entry->ctx);
  } catch (...) {
    contexts_.Release(std::move(entry));
    throw;
  }
  contexts_.Release(std::move(entry));
  return out;
}

// Authenticates (Bearer token, else session cookie + CSRF token + Origin for state changes)
// through service::Authenticate and runs the handler.
Expected<json> ServerImpl::AuthenticateAndRun(const HttpRequest& req, HttpResponse& res,
                                              const ApiFn& fn, service::Context& ctx) {
  service::CredentialKind kind = service::CredentialKind::kSession;
  std::string secret;
  std::string auth = req.get_header_value("Authorization");
  if (!auth.empty()) {
    if (auth.rfind("Bearer ", 0) != 0) {
      return Unauthenticated("unauthenticated: Authorization must be 'Bearer <token>'");
    }
    kind = service::CredentialKind::kToken;
    secret = auth.substr(7);
  } else {
    secret = CookieValue(req, kSessionCookie);
  }
  FT_ASSIGN_OR_RETURN(service::SignedIn who, service::Authenticate(ctx, kind, secret, limits_));
  res.log_user = who.actor.name;
  if (kind == service::CredentialKind::kSession && IsStateChanging(req.method)) {
    FT_RETURN_IF_ERROR(CheckOrigin(req));
    if (!internal::SameSecret(req.get_header_value("X-CSRF-Token"), who.csrf_token)) {
      return PermissionDenied("csrf_token: missing or wrong X-CSRF-Token header");
    }
  }
  Call call{ctx, who.actor, who};
  return fn(req, res, call);
}

void ServerImpl::OnResponse(const HttpRequest& req, HttpResponse& res) {
  int cls = res.status / 100;
  if (cls >= 1 && cls <= 5) ++metrics_.responses[cls];
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                 "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Request-Id", res.request_id);
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  if (tls_) res.set_header("Strict-Transport-Security", "max-age=31536000");
  if (req.path.rfind("/api/", 0) == 0) res.set_header("Cache-Control", "no-store");
}

Status ServerImpl::TakeSearchToken(const service::Actor& actor) {
  if (limiter_.Take(std::to_string(actor.user_id))) return Status::Ok();
  ++metrics_.rate_limited;
  return ResourceExhausted("rate_limited: too many searches in a short time; wait a minute");
}

Expected<std::vector<uint8_t>> ServerImpl::ProbeBytes(const HttpRequest& req) const {
  if (!req.is_multipart_form_data() || !req.has_file("probe")) {
    return InvalidArgument("send the probe as multipart/form-data field 'probe'");
  }
  const std::string& content = req.get_file_value("probe").content;
  if (content.empty()) return InvalidArgument("the probe file is empty");
  if (content.size() > options_.max_upload_bytes) {
    return ResourceExhausted("the probe is larger than " +
                             std::to_string(options_.max_upload_bytes) + " bytes");
  }
  return std::vector<uint8_t>(content.begin(), content.end());
}

void ServerImpl::AddRoutes() {
  Public("GET", "/healthz", "/healthz", [](const HttpRequest&, HttpResponse&) -> Expected<json> {
    return json{{"status", "ok"}};
  });
  // Admins and auditors only (issue 14 §6): the counters say how the system is used.
  Api("GET", "/metrics", "/metrics",
      [this](const HttpRequest&, HttpResponse& res, Call& call) -> Expected<json> {
        FT_RETURN_IF_ERROR(service::CheckMayReadMetrics(call.ctx, call.actor));
        res.set_content(MetricsText(), "text/plain; version=0.0.4");
        return json();
      });
  Public("GET", "/api/v1/openapi.json", "/api/v1/openapi\\.json",
         [this](const HttpRequest&, HttpResponse& res) -> Expected<json> {
           res.set_content(openapi_text_, "application/json");
           return json();
         });
  AddSessionRoutes();
  AddTokenRoutes();
  AddSearchRoutes();
  AddReviewRoutes();
  AddAdminRoutes();
  AddAuditRoutes();
  AddSupervisorRoutes();
  AddStaticRoutes();
}

std::string ServerImpl::MetricsText() {
  std::ostringstream out;
  out << "# HELP facetrail_http_responses_total HTTP responses by status class.\n"
      << "# TYPE facetrail_http_responses_total counter\n";
  for (int c = 1; c <= 5; ++c) {
    out << "facetrail_http_responses_total{class=\"" << c << "xx\"} " << metrics_.responses[c]
        << '\n';
  }
  auto counter = [&](const char* name, const char* help, uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n"
        << name << ' ' << value << '\n';
  };
  counter("facetrail_searches_total", "Search requests answered with a candidate list.",
          metrics_.searches);
  counter("facetrail_probe_analyses_total", "Probe analyses (face choice).", metrics_.analyses);
  counter("facetrail_refusals_total", "Requests refused by policy.", metrics_.refusals);
  counter("facetrail_logins_total", "Successful sign-ins.", metrics_.logins);
  counter("facetrail_failed_logins_total", "Failed sign-ins.", metrics_.failed_logins);
  counter("facetrail_rate_limited_total", "Requests refused by the per-user rate limit.",
          metrics_.rate_limited);
  counter("facetrail_gallery_change_notifications_total",
          "Gallery changes announced by other processes (PostgreSQL NOTIFY) and caught up early.",
          metrics_.change_notifications);
  // Sessions neither revoked, expired nor idle, counted in the database (every server process).
  if (auto entry = contexts_.Acquire(); entry.ok()) {
    Expected<int64_t> n = service::CountActiveSessions(*(*entry)->ctx, limits_);
    contexts_.Release(std::move(*entry));
    if (n.ok()) {
      out << "# HELP facetrail_sessions Active sessions.\n# TYPE facetrail_sessions gauge\n"
          << "facetrail_sessions " << *n << '\n';
    }
  }
  return out.str();
}

void ServerImpl::AddSessionRoutes() {
  Public("POST", "/api/v1/login", "/api/v1/login",
         [this](const HttpRequest& req, HttpResponse& res) -> Expected<json> {
           FT_RETURN_IF_ERROR(CheckOrigin(req));
           if (!login_limiter_.Take(req.remote_addr)) {
             ++metrics_.rate_limited;
             return ResourceExhausted(
                 "rate_limited: too many sign-ins from this address; wait a "
                 "minute");
           }
           json body = ParseJsonBody(req);
           FT_ASSIGN_OR_RETURN(auto entry, contexts_.Acquire());
           auto actor = service::Login(*entry->ctx, Field(body, "name"), Field(body, "password"),
                                       req.remote_addr);
           Expected<policy::User> user =
               actor.ok() ? service::CurrentUser(*entry->ctx, *actor) : actor.status();
           Expected<service::IssuedCredential> session =
               user.ok() ? service::CreateSession(*entry->ctx, *actor, limits_) : user.status();
           contexts_.Release(std::move(entry));
           if (!user.ok()) {
             ++metrics_.failed_logins;
             return user.status();
           }
           FT_RETURN_IF_ERROR(session.status());
           res.log_user = actor->name;
           ++metrics_.logins;
           res.set_header("Set-Cookie", std::string(kSessionCookie) + "=" + session->secret +
                                            "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                                            std::to_string(options_.session_ttl_s) +
                                            (tls_ ? "; Secure" : ""));
           return json{{"user", service::UserJson(*user)}, {"csrf_token", session->csrf_token}};
         });
  Api("POST", "/api/v1/logout", "/api/v1/logout",
      [this](const HttpRequest&, HttpResponse& res, Call& call) -> Expected<json> {
        FT_RETURN_IF_ERROR(service::Logout(call.ctx, call.credential));
        res.set_header("Set-Cookie", std::string(kSessionCookie) +
                                         "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" +
                                         (tls_ ? "; Secure" : ""));
        return json{{"signed_out", true}};
      });
  // The sign-in page's question "is anyone signed in here?", answered without a 401 (issue 17:
  // a failed request, and a console error, before anyone signed in). Only the session cookie
  // counts; it is checked exactly as for any other route (service::Authenticate).
  Public("GET", "/api/v1/session", "/api/v1/session",
         [this](const HttpRequest& req, HttpResponse& res) -> Expected<json> {
           const std::string secret = CookieValue(req, kSessionCookie);
           if (secret.empty()) return json{{"signed_in", false}};
           FT_ASSIGN_OR_RETURN(auto entry, contexts_.Acquire());
           auto who = service::Authenticate(*entry->ctx, service::CredentialKind::kSession, secret,
                                            limits_);
           Expected<policy::User> user =
               who.ok() ? service::CurrentUser(*entry->ctx, who->actor) : who.status();
           contexts_.Release(std::move(entry));
           if (!user.ok()) {
             if (user.status().code() == StatusCode::kUnauthenticated) {
               return json{{"signed_in", false}};
             }
             return user.status();
           }
           res.log_user = who->actor.name;
           return json{{"signed_in", true},
                       {"user", service::UserJson(*user)},
                       {"csrf_token", who->csrf_token}};
         });
  Api("GET", "/api/v1/me", "/api/v1/me",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(policy::User user, service::CurrentUser(call.ctx, call.actor));
        json out{{"user", service::UserJson(user)}};
        if (call.credential.kind == service::CredentialKind::kSession) {
          out["csrf_token"] = call.credential.csrf_token;
        }
        return out;
      });
  Api("GET", "/api/v1/config", "/api/v1/config",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_RETURN_IF_ERROR(service::CurrentUser(call.ctx, call.actor).status());
        FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, call.ctx.store().LoadConfig());
        return json{{"home_agency", config.home_agency},
                    {"purposes", config.purposes},
                    {"case_number_regex", config.case_number_regex},
                    {"max_top_k", config.max_top_k},
                    {"candidate_policy",
                     {{"max_list_length", config.max_top_k},
                      {"threshold", config.candidate_threshold ? json(*config.candidate_threshold)
                                                               : json(nullptr)},
                      {"threshold_source",
                       config.candidate_threshold ? "department" : "model calibration"}}},
                    {"conclusion_scale", config.conclusion_scale},
                    {"notice", service::kLeadNotice}};
      });
  Api("PUT", "/api/v1/config/candidates", "/api/v1/config/candidates",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        std::optional<float> threshold;
        if (body.contains("threshold") && !body["threshold"].is_null()) {
          if (!body["threshold"].is_number()) {
            return InvalidArgument(
                "threshold: a number between -1 and 1, or null for the "
                "model's calibration");
          }
          threshold = body["threshold"].get<float>();
        }
        std::optional<int> length;  // absent or null: the current length stays
        if (body.contains("max_list_length") && !body["max_list_length"].is_null()) {
          if (!body["max_list_length"].is_number_integer()) {
            return InvalidArgument("max_list_length: an integer from 1 to 1000");
          }
          length = body["max_list_length"].get<int>();
        }
        FT_ASSIGN_OR_RETURN(policy::PolicyConfig stored,
                            service::SetCandidatePolicy(call.ctx, call.actor, threshold, length,
                                                        Field(body, "reason")));
        return json{{"max_list_length", stored.max_top_k},
                    {"threshold", threshold ? json(*threshold) : json(nullptr)}};
      });
}

json TokenJson(const service::TokenInfo& t) {
  json j{{"id", t.id},
         {"label", t.label},
         {"created_at", t.created_at},
         {"last_used_at", t.last_used_at ? json(*t.last_used_at) : json()},
         {"expires_at", t.expires_at},
         {"active", t.active}};
  if (t.revoked_at) {
    j["revoked_at"] = *t.revoked_at;
    j["revoked_by"] = t.revoked_by.value_or("");
    j["revoke_reason"] = t.revoke_reason.value_or("");
  }
  return j;
}

// API tokens of the caller, and an admin's "sign this user out everywhere".
void ServerImpl::AddTokenRoutes() {
  Api("GET", "/api/v1/tokens", "/api/v1/tokens",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(auto tokens, service::ListMyTokens(call.ctx, call.actor));
        json out = json::array();
        for (const auto& t : tokens) out.push_back(TokenJson(t));
        return json{{"tokens", out}};
      });
  Api("POST", "/api/v1/tokens", "/api/v1/tokens",
      [this](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        service::NewToken t{Field(body, "label"), body.value("expires_days", int64_t{0})};
        FT_ASSIGN_OR_RETURN(service::IssuedCredential token,
                            service::CreateToken(call.ctx, call.credential, t, limits_));
        res.status = 201;
        return json{{"id", token.id},
                    {"token", token.secret},
                    {"label", t.label},
                    {"expires_at", token.expires_at},
                    {"note", "shown once: keep it safe; send as 'Authorization: Bearer <token>'"}};
      });
  Api("DELETE", "/api/v1/tokens/{id}", "/api/v1/tokens/([0-9]{1,18})",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_RETURN_IF_ERROR(service::RevokeMyToken(call.ctx, call.actor, id));
        return json{{"revoked", id}};
      });
  Api("POST", "/api/v1/users/{name}/sessions/revoke",
      "/api/v1/users/([a-z0-9._-]{2,64})/sessions/revoke",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        FT_ASSIGN_OR_RETURN(service::RevokedCredentials r,
                            service::RevokeUserCredentials(
                                call.ctx, call.actor, req.matches[1].str(), Field(body, "reason")));
        return json{{"name", req.matches[1].str()},
                    {"revoked_sessions", r.session_ids.size()},
                    {"revoked_tokens", r.token_ids.size()}};
      });
}

void ServerImpl::AddSearchRoutes() {
  Api("POST", "/api/v1/probes/analyze", "/api/v1/probes/analyze",
      [this](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_RETURN_IF_ERROR(service::CheckMayAnalyzeProbe(call.ctx, call.actor));
        FT_RETURN_IF_ERROR(TakeSearchToken(call.actor));
        FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ProbeBytes(req));
        std::string video = service::ProbeLooksLikeVideo(bytes);
        if (!video.empty()) {
          return InvalidArgument("the probe is a " + video + ": send one still image");
        }
        PooledAnalyzer analyzer(pipelines_, gallery_, pipeline_options_);
        FT_ASSIGN_OR_RETURN(service::ProbeAnalysis analysis, analyzer.Analyze(bytes));
        FT_ASSIGN_OR_RETURN(policy::PolicyConfig config, call.ctx.store().LoadConfig());
        ++metrics_.analyses;
        FT_ASSIGN_OR_RETURN(policy::QualityGate gate,
                            policy::ResolveQualityGate(config.quality, analysis.model_limits));
        return internal::AnalysisJson(analysis, gate, Sha256Hex(bytes));
      });
  Api("POST", "/api/v1/searches", "/api/v1/searches",
      [this](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        FT_RETURN_IF_ERROR(TakeSearchToken(call.actor));
        service::SearchRequest request;
        request.fields = {FormField(req, "case"), FormField(req, "purpose"),
                          FormField(req, "offense"), FormField(req, "justification"),
                          FormField(req, "agency")};
        FT_ASSIGN_OR_RETURN(request.probe_bytes, ProbeBytes(req));
        request.probe_name = req.get_file_value("probe").filename;
        if (std::string face = FormField(req, "face"); !face.empty()) {
          request.face = std::stoi(face);
        }
        if (std::string top = FormField(req, "top_k"); !top.empty()) {
          request.top_k = std::stoi(top);
        }
        PooledAnalyzer analyzer(pipelines_, gallery_, pipeline_options_);
        GallerySource source(gallery_);
        FT_ASSIGN_OR_RETURN(
            service::SearchResponse r,
            service::RequestSearch(call.ctx, call.actor, request, analyzer, source));
        ++metrics_.searches;
        res.status = 201;
        return service::SearchResponseJson(r);
      });
  Api("GET", "/api/v1/searches", "/api/v1/searches",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(auto list, service::MyRequests(call.ctx, call.actor));
        json out = json::array();
        for (const auto& r : list) out.push_back(internal::RequestSummaryJson(r));
        return json{{"requests", out}};
      });
  Api("GET", "/api/v1/searches/{id}", "/api/v1/searches/([0-9]{1,18})",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_ASSIGN_OR_RETURN(service::Lead lead, service::GetLead(call.ctx, call.actor, id));
        return internal::LeadJson(lead);
      });
  // The stored probe, exactly as uploaded, for those the use case lets see it (audited).
  Api("GET", "/api/v1/searches/{id}/probe", "/api/v1/searches/([0-9]{1,18})/probe",
      [](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_ASSIGN_OR_RETURN(service::ProbeView view, service::ViewProbe(call.ctx, call.actor, id));
        res.set_content(std::string(view.bytes.begin(), view.bytes.end()), view.content_type);
        res.set_header("Content-Disposition",
                       "inline; filename=\"probe-" + std::to_string(id) + "\"");
        res.set_header("Cache-Control", "no-store");
        return json();
      });
  Api("GET", "/api/v1/searches/{id}/probe/steps", "/api/v1/searches/([0-9]{1,18})/probe/steps",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_ASSIGN_OR_RETURN(service::ProbeView view, service::ViewProbe(call.ctx, call.actor, id));
        return service::ProbeViewJson(view);
      });
  // The aligned views of the side-by-side screen (service/face_view.h): the probe's face and a
  // candidate photo's, on the same five-point frame; each view audited like the image itself.
  Api("GET", "/api/v1/searches/{id}/probe/aligned", "/api/v1/searches/([0-9]{1,18})/probe/aligned",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_ASSIGN_OR_RETURN(service::AlignedFaceView view,
                            service::ViewAlignedProbe(call.ctx, call.actor, id));
        return service::AlignedFaceViewJson(view);
      });
  Api("GET", "/api/v1/bookings/{booking}/photos/{photo_id}/aligned",
      "/api/v1/bookings/([A-Za-z0-9._-]{1,64})/photos/([0-9]{1,18})/aligned",
      [this](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t photo_id, ParseId(req.matches[2]));
        FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.Store());
        PooledAnalyzer analyzer(pipelines_, gallery_, pipeline_options_);
        FT_ASSIGN_OR_RETURN(
            service::AlignedFaceView view,
            service::ViewAlignedBookingPhoto(call.ctx, call.actor, *store, req.matches[1].str(),
                                             photo_id, analyzer));
        return service::AlignedFaceViewJson(view);
      });
  Api("GET", "/api/v1/bookings/{booking}", "/api/v1/bookings/([A-Za-z0-9._-]{1,64})",
      [this](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.Store());
        FT_ASSIGN_OR_RETURN(
            service::BookingView view,
            service::LookUpBooking(call.ctx, call.actor, *store, req.matches[1].str()));
        return internal::BookingJson(view);
      });
  Api("GET", "/api/v1/bookings/{booking}/photos/{photo_id}",
      "/api/v1/bookings/([A-Za-z0-9._-]{1,64})/photos/([0-9]{1,18})",
      [this](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t photo_id, ParseId(req.matches[2]));
        FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.Store());
        FT_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            service::ReadBookingPhoto(call.ctx, call.actor, *store,
                                                      req.matches[1].str(), photo_id));
        std::string content(bytes.begin(), bytes.end());
        bool png = content.rfind("\x89PNG", 0) == 0;
        res.set_content(content, png ? "image/png" : "image/jpeg");
        return json();
      });
}

void ServerImpl::AddReviewRoutes() {
  Api("GET", "/api/v1/reviews", "/api/v1/reviews",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(auto leads, service::PendingReviews(call.ctx, call.actor));
        json out = json::array();
        for (const auto& l : leads) out.push_back(internal::LeadJson(l));
        return json{{"leads", out}};
      });
  // The case file of a released lead: the same content as the printable page and the signed
  // package, from the one use case (service/case_file.h); audited case.view.
  Api("GET", "/api/v1/searches/{id}/case", "/api/v1/searches/([0-9]{1,18})/case",
      [this](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.Store());
        FT_ASSIGN_OR_RETURN(
            service::CaseFile file,
            service::BuildCaseFile(call.ctx, call.actor, *store, id, service::CaseFileUse::kView));
        res.set_header("Cache-Control", "no-store");
        return service::CaseFileJson(file, /*inline_images=*/true);
      });
  Api("POST", "/api/v1/searches/{id}/examination", "/api/v1/searches/([0-9]{1,18})/examination",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_ASSIGN_OR_RETURN(auto exam, service::ParseExamination(ParseJsonBody(req)));
        FT_RETURN_IF_ERROR(service::Examine(call.ctx, call.actor, id, exam));
        return json{{"request_id", id}, {"status", "examined"}};
      });
  Api("POST", "/api/v1/searches/{id}/verification", "/api/v1/searches/([0-9]{1,18})/verification",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        FT_ASSIGN_OR_RETURN(auto exam, service::ParseExamination(ParseJsonBody(req)));
        FT_RETURN_IF_ERROR(service::Verify(call.ctx, call.actor, id, exam));
        FT_ASSIGN_OR_RETURN(service::Lead lead, service::GetLead(call.ctx, call.actor, id));
        return json{{"request_id", id}, {"status", lead.status}};
      });
  Api("POST", "/api/v1/searches/{id}/decision", "/api/v1/searches/([0-9]{1,18})/decision",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        json body = ParseJsonBody(req);
        if (body.contains("notes") && !body["notes"].is_string()) {
          return InvalidArgument("notes: must be a string");
        }
        FT_ASSIGN_OR_RETURN(service::Resolution r,
                            service::ParseResolution(Field(body, "decision")));
        FT_RETURN_IF_ERROR(service::Resolve(call.ctx, call.actor, id, r, Field(body, "notes")));
        return json{
            {"request_id", id},
            {"decision", service::ResolutionName(r)},
            {"status", r == service::Resolution::kReexamine ? "pending_review" : "released"}};
      });
  Api("POST", "/api/v1/searches/{id}/outcome", "/api/v1/searches/([0-9]{1,18})/outcome",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1]));
        json body = ParseJsonBody(req);
        FT_ASSIGN_OR_RETURN(service::Outcome outcome,
                            service::ParseOutcome(Field(body, "outcome")));
        FT_RETURN_IF_ERROR(
            service::RecordOutcome(call.ctx, call.actor, id, outcome, Field(body, "note")));
        return json{{"request_id", id}, {"outcome", service::OutcomeName(outcome)}};
      });
}

Expected<policy::RoleSet> ParseRoles(const json& body) {
  policy::RoleSet roles;
  for (const json& r : body.value("roles", json::array())) {
    FT_ASSIGN_OR_RETURN(policy::Role role, policy::ParseRole(r.get<std::string>()));
    roles.insert(role);
  }
  return roles;
}

void ServerImpl::AddAdminRoutes() {
  const std::string user_re = "/api/v1/users/([a-z0-9._-]{2,64})";
  Api("GET", "/api/v1/users", "/api/v1/users",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(auto users, service::ListUsersForAdmin(call.ctx, call.actor));
        json out = json::array();
        for (const auto& u : users) out.push_back(service::UserJson(u));
        return json{{"users", out}};
      });
  Api("POST", "/api/v1/users", "/api/v1/users",
      [](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        policy::NewUser u{Field(body, "name"),
                          Field(body, "full_name"),
                          Field(body, "agency"),
                          {},
                          Field(body, "password")};
        FT_ASSIGN_OR_RETURN(u.roles, ParseRoles(body));
        FT_ASSIGN_OR_RETURN(policy::User user, service::AddUser(call.ctx, call.actor, u));
        res.status = 201;
        return json{{"user", service::UserJson(user)}};
      });
  Api("PUT", "/api/v1/users/{name}/roles", user_re + "/roles",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        FT_ASSIGN_OR_RETURN(policy::RoleSet roles, ParseRoles(body));
        FT_RETURN_IF_ERROR(service::SetRoles(call.ctx, call.actor, req.matches[1].str(), roles));
        return json{{"name", req.matches[1].str()}, {"roles", policy::RoleSetText(roles)}};
      });
  Api("POST", "/api/v1/users/{name}/lock", user_re + "/lock",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        bool locked = body.value("locked", true);
        FT_RETURN_IF_ERROR(service::SetLocked(call.ctx, call.actor, req.matches[1].str(), locked,
                                              Field(body, "reason")));
        return json{{"name", req.matches[1].str()}, {"locked", locked}};
      });
  Api("POST", "/api/v1/users/{name}/certificates", user_re + "/certificates",
      [](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        policy::NewCertificate c{Field(body, "course"), Field(body, "number"),
                                 Field(body, "issued"), Field(body, "expires"),
                                 Field(body, "issued_by")};
        if (c.issued_by.empty()) c.issued_by = call.actor.name;
        FT_ASSIGN_OR_RETURN(policy::Certificate cert,
                            service::AddCertificate(call.ctx, call.actor, req.matches[1].str(), c));
        res.status = 201;
        return json{{"certificate", service::CertificateJson(cert)}};
      });
  Api("POST", "/api/v1/users/{name}/certificates/{number}/revoke",
      user_re + "/certificates/([A-Za-z0-9._-]{1,64})/revoke",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        FT_RETURN_IF_ERROR(service::RevokeCertificate(call.ctx, call.actor, req.matches[1].str(),
                                                      req.matches[2].str(), Field(body, "reason")));
        return json{{"revoked", req.matches[2].str()}};
      });
}

// Supervision: quality overrides, case holds (retention), the probe purge. Supervisors decide;
// auditors read; the use cases check the roles and audit every decision and refusal.
void ServerImpl::AddSupervisorRoutes() {
  Api("GET", "/api/v1/quality-overrides", "/api/v1/quality-overrides",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(auto list, service::ListQualityOverrides(call.ctx, call.actor));
        json out = json::array();
        for (const auto& o : list) out.push_back(internal::QualityOverrideJson(o));
        return json{{"overrides", out}};
      });
  Api("POST", "/api/v1/quality-overrides", "/api/v1/quality-overrides",
      [](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        FT_ASSIGN_OR_RETURN(int64_t id, service::ApproveQualityOverride(
                                            call.ctx, call.actor, Field(body, "probe_sha256"),
                                            Field(body, "case"), Field(body, "reason")));
        res.status = 201;
        return json{{"override_id", id}};
      });
  Api("GET", "/api/v1/case-holds", "/api/v1/case-holds",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(auto holds, service::ListCaseHolds(call.ctx, call.actor));
        json out = json::array();
        for (const auto& h : holds) out.push_back(internal::CaseHoldJson(h));
        return json{{"holds", out}};
      });
  Api("POST", "/api/v1/case-holds", "/api/v1/case-holds",
      [](const HttpRequest& req, HttpResponse& res, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        std::string case_number = Field(body, "case");
        FT_RETURN_IF_ERROR(service::SetCaseHold(call.ctx, call.actor, case_number, /*hold=*/true,
                                                Field(body, "reason")));
        res.status = 201;
        return json{{"case", case_number}, {"on_hold", true}};
      });
  Api("POST", "/api/v1/case-holds/{case}/release",
      "/api/v1/case-holds/([A-Za-z0-9._-]{1,64})/release",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        json body = ParseJsonBody(req);
        std::string case_number = req.matches[1].str();
        FT_RETURN_IF_ERROR(service::SetCaseHold(call.ctx, call.actor, case_number, /*hold=*/false,
                                                Field(body, "reason")));
        return json{{"case", case_number}, {"on_hold", false}};
      });
  Api("POST", "/api/v1/probes/purge", "/api/v1/probes/purge",
      [](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_ASSIGN_OR_RETURN(service::PurgeResult r, service::PurgeProbes(call.ctx, call.actor));
        return json{{"purged_sha256", r.purged_sha256}, {"kept_on_hold", r.kept_on_hold}};
      });
}

void ServerImpl::AddAuditRoutes() {
  Api("GET", "/api/v1/audit/report", "/api/v1/audit/report",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        audit::ReportOptions options;
        options.from_date = req.get_param_value("from");
        options.to_date = req.get_param_value("to");
        FT_ASSIGN_OR_RETURN(audit::Report r, service::AuditReport(call.ctx, call.actor, options));
        return json::parse(audit::ReportJson(r));
      });
  Api("GET", "/api/v1/audit/verify", "/api/v1/audit/verify",
      [this](const HttpRequest&, HttpResponse&, Call& call) -> Expected<json> {
        FT_RETURN_IF_ERROR(service::CheckMayReadAudit(call.ctx, call.actor));
        audit::VerifyOptions options;
        options.public_keys = audit_keys_;
        options.require_checkpoint = !audit_keys_.empty();
        bool external_unreadable = false;
        if (!options_.audit_checkpoint_log_path.empty()) {
          auto cps = audit::ReadCheckpointFile(options_.audit_checkpoint_log_path);
          if (cps.ok()) {
            options.external_checkpoints = std::move(*cps);
          } else {
            std::cerr << "facetrail serve: audit verify: " << cps.status().ToString() << '\n';
            external_unreadable = true;
          }
        }
        FT_ASSIGN_OR_RETURN(audit::VerifyReport r, audit::Verify(call.ctx.db(), options));
        if (external_unreadable) {  // no path in a response: the server's log names it
          r.problems.push_back({audit::ProblemKind::kUnverified, 1,
                                "the external checkpoint log cannot be read (the server's log "
                                "says why), so deleted checkpoints and entries cannot be ruled "
                                "out"});
        }
        json out = audit::VerifyReportJson(r);
        out["external_log"] = !options_.audit_checkpoint_log_path.empty();
        out["automatic_checkpoints"] = !checkpointer_                 ? "off"
                                       : checkpointer_->status().ok() ? "running"
                                                                      : "stopped";
        if (checkpointer_ && !checkpointer_->status().ok()) {
          out["warnings"].push_back("automatic checkpoints stopped: " +
                                    checkpointer_->status().message());
        }
        return out;
      });
  Api("GET", "/api/v1/audit/export", "/api/v1/audit/export",
      [](const HttpRequest& req, HttpResponse&, Call& call) -> Expected<json> {
        int64_t from = 1, to = 0;
        if (req.has_param("from_seq")) from = std::stoll(req.get_param_value("from_seq"));
        if (req.has_param("to_seq")) to = std::stoll(req.get_param_value("to_seq"));
        FT_ASSIGN_OR_RETURN(auto entries, service::ExportAuditLog(call.ctx, call.actor, from, to));
        json out = json::array();
        for (const audit::Entry& e : entries) out.push_back(internal::EntryJson(e));
        return json{{"entries", out}};
      });
}

void ServerImpl::AddStaticRoutes() {
  const std::string web = web_dir_;
  auto serve_file = [this, web](const std::string& name, HttpResponse& res) {
    auto bytes = ReadFileBytes(web + "/" + name, size_t{4} << 20);
    if (!bytes.ok()) return SendError(res, NotFound("no such page: " + name));
    res.set_content(std::string(bytes->begin(), bytes->end()), ContentTypeFor(name));
  };
  Register("GET", "", "/",
           [serve_file](const HttpRequest&, HttpResponse& res) { serve_file("index.html", res); });
  // Only plain names: no '/', no "..", so nothing outside web/ can be named.
  Register("GET", "", "/app/([A-Za-z0-9_-]{1,64}\\.(?:html|css|js|svg|png))",
           [serve_file](const HttpRequest& req, HttpResponse& res) {
             serve_file(req.matches[1].str(), res);
           });
}

}  // namespace

bool IsIpAddress(const std::string& text) {
  return internal::CanonicalAddress(text).has_value();
}

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Expected<std::unique_ptr<Server>> Server::Create(const ServerOptions& options) {
  auto server = std::make_unique<ServerImpl>(options);
  FT_RETURN_IF_ERROR(server->Init());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace facetrail::server
