// Automatic checkpoints of the audit log (docs/AUDIT.md, "Threat model"): they bound the window in
// which someone who can write the database, but holds no signing key, can change or delete the
// newest entries unnoticed.
//
// WHAT THIS OBJECT REPRESENTS
//   A signer with its own database connection. Its thread signs the log's head when
//   `every_entries` entries are new, or when `every_seconds` have passed and anything is new; once
//   at start (whatever is new) and once at stop. Each checkpoint goes to the database (with its
//   "audit.checkpoint" entry, actor "system") and then, as one line, to the append-only external
//   CheckpointLog, which the database's writers cannot rewrite.
//
// WHAT IS GUARANTEED
//   It never signs a log it has not verified. VerifyAndCatchUp() (the thread's first step) runs
//   Verify() against the pinned keys and the external log; on any problem it signs nothing from
//   then on and status() says why. When it verifies, the checkpoints its key signed that the
//   external log lacks (admin init's first one, manual ones) are copied there. Every later
//   checkpoint requires the log to still hold the newest entry signed before
//   (CheckpointOptions::verified_head) and checks the entries it lists. A line that could not be
//   appended to the external log is kept and retried at the next round.
//
// THREAD SAFETY
//   Start, Stop and the destructor from one thread; status() from any thread. VerifyAndCatchUp and
//   RunOnce are the thread's steps: call them yourself only when Start() was not called (tests).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit.h"

namespace facetrail::audit {

struct CheckpointerOptions {
  int64_t every_entries = 100;  // sign when this many entries are new (at least 1)
  int64_t every_seconds = 300;  // or when this long passed since the last checkpoint, if any is new
  int64_t poll_ms = 1000;       // how often the thread looks
  // Told about each checkpoint and each failure, one line each (the server writes them to stderr).
  std::function<void(const std::string&)> log;
  Clock clock = SystemClock();  // the checkpoints' time stamps
};

class Checkpointer {
 public:
  // Opens its own connection to `db_path` and the external log (when `external_log_path` is not
  // empty: CheckpointLog::Open, refused inside the database's folder). kInvalidArgument when
  // key's public key is not among `pinned`: a signer whose signatures nobody trusts is a
  // misconfiguration (or a swapped key file).
  static Expected<std::unique_ptr<Checkpointer>> Create(const std::string& db_path,
                                                        const SigningKey& key,
                                                        std::vector<PublicKey> pinned,
                                                        const std::string& external_log_path,
                                                        CheckpointerOptions options);
  ~Checkpointer();  // Stop()
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Verifies the whole log (pinned keys, external log). When intact, signs whatever is new and
  // returns OK; otherwise kDataLoss naming the first problem, and RunOnce signs nothing from then.
  Status VerifyAndCatchUp();
  // One round: appends lines that failed before, then signs when due (`force`: when anything is
  // new). Returns the checkpoint made, if any. kFailedPrecondition before a successful
  // VerifyAndCatchUp.
  Expected<std::optional<Checkpoint>> RunOnce(bool force);

  // Runs VerifyAndCatchUp, then RunOnce every poll_ms, on a thread of its own.
  void Start();
  // Stops the thread after a last RunOnce(force). Idempotent.
  void Stop();
  // OK while it signs; else why it stopped signing.
  Status status() const;
  // The external log's append-only attribute (CheckpointLog::IsAppendOnly); nullopt without one.
  std::optional<bool> ExternalLogIsAppendOnly() const;

 private:
  Checkpointer(Db db, SigningKey key, std::vector<PublicKey> pinned,
               std::optional<CheckpointLog> external, CheckpointerOptions options);
  void Loop();
  void Note(const std::string& line) const;
  void SetStatus(Status s);
  Status AppendPending();

  // Constant after construction.
  const SigningKey key_;
  const std::vector<PublicKey> pinned_;
  const CheckpointerOptions options_;
  // Used by one thread at a time (the loop, or the caller before Start / after Stop).
  Db db_;
  AuditLog log_;
  std::optional<CheckpointLog> external_;
  std::vector<Checkpoint> pending_;  // signed, not yet in the external log
  std::optional<std::pair<int64_t, std::string>> verified_head_;
  bool verified_ = false;
  std::chrono::steady_clock::time_point last_signed_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  Status status_;          // guarded by mu_
  std::thread thread_;
};

}  // namespace facetrail::audit
