// Verify(): recomputes the hash chain and checks every checkpoint. Semantics: docs/AUDIT.md.
#include <algorithm>
#include <limits>
#include <map>
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

Expected<std::vector<std::string>> MissingTriggers(SqliteDb& db) {
  static const std::vector<std::string> kTriggers = {
      "audit_entries_no_update", "audit_entries_no_delete", "audit_checkpoints_no_update",
      "audit_checkpoints_no_delete"};
  std::vector<std::string> missing;
  for (const auto& name : kTriggers) {
    FT_ASSIGN_OR_RETURN(auto stmt,
                        db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND "
                                   "name = ?"));
    stmt.Bind(1, name);
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) missing.push_back(name);
  }
  return missing;
}

struct CheckpointSource {
  Checkpoint checkpoint;
  bool in_db = false;
  bool external = false;
};

void CheckCheckpoints(const std::vector<Entry>& entries, const std::vector<CheckpointSource>& cps,
                      const VerifyOptions& options, VerifyReport& report) {
  std::map<int64_t, const Entry*> by_seq;
  for (const auto& e : entries) by_seq[e.seq] = &e;
  int64_t last_good = 0;  // highest checkpointed seq whose hash matched
  std::vector<const CheckpointSource*> sorted;
  sorted.reserve(cps.size());
  for (const auto& c : cps) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(),
            [](auto* a, auto* b) { return a->checkpoint.seq < b->checkpoint.seq; });
  for (const CheckpointSource* src : sorted) {
    const Checkpoint& c = src->checkpoint;
    ++report.num_checkpoints;
    std::string name = "the checkpoint of " + Seq(c.seq) + " signed " + c.time;
    if (options.public_key && !CheckpointSignatureValid(c, *options.public_key)) {
      report.problems.push_back(
          {ProblemKind::kBadCheckpoint, c.seq,
           name + " has an invalid signature or was signed by another key (" + c.key_id + ")"});
      continue;
    }
    if (src->external && !src->in_db) {
      report.problems.push_back(
          {ProblemKind::kBadCheckpoint, c.seq,
           name + " is in the external checkpoint file but missing from the database"});
    }
    // CreateCheckpoint appends its own "audit.checkpoint" entry as seq + 1 in the same
    // transaction, so a log that ends at or before c.seq lost entries.
    if (c.seq >= report.last_seq) {
      report.problems.push_back({ProblemKind::kTruncated, report.last_seq + 1,
                                 "the log was truncated after " + Seq(report.last_seq) + ": " +
                                     name + " covers entries up to " + std::to_string(c.seq) +
                                     " and was itself logged as " + Seq(c.seq + 1)});
      continue;
    }
    auto it = by_seq.find(c.seq);
    if (it == by_seq.end()) continue;  // reported by the chain walk as removed
    if (it->second->hash != c.head_hash) {
      report.problems.push_back({ProblemKind::kChanged, last_good + 1,
                                 "entries " + std::to_string(last_good + 1) + ".." +
                                     std::to_string(c.seq) + " were rewritten: " + Seq(c.seq) +
                                     "'s hash differs from " + name});
      continue;
    }
    last_good = std::max(last_good, c.seq);
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
  }
  return "unknown";
}

Expected<VerifyReport> Verify(SqliteDb& db, const VerifyOptions& options) {
  AuditLog log(db);
  // Every row, including any an intruder put before entry 1.
  FT_ASSIGN_OR_RETURN(std::vector<Entry> entries, log.Read(std::numeric_limits<int64_t>::min()));
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

  FT_ASSIGN_OR_RETURN(std::vector<Checkpoint> stored, ReadCheckpoints(db));
  std::vector<CheckpointSource> cps;
  cps.reserve(stored.size() + options.external_checkpoints.size());
  auto same = [](const Checkpoint& a, const Checkpoint& b) {
    return a.seq == b.seq && a.head_hash == b.head_hash && a.signature == b.signature;
  };
  for (const auto& c : stored) cps.push_back({c, true, false});
  for (const auto& c : options.external_checkpoints) {
    auto it = std::find_if(cps.begin(), cps.end(), [&](auto& s) { return same(s.checkpoint, c); });
    if (it != cps.end()) {
      it->external = true;
    } else {
      cps.push_back({c, false, true});
    }
  }
  CheckCheckpoints(entries, cps, options, report);
  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [](const Problem& a, const Problem& b) { return a.seq < b.seq; });

  if (!options.public_key && !cps.empty()) {
    report.warnings.emplace_back("checkpoint signatures not checked: no public key given");
  }
  if (cps.empty() && !entries.empty()) {
    report.warnings.emplace_back(
        "no checkpoints: removal of the newest entries cannot be detected; run "
        "'facetrail audit checkpoint'");
  }
  FT_ASSIGN_OR_RETURN(auto missing, MissingTriggers(db));
  for (const auto& t : missing) {
    report.warnings.push_back("append-only trigger " + t +
                              " is missing: the database was altered outside facetrail");
  }
  return report;
}

}  // namespace facetrail::audit
