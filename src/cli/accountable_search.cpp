// The accountable face search: `facetrail search ... --user NAME --case ... --probe IMG`.
// Parsing and printing only: every rule and the audit entry are in service::RequestSearch.
// The vision pipeline and the gallery index are loaded only once the request has passed the
// policy checks, so a refused request costs no model loading.
#include <sys/stat.h>

#include <iomanip>
#include <iostream>
#include <optional>

#include "cli/accountability_cli.h"
#include "cli/commands.h"
#include "common/file.h"
#include "common/json_text.h"
#include "gallery/face_search.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_store.h"
#include "service/gallery_candidate_source.h"
#include "service/models.h"
#include "service/search_request.h"
#include "service/search_response_json.h"

namespace facetrail::cli {

namespace {

constexpr size_t kMaxProbeBytes = size_t{64} << 20;

// The gallery, opened at the first use (after the policy checks passed).
class LazyGallery {
 public:
  LazyGallery(std::string db, std::string snapshot_dir)
      : db_(std::move(db)), snapshot_dir_(std::move(snapshot_dir)) {}
  Expected<gallery::GalleryStore*> store() {
    if (!store_) {
      gallery::StoreOptions options;
      options.create_if_missing = false;
      options.snapshot_dir = snapshot_dir_;
      FT_ASSIGN_OR_RETURN(store_, gallery::GalleryStore::Open(db_, options));
    }
    return store_.get();
  }
  gallery::GalleryStore* opened() { return store_.get(); }

 private:
  std::string db_;
  std::string snapshot_dir_;
  std::unique_ptr<gallery::GalleryStore> store_;
};

// The pipeline of the gallery's active model.
class LazyAnalyzer final : public service::ProbeAnalyzer {
 public:
  LazyAnalyzer(std::string models_dir, LazyGallery& gallery)
      : models_dir_(std::move(models_dir)), gallery_(gallery) {}
  Expected<service::ProbeAnalysis> Analyze(std::span<const uint8_t> bytes) override {
    if (!inner_) {
      FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.store());
      vision::PipelineOptions base;
      base.models_dir = models_dir_;
      FT_ASSIGN_OR_RETURN(auto options, gallery::ActiveModelPipeline(*store, base));
      FT_ASSIGN_OR_RETURN(pipeline_, vision::FacePipeline::Create(options));
      inner_ = service::MakeVisionProbeAnalyzer(*pipeline_);
    }
    return inner_->Analyze(bytes);
  }
  const vision::FacePipeline* pipeline() const { return pipeline_.get(); }

 private:
  std::string models_dir_;
  LazyGallery& gallery_;
  std::unique_ptr<vision::FacePipeline> pipeline_;
  std::unique_ptr<service::ProbeAnalyzer> inner_;
};

// The gallery, opened on first use; the threshold and list length are the department's
// candidate-list policy, resolved by the use case (service::RequestSearch).
class LazyGallerySource final : public service::CandidateSource {
 public:
  explicit LazyGallerySource(LazyGallery& gallery) : gallery_(gallery) {}
  Expected<service::CandidateList> Search(std::span<const float> templ,
                                          const vision::TemplateModel& model, int top_k,
                                          float min_score) override {
    if (!inner_) {
      FT_ASSIGN_OR_RETURN(gallery::GalleryStore * store, gallery_.store());
      FT_ASSIGN_OR_RETURN(
          index_, gallery::GalleryIndex::Open(*store, {model.id, model.version, model.dim}));
      inner_ = service::MakeGalleryCandidateSource(*store, *index_);
    }
    return inner_->Search(templ, model, top_k, min_score);
  }
  gallery::GalleryStore* store() { return gallery_.opened(); }

 private:
  LazyGallery& gallery_;
  std::unique_ptr<gallery::GalleryIndex> index_;
  std::unique_ptr<service::CandidateSource> inner_;
};

bool IsStream(const std::string& probe) {
  if (probe == "-" || probe.find("://") != std::string::npos) return true;
  struct stat st {};
  return ::stat(probe.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
}

void PrintText(const service::SearchResponse& r, LazyGallerySource& source) {
  std::cout << r.notice << "\nrequest " << r.request_id << ", case " << r.case_number
            << ", probe sha256 " << r.probe_sha256 << "\nmodel " << r.list.model.id << " v"
            << r.list.model.version << ", gallery " << r.list.gallery_version
            << (r.quality_override_used ? ", quality override used" : "")
            << "\ncandidate-list policy: at most " << r.list.max_list_length
            << " candidates scoring at least " << r.list.threshold << " ("
            << r.list.threshold_source << ")\n"
            << service::ProbeExpectationText(r.expected_fnir) << '\n';
  for (const service::ProcessingStep& st : r.steps) {
    if (st.enhancement) {
      std::cout << "ENHANCEMENT applied to the probe: " << st.kind << " " << st.params << " ("
                << st.why << ")\n";
    }
  }
  if (r.list.candidates.empty()) std::cout << "no candidate above the threshold\n";
  for (const service::Candidate& c : r.list.candidates) {
    std::string name;
    if (source.store()) {
      if (auto b = source.store()->GetBooking(c.booking_number); b.ok()) name = b->name;
    }
    std::cout << std::setw(4) << c.rank << "  " << std::left << std::setw(16) << c.booking_number
              << std::setw(30) << (name + " ") << std::right << std::fixed << std::setprecision(4)
              << c.score << '\n';
  }
  std::cout << "status " << r.status << ": two examiners must review this list ('facetrail "
            << "review') before it is released\n"
            << r.notice << '\n';
}

}  // namespace

void AddAccountableSearchOptions(CLI::App& search, AccountableSearchArgs& a) {
  search.add_option("--user", a.user,
                    "Searcher (password: FACETRAIL_PASSWORD or terminal); makes the search "
                    "accountable: the options below are then required");
  search.add_option("--case", a.case_number, "Case number (configured format)");
  search.add_option("--purpose", a.purpose, "Purpose, from the configured list");
  search.add_option("--offense", a.offense, "Offence type");
  search.add_option("--justification", a.justification, "Written justification");
  search.add_option("--agency", a.agency, "Requesting agency (must be the home agency)");
}

int RunAccountableSearch(const AccountableSearchArgs& a, const SearchInputs& in) {
  auto s = OpenAndLogin(in.db, a.user);
  if (!s.ok()) return Finish(s.status(), in.json);
  service::SearchRequest request;
  request.fields = {a.case_number, a.purpose, a.offense, a.justification, a.agency};
  request.probe_name = in.probe;
  if (in.min_score) {
    return Finish(InvalidArgument("--min-score: under accountability the department's "
                                  "candidate-list policy sets the threshold ('facetrail admin "
                                  "config show'; docs/POLICY.md)"),
                  in.json);
  }
  if (in.top > 0) request.top_k = in.top;
  request.face = in.face;
  if (IsStream(in.probe)) {
    request.origin = service::ProbeOrigin::kStream;
  } else {
    auto bytes = ReadFileBytes(in.probe, kMaxProbeBytes);
    if (bytes.ok()) {
      request.probe_bytes = std::move(*bytes);
    } else {
      request.probe_error = bytes.status();  // audited by the use case, then reported
    }
  }
  LazyGallery gallery(in.db, in.snapshot_dir);
  LazyAnalyzer analyzer(in.models_dir, gallery);
  LazyGallerySource source(gallery);
  auto r = service::RequestSearch(*s->ctx, s->actor, request, analyzer, source);
  if (!r.ok()) return Finish(r.status(), in.json);
  if (in.json) {
    std::cout << JsonText(service::SearchResponseJson(*r), 2) << '\n';
  } else {
    PrintText(*r, source);
  }
  return 0;
}

int RefuseUnaccountableSearch(const std::string& db, bool json) {
  auto under = UnderAccountability(db);
  if (!under.ok()) return Finish(under.status(), json);
  if (!*under) return 0;  // a development or evaluation gallery: nobody to account for
  return Finish(RefuseWithoutUser(db, "search.refused", "case:", "search",
                                  "this database is under accountability ('admin init' ran): a "
                                  "search needs --user, --case, --purpose, --offense, "
                                  "--justification and --agency"),
                json);
}

void RegisterAccountabilityCommands(CLI::App& app, CommandResult& result) {
  RegisterAdminCommands(app, result);
  RegisterReviewCommands(app, result);
  RegisterAuditCommands(app, result);
}

}  // namespace facetrail::cli
