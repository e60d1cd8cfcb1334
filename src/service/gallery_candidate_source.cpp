#include "service/gallery_candidate_source.h"

namespace facetrail::service {

namespace {

class GalleryCandidateSource final : public CandidateSource {
 public:
  GalleryCandidateSource(gallery::GalleryStore& store, gallery::GalleryIndex& index)
      : store_(store), index_(index) {}

  Expected<CandidateList> Search(std::span<const float> templ, const vision::TemplateModel& model,
                                 int top_k, float min_score) override {
    const gallery::ModelRef& own = index_.model();
    if (own.id != model.id || own.version != model.version) {
      return FailedPrecondition("the probe template was made by model " + model.id + " v" +
                                std::to_string(model.version) + " but the gallery index holds " +
                                own.id + " v" + std::to_string(own.version));
    }
    search::SearchOptions options;
    options.k = top_k;
    options.min_score = min_score;
    FT_ASSIGN_OR_RETURN(auto hits, index_.Search(templ, options));
    FT_ASSIGN_OR_RETURN(int64_t counter, store_.ChangeCounter());
    CandidateList list;
    list.model = model;
    list.gallery_version = store_.gallery_id() + "@" + std::to_string(counter);
    list.threshold = min_score;
    for (const gallery::Candidate& h : hits) {
      list.candidates.push_back(
          {h.rank, h.owner.booking_number, h.owner.template_id, h.owner.photo_id, h.score});
    }
    return list;
  }

 private:
  gallery::GalleryStore& store_;
  gallery::GalleryIndex& index_;
};

}  // namespace

std::unique_ptr<CandidateSource> MakeGalleryCandidateSource(gallery::GalleryStore& store,
                                                            gallery::GalleryIndex& index) {
  return std::make_unique<GalleryCandidateSource>(store, index);
}

}  // namespace facetrail::service
