// Recognition models under accountability (service/models.h).
#include "service/models.h"

#include "common/text.h"
#include "gallery/gallery_index.h"
#include "service/internal/guard.h"
#include "service/internal/snapshots.h"

namespace facetrail::service {

namespace {

constexpr int64_t kPruneBatch = 10000;

std::string Subject(const gallery::ModelRef& m) {
  return "model:" + m.id + "/v" + std::to_string(m.version);
}

nlohmann::json ModelJson(const gallery::ModelRef& m) {
  return {{"id", m.id}, {"version", m.version}, {"dim", m.dim}};
}

Status NeedReason(const std::string& reason, const std::string& what) {
  if (IsBlank(reason)) return InvalidArgument(what + " needs a reason (the decision behind it)");
  FT_RETURN_IF_ERROR(ValidateText("reason", reason, kMaxLongTextBytes, {.multiline = true}));
  return Status::Ok();
}

}  // namespace

gallery::ModelRef ToModelRef(const vision::TemplateModel& model) {
  return {model.id, model.version, model.dim};
}

vision::TemplateModel ToTemplateModel(const gallery::ModelRef& model) {
  return {model.id, model.version, model.dim};
}

Expected<gallery::RetemplateSummary> RetemplateGallery(
    Context& ctx, const Actor& actor, const gallery::FaceExtractorFactory& make_extractor,
    const gallery::ModelRef& model, const std::string& reason,
    const gallery::RetemplateOptions& options) {
  const std::string subject = Subject(model);
  FT_RETURN_IF_ERROR(NeedReason(reason, "a retemplate"));
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(
      ctx, actor, {policy::Role::kSupervisor, policy::Role::kAdmin}, "model.refused", subject));
  FT_ASSIGN_OR_RETURN(auto store, gallery::GalleryStore::OpenOn(ctx.db()));
  FT_ASSIGN_OR_RETURN(int64_t missing, store->CountPhotosWithout(model));
  FT_ASSIGN_OR_RETURN(auto active, store->ActiveModel());
  nlohmann::json start{{"model", ModelJson(model)},
                       {"reason", reason},
                       {"photos_without_template", missing},
                       {"gallery_id", store->gallery_id()}};
  if (active) start["active_model"] = ModelJson(*active);
  FT_RETURN_IF_ERROR(
      ctx.log().AppendInOwnTransaction({actor.name, "model.retemplate.start", subject, start}));
  auto summary = gallery::Retemplate(*store, make_extractor, model, options);
  nlohmann::json end{{"model", ModelJson(model)}, {"gallery_id", store->gallery_id()}};
  if (!summary.ok()) {
    end["error"] = summary.status().ToString();
    FT_RETURN_IF_ERROR(
        ctx.log().AppendInOwnTransaction({actor.name, "model.retemplate.failed", subject, end}));
    return summary.status();
  }
  end["photos"] = summary->photos;
  end["added"] = summary->added;
  end["already"] = summary->already;
  end["failed"] = summary->failures.size();
  end["remaining"] = summary->remaining;
  end["stopped"] = summary->stopped;
  end["seconds"] = summary->seconds;
  nlohmann::json failures = nlohmann::json::array();
  for (size_t i = 0; i < summary->failures.size() && i < 100; ++i) {
    const auto& f = summary->failures[i];
    failures.push_back(
        {{"photo_id", f.photo_id}, {"booking", f.booking_number}, {"reason", f.reason}});
  }
  end["failures"] = failures;  // the first 100; the command prints them all
  FT_RETURN_IF_ERROR(
      ctx.log().AppendInOwnTransaction({actor.name, "model.retemplate", subject, end}));
  return summary;
}

Expected<ActivationResult> ActivateModel(Context& ctx, const Actor& actor,
                                         const vision::ModelManifest& manifest,
                                         const vision::TemplateModel& model,
                                         const std::string& reason) {
  const gallery::ModelRef ref = ToModelRef(model);
  const std::string subject = Subject(ref);
  FT_RETURN_IF_ERROR(NeedReason(reason, "activating a model"));
  if (!model.id.starts_with(manifest.id + "/") || model.dim != manifest.dim ||
      model.version != manifest.version) {
    return InvalidArgument("model " + model.id + " is not made by the manifest of '" +
                           manifest.name + "'");
  }
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(
      ctx, actor, {policy::Role::kSupervisor, policy::Role::kAdmin}, "model.refused", subject));
  FT_ASSIGN_OR_RETURN(auto store, gallery::GalleryStore::OpenOn(ctx.db()));
  ActivationResult result;
  result.after = ref;
  Status s = ctx.db().InTransaction([&]() -> Status {
    if (!manifest.calibration) {
      return FailedPrecondition("model '" + manifest.name +
                                "' is not certified: run facetrail eval report --model " +
                                manifest.name + " --calibrate on labelled data first");
    }
    FT_ASSIGN_OR_RETURN(auto active, store->ActiveModel());
    if (active && *active == ref) {
      return FailedPrecondition("model " + ref.id + " is already the active model");
    }
    if (active) result.before = *active;
    FT_RETURN_IF_ERROR(store->SetActiveModel(ref));
    FT_ASSIGN_OR_RETURN(auto stats, store->Stats());
    for (const auto& [m, n] : stats.templates_per_model) {
      if (m == ref) result.photos = n;
    }
    const auto& c = *manifest.calibration;
    nlohmann::json details{{"model", ModelJson(ref)},
                           {"manifest", manifest.name},
                           {"sha256", manifest.sha256},
                           {"reason", reason},
                           {"templates", result.photos},
                           {"calibration",
                            {{"source", c.source},
                             {"candidate_threshold", c.candidate.score},
                             {"candidate_fpir", c.candidate.false_rate},
                             {"compare_threshold", c.compare.score}}},
                           {"gallery_id", store->gallery_id()}};
    if (active) details["before"] = ModelJson(*active);
    return ctx.log().Append({actor.name, "model.activate", subject, std::move(details)}).status();
  });
  if (!s.ok()) return s.WithContext("activate " + ref.id);
  return result;
}

Expected<int64_t> PruneModelTemplates(Context& ctx, const Actor& actor,
                                      const gallery::ModelRef& model, const std::string& reason,
                                      const gallery::StoreOptions& gallery) {
  const std::string subject = Subject(model);
  FT_RETURN_IF_ERROR(NeedReason(reason, "pruning a model's templates"));
  FT_RETURN_IF_ERROR(internal::CheckAnyRole(
      ctx, actor, {policy::Role::kSupervisor, policy::Role::kAdmin}, "model.refused", subject));
  FT_ASSIGN_OR_RETURN(auto store, gallery::GalleryStore::OpenOn(ctx.db()));
  FT_ASSIGN_OR_RETURN(auto active, store->ActiveModel());
  if (active && active->id == model.id && active->version == model.version) {
    return FailedPrecondition("model " + model.id +
                              " is the one searches use; activate another model first");
  }
  FT_RETURN_IF_ERROR(ctx.log().AppendInOwnTransaction(
      {actor.name,
       "model.prune.start",
       subject,
       {{"model", ModelJson(model)}, {"reason", reason}, {"gallery_id", store->gallery_id()}}}));
  int64_t deleted = 0;
  for (;;) {
    auto n = store->DeleteModelTemplates(model, kPruneBatch);
    if (!n.ok()) {
      FT_RETURN_IF_ERROR(ctx.log().AppendInOwnTransaction(
          {actor.name,
           "model.prune.failed",
           subject,
           {{"model", ModelJson(model)}, {"deleted", deleted}, {"error", n.status().ToString()}}}));
      return n.status();
    }
    if (*n == 0) break;
    deleted += *n;
  }
  FT_RETURN_IF_ERROR(internal::RemoveGallerySnapshots(ctx, gallery, model));
  FT_RETURN_IF_ERROR(ctx.log().AppendInOwnTransaction(
      {actor.name, "model.prune", subject, {{"model", ModelJson(model)}, {"deleted", deleted}}}));
  return deleted;
}

}  // namespace facetrail::service
