// Recognition models under accountability: moving a live gallery to a new model
// (docs/MODELS.md, "Migrating a gallery").
//
//   1. RetemplateGallery computes the new model's templates from the stored photos while the
//      system keeps searching with the active model (gallery/retemplate.h). Audited
//      "model.retemplate.start" (committed before the first photo) and "model.retemplate" with
//      the counts, or "model.retemplate.failed".
//   2. ActivateModel switches searches to it atomically, once every photo has a template of it
//      and its manifest carries a calibration from `facetrail eval` (a model is certified before
//      it is used). The switch and its "model.activate" entry commit in one transaction. Every
//      search reads the active model when it starts, and its candidate list records the model.
//   3. PruneModelTemplates deletes the templates of a model that is no longer active, in
//      batches, audited "model.prune.start" / "model.prune"; its search snapshots are deleted.
// Each is for a supervisor or an admin, with a reason; refusals are audited "model.refused".
#pragma once

#include <optional>
#include <string>

#include "gallery/enroll.h"
#include "gallery/gallery_store.h"
#include "gallery/retemplate.h"
#include "service/context.h"
#include "vision/face_pipeline.h"
#include "vision/models.h"

namespace facetrail::service {

// The gallery's name for a template model.
gallery::ModelRef ToModelRef(const vision::TemplateModel& model);
vision::TemplateModel ToTemplateModel(const gallery::ModelRef& model);

Expected<gallery::RetemplateSummary> RetemplateGallery(
    Context& ctx, const Actor& actor, const gallery::FaceExtractorFactory& make_extractor,
    const gallery::ModelRef& model, const std::string& reason,
    const gallery::RetemplateOptions& options);

struct ActivationResult {
  gallery::ModelRef before;  // empty id when the gallery had none
  gallery::ModelRef after;
  int64_t photos = 0;  // photos with a template of the new model
};

// kFailedPrecondition: not certified (no calibration), photos without a template of the model
// (run RetemplateGallery to the end), already active. kInvalidArgument: no reason; the manifest
// does not make `model`.
Expected<ActivationResult> ActivateModel(Context& ctx, const Actor& actor,
                                         const vision::ModelManifest& manifest,
                                         const vision::TemplateModel& model,
                                         const std::string& reason);

// Returns how many templates were deleted. kFailedPrecondition for the active model.
// The model's search snapshot is deleted from this machine's snapshot folder
// (`gallery.snapshot_dir`, a front end's `--snapshot-dir`: pass it, or the pruned templates stay
// on disk there) and from beside a SQLite file.
Expected<int64_t> PruneModelTemplates(Context& ctx, const Actor& actor,
                                      const gallery::ModelRef& model, const std::string& reason,
                                      const gallery::StoreOptions& gallery = {});

}  // namespace facetrail::service
