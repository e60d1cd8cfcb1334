// Shared output helpers of the command-line front end: error printing with exit codes, and the
// JSON/text renderings of pipeline results (the JSON is a contract that scripts rely on).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "common/status.h"
#include "vision/batch.h"

namespace facetrail::cli {

// The help of every --models option (vision::ResolveModelsDir does the lookup).
inline constexpr const char* kModelsOptionHelp =
    "Folder with the model files (default: /usr/share/facetrail/models, else models/ in the "
    "checkout the binary was built in; never the current folder)";

// Exit status for a status: 0 OK, 2 invalid argument (usage), 3 refusal (permission denied or
// failed authentication), 1 otherwise.
int ExitCodeFor(const Status& status);
// Prints "facetrail: <status>" to stderr and returns ExitCodeFor(status).
int PrintError(const Status& status);

// `model` null: no templates in the output; otherwise the faces' templates and, at the image
// level, "model": {"id", "version", "dim"}.
nlohmann::json FaceJson(const vision::Face& face, bool with_template);
nlohmann::json ImageResultJson(const vision::ImageResult& r, const vision::TemplateModel* model);
void PrintImageResultText(std::ostream& out, const vision::ImageResult& r,
                          const vision::TemplateModel* model);

// A rate as a short percentage or power of ten: "1%", "0.1%", "1e-05".
std::string FormatRate(double rate);

// The face that stands for the image: "largest" box, highest "score", or nearest the "center".
// Null when there is none.
const vision::Face* PickFace(const vision::ImageResult& r, const std::string& rule);

}  // namespace facetrail::cli
