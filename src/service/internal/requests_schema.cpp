#include "service/internal/requests_schema.h"

#include <string>
#include <vector>

#include "common/sql_dialect.h"

namespace facetrail::service::internal {

namespace {

constexpr const char* kRequestsV1 = R"sql(
CREATE TABLE probes (
  sha256 TEXT PRIMARY KEY,
  bytes BLOB,                 -- the file exactly as received; NULL once purged
  size_bytes INTEGER NOT NULL,
  format TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  purged_at TEXT
);
CREATE TABLE search_requests (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES policy_users(id),
  user_name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  case_number TEXT NOT NULL,
  purpose TEXT NOT NULL,
  offense TEXT NOT NULL,
  justification TEXT NOT NULL,
  agency TEXT NOT NULL,
  probe_sha256 TEXT NOT NULL REFERENCES probes(sha256),
  model_id TEXT NOT NULL,
  model_version INTEGER NOT NULL,
  gallery_version TEXT NOT NULL,
  threshold REAL NOT NULL,
  top_k INTEGER NOT NULL,
  quality_override_id INTEGER REFERENCES quality_overrides(id),
  status TEXT NOT NULL CHECK (status IN ('pending_review', 'examined', 'disputed', 'released')),
  outcome TEXT CHECK (outcome IN ('confirmed_by_other_evidence', 'excluded', 'unknown')),
  outcome_note TEXT,
  outcome_at TEXT
);
CREATE INDEX search_requests_case ON search_requests(case_number);
CREATE TABLE probe_steps (
  request_id INTEGER NOT NULL REFERENCES search_requests(id),
  step INTEGER NOT NULL,
  kind TEXT NOT NULL,
  params TEXT NOT NULL,
  PRIMARY KEY (request_id, step)
);
CREATE TABLE request_candidates (
  request_id INTEGER NOT NULL REFERENCES search_requests(id),
  rank INTEGER NOT NULL,
  booking_number TEXT NOT NULL,
  template_id INTEGER NOT NULL,
  photo_id INTEGER NOT NULL,
  score REAL NOT NULL,
  PRIMARY KEY (request_id, rank)
);
CREATE TABLE reviews (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES search_requests(id),
  stage TEXT NOT NULL CHECK (stage IN ('examination', 'concurrence')),
  examiner_id INTEGER NOT NULL REFERENCES policy_users(id),
  examiner_name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  agrees INTEGER,             -- concurrence only
  notes TEXT NOT NULL,
  superseded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE review_marks (
  review_id INTEGER NOT NULL REFERENCES reviews(id),
  rank INTEGER NOT NULL,
  mark TEXT NOT NULL CHECK (mark IN ('possible_match', 'not_a_match', 'inconclusive')),
  notes TEXT NOT NULL,
  PRIMARY KEY (review_id, rank)
);
CREATE TABLE quality_overrides (
  id INTEGER PRIMARY KEY,
  probe_sha256 TEXT NOT NULL,
  case_number TEXT NOT NULL,
  supervisor_id INTEGER NOT NULL REFERENCES policy_users(id),
  supervisor_name TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL,
  used_by_request INTEGER REFERENCES search_requests(id)
);
CREATE TABLE case_holds (
  case_number TEXT PRIMARY KEY,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql";

// PostgreSQL checks a REFERENCES when the table is created, and search_requests and
// quality_overrides refer to each other (SQLite resolves references when rows change): the
// reference to quality_overrides is added once both tables exist, under the name PostgreSQL
// would have given it.
std::string PostgresRequestsV1() {
  std::string sql = kRequestsV1;
  const std::string forward = " REFERENCES quality_overrides(id)";
  sql.erase(sql.find(forward), forward.size());
  sql +=
      "ALTER TABLE search_requests ADD CONSTRAINT search_requests_quality_override_id_fkey "
      "FOREIGN KEY (quality_override_id) REFERENCES quality_overrides(id);\n";
  return SqliteDdlToPostgres(sql);
}

}  // namespace

// Status of a search request: pending_review -> examined -> released (or disputed -> examined
// again). The outcome is recorded on a released request.
const std::vector<Migration>& RequestsMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, kRequestsV1, PostgresRequestsV1()},
      // Issue 13: the candidate-list policy that made each list (threshold, where it came from,
      // the department's list length). Requests made before say 'unrecorded' and 0.
      {2, R"sql(
ALTER TABLE search_requests ADD COLUMN threshold_source TEXT NOT NULL DEFAULT 'unrecorded';
ALTER TABLE search_requests ADD COLUMN max_list_length INTEGER NOT NULL DEFAULT 0;
)sql"},
      // Issue 13: the examination as a record (docs/POLICY.md, "Review of leads"). Per
      // candidate a conclusion on the department's scale (or "not examined"), notes and the
      // viewing settings used; per candidate and FISWG component a mark (a component without a
      // row was not examined); a verification is an examination that `verifies` the first;
      // a supervisor's decision settles a dispute. The old marks become conclusions
      // (possible_match -> possible lead, not_a_match -> not a lead, inconclusive ->
      // insufficient detail); an old "disputed" lead (sent back for a new examination) is
      // pending review again, its set-aside examiner still barred from it.
      {3, R"sql(
ALTER TABLE reviews ADD COLUMN verifies INTEGER REFERENCES reviews(id);
CREATE TABLE review_candidates (
  review_id INTEGER NOT NULL REFERENCES reviews(id),
  rank INTEGER NOT NULL,
  conclusion TEXT NOT NULL,
  notes TEXT NOT NULL,
  viewing TEXT,               -- JSON object; NULL when not recorded
  PRIMARY KEY (review_id, rank)
);
INSERT INTO review_candidates(review_id, rank, conclusion, notes)
  SELECT review_id, rank,
         CASE mark WHEN 'possible_match' THEN 'possible lead'
                   WHEN 'not_a_match' THEN 'not a lead'
                   ELSE 'insufficient detail' END,
         notes
  FROM review_marks;
DROP TABLE review_marks;
CREATE TABLE review_features (
  review_id INTEGER NOT NULL REFERENCES reviews(id),
  rank INTEGER NOT NULL,
  component TEXT NOT NULL,
  mark TEXT NOT NULL CHECK (mark IN ('similar', 'dissimilar', 'not_visible', 'not_examined')),
  note TEXT NOT NULL,
  PRIMARY KEY (review_id, rank, component)
);
CREATE TABLE review_decisions (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES search_requests(id),
  supervisor_id INTEGER NOT NULL REFERENCES policy_users(id),
  supervisor_name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  decision TEXT NOT NULL CHECK (decision IN ('adopt_first', 'adopt_second', 'reexamine')),
  notes TEXT NOT NULL
);
UPDATE search_requests SET status = 'pending_review' WHERE status = 'disputed';
)sql"},
      // Issue 18: why each processing step was applied and whether it enhanced the probe, and
      // the expected FNIR the model's calibration stated for the probe (JSON, ProbeExpectation).
      // Steps recorded before say why '' (not recorded) and were no enhancement (none existed);
      // requests made before have no expected FNIR (NULL: not recorded).
      {4, R"sql(
ALTER TABLE probe_steps ADD COLUMN why TEXT NOT NULL DEFAULT '';
ALTER TABLE probe_steps ADD COLUMN enhancement INTEGER NOT NULL DEFAULT 0
  CHECK (enhancement IN (0, 1));
ALTER TABLE search_requests ADD COLUMN expected_fnir TEXT;
)sql"},
  };
  return kMigrations;
}

Status MigrateRequests(Db& db) {
  return db.Migrate("requests", RequestsMigrations());
}

}  // namespace facetrail::service::internal
