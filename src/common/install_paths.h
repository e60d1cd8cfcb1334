// Where facetrail finds the read-only files it ships (the model files, the web application) when
// nobody says where: never the current working directory by accident (docs/PACKAGING.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace facetrail {

// The folder the Debian package installs its shared files into (models/, web/).
inline constexpr std::string_view kPackageShareDir = "/usr/share/facetrail";

// The places a shipped folder `name` ("models", "web") is looked for, in order:
//   1. /usr/share/facetrail/<name> (the package's);
//   2. <checkout>/<name>, where <checkout> is the nearest folder above the running binary
//      (/proc/self/exe, so build/facetrail and build/tests/... both find their checkout) that
//      holds a CMakeLists.txt and src/facetrail's layout.
// The second is empty when the binary does not live in a checkout.
std::vector<std::string> DataDirCandidates(std::string_view name);

// `given` (from an option or its environment variable) when not empty, whether or not it exists
// (the caller's error names it); otherwise the first candidate above that is a folder holding
// `marker` (e.g. "index.html"; empty: any folder). kNotFound names every place looked at and
// `how_to_say`, e.g. "--models or FACETRAIL_MODELS".
Expected<std::string> FindDataDir(std::string_view name, const std::string& given,
                                  std::string_view marker, std::string_view how_to_say);

}  // namespace facetrail
