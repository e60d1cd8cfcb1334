#include "common/db_uri.h"

#include <utility>

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
    FT_ASSIGN_OR_RETURN(std::string server, PostgresUriDescription(uri));
    return FailedPrecondition(server + " is a PostgreSQL database, not a SQLite file");
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

Expected<std::string> ResolveDatabaseUri(std::string_view uri) {
  if (IsPostgresUri(uri)) {
    FT_RETURN_IF_ERROR(PostgresUriDescription(uri).status());
    return std::string(uri);
  }
  return DatabaseFilePath(uri);
}

bool IsPostgresUri(std::string_view uri) {
  return StartsWith(uri, "postgresql://") || StartsWith(uri, "postgres://");
}

Expected<std::string> PostgresUriDescription(std::string_view uri) {
  if (!IsPostgresUri(uri)) {
    std::string m(uri);
    m += " is not a postgresql:// URI";
    return InvalidArgument(std::move(m));
  }
  const size_t scheme_end = uri.find("://") + 3;
  std::string_view rest = uri.substr(scheme_end);
  const size_t query = rest.find('?');
  std::string_view main = rest.substr(0, query);
  std::string_view params = query == std::string_view::npos ? "" : rest.substr(query + 1);
  const size_t slash = main.find('/');
  const std::string_view authority = main.substr(0, slash);
  const size_t at = authority.rfind('@');
  const std::string_view userinfo =
      at == std::string_view::npos ? std::string_view() : authority.substr(0, at);
  const std::string refused =
      "database URI: a password on the command line shows in the process list; give it in "
      "PGPASSWORD or ~/.pgpass instead";
  if (userinfo.find(':') != std::string_view::npos) return InvalidArgument(refused);
  // Query parameters: password=… anywhere (first or after &).
  for (size_t pos = 0; pos <= params.size();) {
    const size_t amp = params.find('&', pos);
    const std::string_view item =
        params.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (StartsWith(item, "password=")) return InvalidArgument(refused);
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return std::string(uri.substr(0, scheme_end)) + std::string(main);
}

}  // namespace facetrail
