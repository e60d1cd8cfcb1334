#include "common/install_paths.h"

#include <filesystem>
#include <system_error>

namespace facetrail {

namespace fs = std::filesystem;

namespace {

// The source checkout above the running binary, or empty. A checkout holds the top-level
// CMakeLists.txt and src/common/ (this file's folder); a handful of levels is enough for
// build/facetrail and build/tests/<subsystem>/<test>.
fs::path CheckoutOfBinary() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  fs::path dir = exe.parent_path();
  for (int level = 0; level < 6 && !dir.empty(); ++level) {
    if (fs::is_regular_file(dir / "CMakeLists.txt", ec) &&
        fs::is_directory(dir / "src/common", ec)) {
      return dir;
    }
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  return {};
}

}  // namespace

std::vector<std::string> DataDirCandidates(std::string_view name) {
  std::vector<std::string> out{(fs::path(kPackageShareDir) / name).string()};
  if (fs::path checkout = CheckoutOfBinary(); !checkout.empty()) {
    out.push_back((checkout / name).string());
  }
  return out;
}

Expected<std::string> FindDataDir(std::string_view name, const std::string& given,
                                  std::string_view marker, std::string_view how_to_say) {
  if (!given.empty()) return given;
  const std::vector<std::string> candidates = DataDirCandidates(name);
  std::string looked;
  for (const std::string& dir : candidates) {
    std::error_code ec;
    const bool ok =
        marker.empty() ? fs::is_directory(dir, ec) : fs::exists(fs::path(dir) / marker, ec);
    if (ok) return dir;
    looked += (looked.empty() ? "" : ", ") + dir;
  }
  if (candidates.size() == 1) looked += " (and the binary is not in a source checkout)";
  return NotFound("no " + std::string(name) + " folder found: looked in " + looked +
                  " (never the current folder); say where with " + std::string(how_to_say));
}

}  // namespace facetrail
