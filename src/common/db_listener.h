// Hearing that another process changed the database, early (issue 15: "every server sees every
// change at once"). On PostgreSQL this is LISTEN/NOTIFY on its own connection: a writer's
// transaction sends NOTIFY (a trigger does it for the gallery's change log), and PostgreSQL
// delivers it to every listening connection when — and only if — that transaction commits.
//
// A notification is a hint, never the guarantee: a listener can miss one (its connection dropped
// and was restored in between), so readers still check the change counter themselves before they
// answer; a notification only makes them catch up before the next request arrives.
//
// SQLite has no such channel (one machine: the processes that share a file check its counter),
// so DbListener::Open returns kFailedPrecondition for a SQLite database; callers skip listening
// then.
//
// THREAD SAFETY
//   One DbListener is used by one thread (the one that waits).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace facetrail {

class DbListener {
 public:
  virtual ~DbListener() = default;

  // Opens a connection of its own to the PostgreSQL database `uri` and listens on `channel`
  // (a lower-case SQL identifier: [a-z_][a-z0-9_]*, ≤ 63 bytes; else kInvalidArgument).
  // kFailedPrecondition for a SQLite database; kUnavailable when the server cannot be reached.
  static Expected<std::unique_ptr<DbListener>> Open(const std::string& uri,
                                                    std::string_view channel);

  // Waits up to `timeout` for notifications on the channel. Returns how many arrived (all that
  // were waiting are consumed; 0 on timeout). A lost connection is kUnavailable; the next call
  // reconnects and listens again (notifications sent meanwhile are lost: hints, see above).
  virtual Expected<int> Wait(std::chrono::milliseconds timeout) = 0;
};

}  // namespace facetrail
