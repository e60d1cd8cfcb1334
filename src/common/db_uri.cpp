#include "common/db_uri.h"

namespace facetrail {

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// `rest` after "file:" or "sqlite:": an authority ("//" then a host, empty or localhost) is
// dropped; what follows is the path.
Expected<std::string> PathAfterScheme(std::string_view uri, std::string_view rest) {
  if (rest.find_first_of("?#%") != std::string_view::npos) {
    return InvalidArgument("database '" + std::string(uri) +
                           "': query strings, fragments and %-escapes are not supported; give "
                           "the plain path");
  }
  if (StartsWith(rest, "//")) {
    rest.remove_prefix(2);
    if (StartsWith(rest, "localhost/")) rest.remove_prefix(9);
    if (!rest.empty() && rest[0] != '/') {
      // sqlite://relative/path (a common spelling for a relative file) is accepted as such;
      // file://host/path names another machine.
      if (StartsWith(uri, "file:")) {
        return InvalidArgument("database '" + std::string(uri) + "': only local files");
      }
    }
  }
  if (rest.empty()) return InvalidArgument("database '" + std::string(uri) + "': no path");
  return std::string(rest);
}

}  // namespace

Expected<std::string> DatabaseFilePath(std::string_view uri) {
  if (uri.empty()) return InvalidArgument("empty database path");
  if (uri == ":memory:" || uri == "sqlite::memory:") return std::string(":memory:");
  if (StartsWith(uri, "postgresql://") || StartsWith(uri, "postgres://")) {
    return FailedPrecondition(std::string(uri) + ": the PostgreSQL gallery is not implemented yet");
  }
  std::string path;
  if (StartsWith(uri, "sqlite:")) {
    FT_ASSIGN_OR_RETURN(path, PathAfterScheme(uri, uri.substr(7)));
  } else if (StartsWith(uri, "file:")) {
    FT_ASSIGN_OR_RETURN(path, PathAfterScheme(uri, uri.substr(5)));
  } else if (size_t colon = uri.find("://");
             colon != std::string_view::npos && uri.find('/') > colon) {
    return InvalidArgument("database '" + std::string(uri) + "': unknown scheme '" +
                           std::string(uri.substr(0, colon)) + "'");
  } else {
    path = std::string(uri);
  }
  if (path == ":memory:") return path;
  // A name that would read as a URI again (sqlite:sqlite:x, file:file:x) is refused rather than
  // resolved twice differently.
  if (StartsWith(path, "sqlite:") || StartsWith(path, "file:") ||
      path.find("://") < path.find('/')) {
    return InvalidArgument("database '" + std::string(uri) +
                           "': a file whose name begins with a scheme is written ./NAME");
  }
  return path;
}

}  // namespace facetrail
