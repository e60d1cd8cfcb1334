// Shared output helpers of the command-line front end: error printing with exit codes, and the
// JSON/text renderings of pipeline results (the JSON is a contract that scripts rely on).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "common/status.h"
#include "vision/batch.h"

namespace facetrail::cli {

// Similarity threshold used by `compare` and as the lowest score a candidate list shows when
// none is given: the leave-one-fold-out threshold of the default (similarity) templates on the
// LFW dev folds, 0.909–0.910 in every fold (docs/ACCURACY.md). A candidate list is reviewed by
// examiners, so it errs on the side of showing leads; for FPIR ≤ 0.01 use ≈ 0.955.
inline constexpr float kDefaultSimilarityThreshold = 0.91f;

// Exit status for a status: 0 OK, 2 invalid argument (usage), 3 refusal (permission denied or
// failed authentication), 1 otherwise.
int ExitCodeFor(const Status& status);
// Prints "facetrail: <status>" to stderr and returns ExitCodeFor(status).
int PrintError(const Status& status);

nlohmann::json FaceJson(const vision::Face& face, bool with_template);
nlohmann::json ImageResultJson(const vision::ImageResult& r, bool with_templates);
void PrintImageResultText(std::ostream& out, const vision::ImageResult& r, bool with_templates);

// The face that stands for the image: "largest" box, highest "score", or nearest the "center".
// Null when there is none.
const vision::Face* PickFace(const vision::ImageResult& r, const std::string& rule);

}  // namespace facetrail::cli
