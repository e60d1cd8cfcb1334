// Checkpointer: automatic, verified checkpoints to the database and the external log.
#include "audit/checkpointer.h"

#include <algorithm>

namespace facetrail::audit {

Expected<std::unique_ptr<Checkpointer>> Checkpointer::Create(const std::string& db_path,
                                                             const SigningKey& key,
                                                             std::vector<PublicKey> pinned,
                                                             const std::string& external_log_path,
                                                             CheckpointerOptions options) {
  const std::string id = key.public_key.KeyId();
  if (std::none_of(pinned.begin(), pinned.end(),
                   [&](const PublicKey& k) { return k.KeyId() == id; })) {
    return InvalidArgument("the signing key (key id " + id +
                           ") is not one of the pinned public keys: pin its .pub file (kept "
                           "outside the database's folder), or check that the key file was not "
                           "replaced");
  }
  std::optional<CheckpointLog> external;
  if (!external_log_path.empty()) {
    FT_ASSIGN_OR_RETURN(external, CheckpointLog::Open(external_log_path, db_path));
  }
  FT_ASSIGN_OR_RETURN(Db db, Db::Open(db_path, /*create=*/false));
  FT_RETURN_IF_ERROR(Migrate(db));
  options.every_entries = std::max<int64_t>(1, options.every_entries);
  options.every_seconds = std::max<int64_t>(1, options.every_seconds);
  options.poll_ms = std::max<int64_t>(1, options.poll_ms);
  return std::unique_ptr<Checkpointer>(new Checkpointer(std::move(db), key, std::move(pinned),
                                                        std::move(external), std::move(options)));
}

Checkpointer::Checkpointer(Db db, SigningKey key, std::vector<PublicKey> pinned,
                           std::optional<CheckpointLog> external, CheckpointerOptions options)
    : key_(key),
      pinned_(std::move(pinned)),
      options_(std::move(options)),
      db_(std::move(db)),
      log_(db_, options_.clock),
      external_(std::move(external)),
      last_signed_(std::chrono::steady_clock::now()) {}

Checkpointer::~Checkpointer() {
  Stop();
}

void Checkpointer::Note(const std::string& line) const {
  if (options_.log) options_.log("audit checkpointer: " + line);
}

void Checkpointer::SetStatus(Status s) {
  std::lock_guard lock(mu_);
  status_ = std::move(s);
}

Status Checkpointer::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::optional<bool> Checkpointer::ExternalLogIsAppendOnly() const {
  if (!external_) return std::nullopt;
  return external_->IsAppendOnly();
}

Status Checkpointer::VerifyAndCatchUp() {
  VerifyOptions options;
  options.public_keys = pinned_;
  if (external_) {
    FT_ASSIGN_OR_RETURN(options.external_checkpoints, ReadCheckpointFile(external_->path()));
  }
  FT_ASSIGN_OR_RETURN(VerifyReport report, Verify(db_, options));
  if (!report.ok()) {
    const Problem& p = report.problems.front();
    Status s = DataLoss("the audit log is damaged (" + std::string(ProblemKindName(p.kind)) +
                        ", entry " + std::to_string(p.seq) + ": " + p.message +
                        "); automatic checkpoints stopped: nothing is signed over it");
    SetStatus(s);
    Note(s.message());
    return s;
  }
  FT_ASSIGN_OR_RETURN(auto head, log_.Head());
  if (head.first > 0) verified_head_ = head;
  verified_ = true;
  SetStatus(Status::Ok());
  // Checkpoints this key signed that the external log lacks (admin init's first one, manual ones
  // without --out), just verified: copy them there, so that the external log alone proves the
  // whole log and names a rewrite at its first entry.
  if (external_) {
    FT_ASSIGN_OR_RETURN(std::vector<Checkpoint> rows, ReadCheckpoints(db_));
    for (const Checkpoint& c : rows) {
      const bool known =
          std::any_of(options.external_checkpoints.begin(), options.external_checkpoints.end(),
                      [&](const Checkpoint& e) { return e.signature == c.signature; });
      if (!known && CheckpointSignatureValid(c, key_.public_key)) pending_.push_back(c);
    }
  }
  return RunOnce(/*force=*/true).status();
}

Status Checkpointer::AppendPending() {
  if (!external_) {
    pending_.clear();
    return Status::Ok();
  }
  while (!pending_.empty()) {
    FT_RETURN_IF_ERROR(external_->Append(pending_.front()));
    pending_.erase(pending_.begin());
  }
  return Status::Ok();
}

Expected<std::optional<Checkpoint>> Checkpointer::RunOnce(bool force) {
  if (!verified_) {
    return FailedPrecondition("audit checkpointer: the log was not verified; nothing is signed");
  }
  if (Status s = AppendPending(); !s.ok()) Note(s.message() + " (retried at the next round)");
  const bool timely = std::chrono::steady_clock::now() - last_signed_ >=
                      std::chrono::seconds(options_.every_seconds);
  CheckpointOptions co;
  co.min_new_entries = force || timely ? 1 : options_.every_entries;
  co.verified_head = verified_head_;
  auto made = CreateCheckpointIfDue(log_, key_, "system", co);
  if (!made.ok()) {
    if (made.status().code() == StatusCode::kDataLoss) {
      verified_ = false;  // the log changed under the signer: sign nothing more
      SetStatus(made.status());
    }
    Note(made.status().ToString());
    return made.status();
  }
  if (!*made) return made;
  last_signed_ = std::chrono::steady_clock::now();
  verified_head_ = std::make_pair((*made)->seq, (*made)->head_hash);
  pending_.push_back(**made);
  Status appended = AppendPending();
  Note("signed the checkpoint of entry " + std::to_string((*made)->seq) + " (key " +
       (*made)->key_id + ")" +
       (external_ ? (appended.ok() ? ", appended to " + external_->path()
                                   : "; NOT yet in the external log: " + appended.message())
                  : ", in the database only"));
  return made;
}

void Checkpointer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Checkpointer::Loop() {
  (void)VerifyAndCatchUp();  // a failure is in status() and was noted
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms));
    if (stopping_) break;
    lock.unlock();
    if (verified_) (void)RunOnce(/*force=*/false);
    lock.lock();
  }
  lock.unlock();
  if (verified_) (void)RunOnce(/*force=*/true);
}

void Checkpointer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace facetrail::audit
