// Verify(): recomputes the hash chain and checks every checkpoint. Semantics: docs/AUDIT.md.
#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "audit/audit.h"

namespace facetrail::audit {

namespace {

constexpr int kMaxRenumberShift = 64;

std::string Seq(int64_t seq) {
  return "entry " + std::to_string(seq);
}

bool SelfConsistent(const Entry& e) {
  auto h = ChainHash(e.prev_hash, e);
  return h.ok() && *h == e.hash;
}

// Was `e` written with a larger seq (entries before it removed, the rest renumbered)?
int64_t RenumberShift(const Entry& e) {
  Entry copy = e;
  for (int d = 1; d <= kMaxRenumberShift; ++d) {
    copy.seq = e.seq + d;
    if (SelfConsistent(copy)) return d;
  }
  return 0;
}

// Classifies the first break of the chain at index i. `running` is the hash the entry at i
// should link to. Returns nullopt when the entry at i is fine.
std::optional<Problem> CheckEntry(const std::vector<Entry>& entries, size_t i,
                                  const std::string& running, int64_t expected_seq,
                                  const std::unordered_map<std::string, size_t>& by_hash) {
  const Entry& e = entries[i];
  if (e.seq < expected_seq) {  // only possible before entry 1: seq 0 or negative
    return Problem{ProblemKind::kInserted, e.seq,
                   Seq(e.seq) + " was inserted: the log starts at entry 1"};
  }
  if (e.seq != expected_seq) {
    std::string what = e.seq - expected_seq == 1
                           ? Seq(expected_seq) + " was removed"
                           : "entries " + std::to_string(expected_seq) + ".." +
                                 std::to_string(e.seq - 1) + " were removed";
    return Problem{ProblemKind::kRemoved, expected_seq,
                   what + ": " + Seq(e.seq) + " follows " +
                       (expected_seq > 1 ? Seq(expected_seq - 1) : "the start of the log")};
  }
  bool self_ok = SelfConsistent(e);
  if (e.prev_hash != running) {
    auto later = by_hash.find(e.prev_hash);
    if (later != by_hash.end() && later->second > i) {
      return Problem{ProblemKind::kReordered, e.seq,
                     Seq(e.seq) + " is out of order: it was written after the entry now at seq " +
                         std::to_string(entries[later->second].seq)};
    }
    if (i >= 2 && e.prev_hash == entries[i - 2].hash) {
      return Problem{ProblemKind::kInserted, entries[i - 1].seq,
                     Seq(entries[i - 1].seq) + " was inserted: " + Seq(e.seq) +
                         " links directly to " + Seq(entries[i - 2].seq)};
    }
    if (!self_ok) {
      if (int64_t d = RenumberShift(e); d > 0) {
        return Problem{ProblemKind::kRemoved, e.seq,
                       std::to_string(d) + " entr" + (d == 1 ? "y" : "ies") + " before " +
                           Seq(e.seq + d) + " were removed and later entries renumbered: the " +
                           "entry now at seq " + std::to_string(e.seq) + " was written as seq " +
                           std::to_string(e.seq + d)};
      }
      return Problem{ProblemKind::kChanged, e.seq,
                     Seq(e.seq) + " was changed: it matches neither its own hash nor its link to " +
                         "the previous entry"};
    }
    if (i == 0) {
      return Problem{ProblemKind::kChanged, e.seq,
                     Seq(e.seq) + " was changed: the first entry does not start the chain"};
    }
    return Problem{ProblemKind::kChanged, entries[i - 1].seq,
                   Seq(entries[i - 1].seq) + " was changed and its hash recomputed: " + Seq(e.seq) +
                       " links to a different version of it"};
  }
  if (!self_ok) {
    if (i + 1 < entries.size() && entries[i + 1].prev_hash == running) {
      return Problem{ProblemKind::kInserted, e.seq,
                     Seq(e.seq) + " was inserted: " + Seq(entries[i + 1].seq) +
                         " links directly to the entry before it"};
    }
    return Problem{ProblemKind::kChanged, e.seq,
                   Seq(e.seq) + " was changed: its content does not match its hash"};
  }
  return std::nullopt;
}

// Warnings for append-only triggers that are missing or, on PostgreSQL, switched off (ALTER TABLE
// … DISABLE TRIGGER, which the tables' owner or a superuser can do without dropping them).
Expected<std::vector<std::string>> TriggerWarnings(Db& db) {
  std::vector<std::string> names = {"audit_entries_no_update", "audit_entries_no_delete",
                                    "audit_checkpoints_no_update", "audit_checkpoints_no_delete"};
  if (db.dialect() == SqlDialect::kPostgres) {
    names.emplace_back("audit_entries_no_truncate");
    names.emplace_back("audit_checkpoints_no_truncate");
  }
  std::vector<std::string> warnings;
  for (const auto& name : names) {
    FT_ASSIGN_OR_RETURN(bool exists, db.TriggerExists(name));
    if (!exists) {
      warnings.push_back("append-only trigger " + name +
                         " is missing: the database was altered outside facetrail");
    }
  }
  if (db.dialect() == SqlDialect::kPostgres) {
    // tgenabled 'D': disabled; 'O' (origin) is the normal state. 'R'/'A' would fire only under
    // session_replication_role = replica, which is how an insider would dodge them too.
    FT_ASSIGN_OR_RETURN(auto stmt,
                        db.Prepare("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = "
                                   "t.tgrelid WHERE NOT t.tgisinternal AND c.relname IN "
                                   "('audit_entries', 'audit_checkpoints') AND "
                                   "pg_table_is_visible(c.oid) AND t.tgenabled <> 'O' ORDER BY "
                                   "t.tgname"));
    for (;;) {
      FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      warnings.push_back("append-only trigger " + stmt.Text(0) +
                         " is disabled: the database was altered outside facetrail");
    }
  }
  return warnings;
}

// Runs `fn` (reads only) on one snapshot of the database, so that rows another connection (a
// second server, the checkpointer) commits meanwhile cannot appear in one read and not in the
// next: a checkpoint of an entry the entries' read did not see would look like truncation.
// Inside the caller's transaction that transaction is the snapshot (SQLite's is one anyway).
Status OnOneSnapshot(Db& db, const std::function<Status()>& fn) {
  if (db.EngineInTransaction()) return fn();
  // SQLite: a deferred transaction keeps the snapshot of its first read (WAL mode). PostgreSQL:
  // REPEATABLE READ keeps the snapshot of its first statement; no writer lock is taken.
  FT_RETURN_IF_ERROR(db.Exec(db.dialect() == SqlDialect::kPostgres
                                 ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                 : "BEGIN DEFERRED"));
  Status s = fn();
  Status end = db.Exec(s.ok() ? "COMMIT" : "ROLLBACK");
  return s.ok() ? end : s;
}

struct CheckpointSource {
  Checkpoint checkpoint;
  bool in_db = false;
  bool external = false;
  bool proves = false;  // trusted (pinned key, sound form) and consistent with the log
};

bool SameCheckpoint(const Checkpoint& a, const Checkpoint& b) {
  return a.version == b.version && a.seq == b.seq && a.head_hash == b.head_hash &&
         a.signature == b.signature;
}

std::string Range(int64_t from, int64_t to) {
  return from == to ? Seq(from) : "entries " + std::to_string(from) + ".." + std::to_string(to);
}
// "entry 5 was" / "entries 5..9 were" (verb "was"), "entry 5 is" / "entries 5..9 are" ("is").
std::string RangeVerb(int64_t from, int64_t to, bool past) {
  return Range(from, to) + (from == to ? (past ? " was" : " is") : (past ? " were" : " are"));
}

std::string Name(const Checkpoint& c) {
  return "the checkpoint of " + Seq(c.seq) + " signed " + c.time + " with key " + c.key_id;
}

std::string KeyList(const std::vector<PublicKey>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k.KeyId();
  return out;
}

// What an "audit.checkpoint" entry records: the checkpoint's seq, head hash and key.
struct Recorded {
  int64_t seq = 0;
  std::string head_hash, key_id;
};
std::optional<Recorded> RecordedCheckpoint(const Entry& e) {
  if (e.action != "audit.checkpoint") return std::nullopt;
  nlohmann::json d = nlohmann::json::parse(e.details, nullptr, /*allow_exceptions=*/false);
  if (!d.is_object() || !d.contains("seq") || !d["seq"].is_number_integer() ||
      !d.contains("head_hash") || !d["head_hash"].is_string() || !d.contains("key_id") ||
      !d["key_id"].is_string()) {
    return Recorded{};  // seq 0: unreadable
  }
  return Recorded{d["seq"].get<int64_t>(), d["head_hash"].get<std::string>(),
                  d["key_id"].get<std::string>()};
}

// Why `c` cannot be trusted, or nullopt when a pinned key signed it and its form is sound. With
// no pinned key nothing is trusted, but checkpoints are still compared with the log (Verify
// reports kUnverified separately).
std::optional<std::string> Untrusted(const Checkpoint& c, const std::vector<PublicKey>& keys) {
  if (!keys.empty()) {
    auto key = std::find_if(keys.begin(), keys.end(),
                            [&](const PublicKey& k) { return k.KeyId() == c.key_id; });
    if (key == keys.end()) {
      return "was signed by key " + c.key_id + ", which is not pinned (pinned: " + KeyList(keys) +
             ")";
    }
    if (!CheckpointSignatureValid(c, *key)) {
      return "does not carry a valid signature of pinned key " + c.key_id;
    }
  }
  if (c.version == 2) {
    const int64_t n = c.seq - c.from_seq + 1;
    const auto width = static_cast<int64_t>(kEntryHashPrefixChars);
    if (c.from_seq < 1 || n < 1 || n > kMaxListedEntries ||
        static_cast<int64_t>(c.entry_hashes.size()) != n * width ||
        c.entry_hashes.compare(c.entry_hashes.size() - kEntryHashPrefixChars, kEntryHashPrefixChars,
                               c.head_hash, 0, kEntryHashPrefixChars) != 0) {
      return std::string("is malformed: its list of entries does not match its range");
    }
  }
  return std::nullopt;
}

// Checks checkpoints (database and external) against the entries, and the chain's own
// "audit.checkpoint" entries against the checkpoint rows. See docs/AUDIT.md for the verdicts.
class CheckpointChecker {
 public:
  CheckpointChecker(const std::vector<Entry>& entries, const VerifyOptions& options,
                    VerifyReport& report)
      : entries_(entries), options_(options), report_(report) {
    for (const auto& e : entries_) by_seq_[e.seq] = &e;
  }

  void Run(std::vector<CheckpointSource>& sources) {
    std::stable_sort(sources.begin(), sources.end(), [](const auto& a, const auto& b) {
      return a.checkpoint.seq < b.checkpoint.seq;
    });
    for (CheckpointSource& src : sources) {
      ++report_.num_checkpoints;
      if (src.external) ++report_.num_external_checkpoints;
      if (auto why = Untrusted(src.checkpoint, options_.public_keys)) {
        Add(ProblemKind::kBadCheckpoint, src.checkpoint.seq, Name(src.checkpoint) + " " + *why);
        continue;
      }
      src.proves = CheckAgainstLog(src) && !options_.public_keys.empty();
      compared_through_ = std::max(compared_through_, src.checkpoint.seq);
      if (src.proves) proven_.push_back(src.checkpoint.seq);  // ascending: sources are sorted
      if (src.proves && src.checkpoint.seq >= report_.proven_seq) {
        report_.proven_seq = src.checkpoint.seq;
        report_.last_checkpoint = src.checkpoint;
        report_.last_checkpoint_external = src.external;
      }
    }
    CheckRecordedCheckpoints(sources);
  }

  int num_recorded() const { return num_recorded_; }

 private:
  void Add(ProblemKind kind, int64_t seq, std::string message) {
    report_.problems.push_back({kind, seq, std::move(message)});
  }

  const Entry* At(int64_t seq) const {
    auto it = by_seq_.find(seq);
    return it == by_seq_.end() ? nullptr : it->second;
  }

  // The highest seq below `seq` that a checkpoint proved (0 if none). requires: Run's loop done.
  int64_t ProvenBelow(int64_t seq) const {
    auto it = std::lower_bound(proven_.begin(), proven_.end(), seq);
    return it == proven_.begin() ? 0 : *std::prev(it);
  }

  // Compares one checkpoint with the entries; true when they agree.
  bool CheckAgainstLog(const CheckpointSource& src) {
    const Checkpoint& c = src.checkpoint;
    const int64_t last_seq = report_.last_seq;
    bool agrees = true;
    if (src.external && !src.in_db) {
      Add(ProblemKind::kMissingCheckpoint, c.seq,
          Name(c) + " is in the external checkpoint log but not in the database's checkpoint " +
              "table: checkpoint rows were deleted");
    }
    if (c.version == 2) {  // locate the first listed entry that differs
      for (int64_t i = c.from_seq; i <= std::min(c.seq, last_seq); ++i) {
        const Entry* e = At(i);
        if (e == nullptr) continue;  // the chain walk reports the removal
        const size_t at = static_cast<size_t>(i - c.from_seq) * kEntryHashPrefixChars;
        if (e->hash.compare(0, kEntryHashPrefixChars, c.entry_hashes, at, kEntryHashPrefixChars) !=
            0) {
          const int64_t unproven = compared_through_ + 1;
          if (i == c.from_seq && unproven < i) {
            // The first listed entry differs, and no checkpoint examined the ones before it: the
            // change may be there (their hashes flow into this one's).
            Add(ProblemKind::kChanged, unproven,
                Seq(i) + " is not the entry that " + Name(c) +
                    " lists, which starts there: " + "it or one of " + Range(unproven, i - 1) +
                    " before it (which no checkpoint proves) was changed, and the hashes after " +
                    "it recomputed");
          } else {
            Add(ProblemKind::kChanged, i,
                Seq(i) + " is not the entry that " + Name(c) + " lists: it was changed or " +
                    "replaced, and the hashes after it recomputed");
          }
          agrees = false;
          break;
        }
      }
    }
    if (c.seq >= last_seq) {
      // CreateCheckpoint appends the checkpoint's own entry as seq + 1 in the same transaction,
      // so a log that ends at or before c.seq lost entries.
      Add(ProblemKind::kTruncated, last_seq + 1,
          "the log was truncated after " + Seq(last_seq) + ": " + Name(c) +
              " covers entries up to " + std::to_string(c.seq) + " and was itself logged as " +
              Seq(c.seq + 1));
      return false;
    }
    const Entry* head = At(c.seq);
    if (head == nullptr) return false;  // reported by the chain walk as removed
    if (head->hash != c.head_hash) {
      if (agrees) {  // a version 1 checkpoint: only the range is known
        const int64_t from = report_.proven_seq + 1;
        Add(ProblemKind::kChanged, from,
            RangeVerb(from, c.seq, true) + " rewritten: " + Seq(c.seq) + "'s hash differs from " +
                Name(c));
      }
      agrees = false;
    }
    const Entry* own = At(c.seq + 1);
    if (own != nullptr) {
      auto r = RecordedCheckpoint(*own);
      if (!r || r->seq != c.seq || r->head_hash != c.head_hash || r->key_id != c.key_id) {
        Add(ProblemKind::kChanged, c.seq + 1,
            Seq(c.seq + 1) + " should be the audit.checkpoint entry that records " + Name(c) +
                ", but " +
                (r ? std::string("it records something else") : "it is '" + own->action + "'"));
        agrees = false;
      }
    }
    return agrees;
  }

  // Every checkpoint the chain records must be a row of the checkpoint table.
  // requires: sources sorted by seq (Run).
  void CheckRecordedCheckpoints(const std::vector<CheckpointSource>& sources) {
    for (const Entry& e : entries_) {
      auto r = RecordedCheckpoint(e);
      if (!r) continue;
      ++num_recorded_;
      if (r->seq == 0) {
        Add(ProblemKind::kChanged, e.seq,
            Seq(e.seq) + " is an audit.checkpoint entry whose details cannot be read");
        continue;
      }
      // A row of that seq, whatever it says: if it disagrees with this entry, the row's own
      // entry check (CheckAgainstLog) or its signature check has named the change already. One
      // only in the external log was reported missing already.
      auto first = std::lower_bound(
          sources.begin(), sources.end(), r->seq,
          [](const CheckpointSource& s, int64_t seq) { return s.checkpoint.seq < seq; });
      if (first != sources.end() && first->checkpoint.seq == r->seq) continue;
      const int64_t p = ProvenBelow(r->seq);
      Add(ProblemKind::kMissingCheckpoint, r->seq,
          Seq(e.seq) + " records a checkpoint of " + Seq(r->seq) + " signed with key " + r->key_id +
              " that is not in the checkpoint table: it was deleted, and " +
              RangeVerb(p + 1, r->seq, false) + " no longer proven by it");
      const Entry* head = At(r->seq);
      if (head != nullptr && head->hash != r->head_hash && report_.proven_seq < r->seq) {
        Add(ProblemKind::kChanged, p + 1,
            RangeVerb(p + 1, r->seq, true) + " rewritten: " + Seq(e.seq) + " records the hash of " +
                Seq(r->seq) + " as " + r->head_hash.substr(0, 16) + "…, it is now " +
                head->hash.substr(0, 16) + "…");
      }
    }
  }

  const std::vector<Entry>& entries_;
  const VerifyOptions& options_;
  VerifyReport& report_;
  std::map<int64_t, const Entry*> by_seq_;
  int num_recorded_ = 0;
  // The highest seq a trusted checkpoint examined so far (agreeing or not): a change at or
  // before it has been reported by that checkpoint.
  int64_t compared_through_ = 0;
  std::vector<int64_t> proven_;  // seqs of the checkpoints that prove, ascending
};

// Checkpoints are expected and cannot be checked: a verdict, not a warning.
void CheckExpectations(const VerifyOptions& options, bool any_checkpoint, VerifyReport& report) {
  if (options.public_keys.empty()) {
    if (any_checkpoint) {
      report.problems.push_back(
          {ProblemKind::kUnverified, 1,
           "the log has checkpoints but no public key is pinned, so they cannot be checked: "
           "give the trusted key (--public-key FILE, kept outside the database's folder; a "
           "key file beside the database proves nothing, whoever can write the database can "
           "replace it)"});
    }
    return;
  }
  if (options.require_checkpoint && report.last_seq > 0 && report.proven_seq == 0) {
    report.problems.push_back({ProblemKind::kUnverified, 1,
                               "no checkpoint signed by a pinned key (" +
                                   KeyList(options.public_keys) +
                                   ") covers this log: " + RangeVerb(1, report.last_seq, false) +
                                   " unproven (run 'facetrail audit checkpoint', or serve with "
                                   "--audit-signing-key)"});
  }
}

}  // namespace

std::string_view ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kChanged: return "changed";
    case ProblemKind::kRemoved: return "removed";
    case ProblemKind::kInserted: return "inserted";
    case ProblemKind::kReordered: return "reordered";
    case ProblemKind::kTruncated: return "truncated";
    case ProblemKind::kBadCheckpoint: return "bad_checkpoint";
    case ProblemKind::kMissingCheckpoint: return "missing_checkpoint";
    case ProblemKind::kUnverified: return "unverified";
  }
  return "unknown";
}

Expected<VerifyReport> Verify(Db& db, const VerifyOptions& options) {
  AuditLog log(db);
  std::vector<Entry> entries;
  std::vector<Checkpoint> stored;
  std::vector<std::string> trigger_warnings;
  FT_RETURN_IF_ERROR(OnOneSnapshot(db, [&]() -> Status {
    // Every row, including any an intruder put before entry 1.
    FT_ASSIGN_OR_RETURN(entries, log.Read(std::numeric_limits<int64_t>::min()));
    FT_ASSIGN_OR_RETURN(stored, ReadCheckpoints(db));
    FT_ASSIGN_OR_RETURN(trigger_warnings, TriggerWarnings(db));
    return Status::Ok();
  }));
  VerifyReport report;
  report.num_entries = static_cast<int64_t>(entries.size());
  report.last_seq = entries.empty() ? 0 : entries.back().seq;

  std::unordered_map<std::string, size_t> by_hash;
  for (size_t i = 0; i < entries.size(); ++i) by_hash.emplace(entries[i].hash, i);
  std::string running(kGenesisHash);
  int64_t expected_seq = 1;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (auto p = CheckEntry(entries, i, running, expected_seq, by_hash)) {
      report.problems.push_back(std::move(*p));
      break;  // later breaks are consequences of the first
    }
    running = entries[i].hash;
    ++expected_seq;
  }

  std::vector<CheckpointSource> cps;
  cps.reserve(stored.size() + options.external_checkpoints.size());
  // The same checkpoint in the table and in the external log is one source (by its signature).
  std::map<std::pair<int64_t, std::string>, size_t> index;
  auto add = [&](const Checkpoint& c, bool in_db) {
    auto [it, fresh] = index.try_emplace({c.seq, c.signature}, cps.size());
    if (fresh || !SameCheckpoint(cps[it->second].checkpoint, c)) {
      it->second = cps.size();
      cps.push_back(CheckpointSource{c});
    }
    (in_db ? cps[it->second].in_db : cps[it->second].external) = true;
  };
  for (const auto& c : stored) add(c, true);
  for (const auto& c : options.external_checkpoints) add(c, false);
  for (const auto& k : options.public_keys) report.pinned_key_ids.push_back(k.KeyId());
  report.verified_at = FormatUtc(options.clock());

  CheckpointChecker checker(entries, options, report);
  checker.Run(cps);
  CheckExpectations(options, !cps.empty() || checker.num_recorded() > 0, report);
  // Damaged entries first, in seq order (problems.front() names the first altered entry); then
  // damaged or missing checkpoints; then "unverified" (nothing is known to be damaged).
  auto rank = [](const Problem& p) {
    switch (p.kind) {
      case ProblemKind::kBadCheckpoint:
      case ProblemKind::kMissingCheckpoint: return 1;
      case ProblemKind::kUnverified: return 2;
      default: return 0;
    }
  };
  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [&rank](const Problem& a, const Problem& b) {
                     return rank(a) != rank(b) ? rank(a) < rank(b) : a.seq < b.seq;
                   });

  // The same finding reached twice (by the chain walk and by a checkpoint's list): once.
  report.problems.erase(std::unique(report.problems.begin(), report.problems.end(),
                                    [](const Problem& a, const Problem& b) {
                                      return a.kind == b.kind && a.seq == b.seq;
                                    }),
                        report.problems.end());

  const bool unverified =
      std::any_of(report.problems.begin(), report.problems.end(),
                  [](const Problem& p) { return p.kind == ProblemKind::kUnverified; });
  if (options.public_keys.empty() && cps.empty() && checker.num_recorded() == 0) {
    report.warnings.emplace_back(
        "no public key pinned and no checkpoints: nothing signed proves this log; anyone who can "
        "write the database could rewrite it consistently (docs/AUDIT.md)");
  } else if (report.proven_seq == 0 && report.last_seq > 0 && !unverified) {
    report.warnings.emplace_back("no verified checkpoint covers this log yet");
  } else if (report.proven_seq > 0 && report.last_seq > report.proven_seq) {
    const bool one = report.last_seq == report.proven_seq + 1;
    report.warnings.push_back(RangeVerb(report.proven_seq + 1, report.last_seq, false) +
                              " newer than the last verified checkpoint (of " +
                              Seq(report.proven_seq) + "), so not yet protected: until a " +
                              "checkpoint covers " + (one ? "it" : "them") +
                              " and leaves the machine, someone who can write the database " +
                              "could change or delete " + (one ? "it" : "them") + " unnoticed");
  }
  for (auto& w : trigger_warnings) report.warnings.push_back(std::move(w));
  return report;
}

nlohmann::json VerifyReportJson(const VerifyReport& r) {
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& p : r.problems) {
    problems.push_back({{"kind", ProblemKindName(p.kind)}, {"seq", p.seq}, {"message", p.message}});
  }
  nlohmann::json last = nullptr;
  if (r.last_checkpoint) {
    last = {{"seq", r.last_checkpoint->seq},
            {"time", r.last_checkpoint->time},
            {"key_id", r.last_checkpoint->key_id},
            {"external", r.last_checkpoint_external}};
  }
  return {{"ok", r.ok()},
          {"entries", r.num_entries},
          {"last_seq", r.last_seq},
          {"checkpoints", r.num_checkpoints},
          {"external_checkpoints", r.num_external_checkpoints},
          {"pinned_keys", r.pinned_key_ids},
          {"verified_at", r.verified_at},
          {"last_checkpoint", last},
          {"proven_seq", r.proven_seq},
          {"unchecked_entries", r.last_seq - r.proven_seq},
          {"problems", problems},
          {"warnings", r.warnings}};
}

}  // namespace facetrail::audit
