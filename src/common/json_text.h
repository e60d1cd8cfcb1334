// JSON output that stored text cannot break: nlohmann::json::dump throws on a string that is not
// UTF-8, and a database written before the edge checks (common/text.h) may hold such bytes.
// Every JSON facetrail prints or serves goes through JsonText, which writes U+FFFD instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace facetrail {

inline std::string JsonText(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace facetrail
