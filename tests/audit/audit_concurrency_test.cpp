// Issue 15: the audit chain under concurrency. Several OS processes (fork: each its own
// connection, as several `facetrail serve` processes would have) append to one database at once
// for a few seconds, each action's row and its audit entry in one transaction, some of those
// transactions rolled back on purpose; another process signs checkpoints meanwhile. Then Verify
// (what `facetrail audit verify` runs): one chain, no fork, no sequence number used twice, as
// many entries as committed appends, every committed action with its entry and no entry of a
// rolled-back one. On PostgreSQL (the point of the issue) and on SQLite (several processes on
// one file).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "audit_test_util.h"

namespace facetrail::audit {
namespace {

using testing::Backend;

constexpr int kWorkers = 4;
constexpr auto kDuration = std::chrono::seconds(3);
constexpr int kRollbackEvery = 5;  // every 5th action fails after its entry was appended

// What a child process reports to the parent through its pipe.
struct Tally {
  int64_t committed = 0;
  int64_t rolled_back = 0;
  int64_t checkpoints = 0;
  int64_t failures = 0;  // unexpected errors (the first is printed to stderr)
};

// One worker: until the deadline, action n of worker w = a row in test_actions and the entry
// "action:w:n", in one transaction; then `pause_us` of think time. PostgreSQL queues waiters on
// the advisory lock, so workers in a tight loop share it; SQLite's waiters poll with growing
// sleeps (its busy handler), and a writer in a tight loop takes the lock again before any of them
// wakes: there the workers pause a little between actions, as a server does between requests.
Tally RunWorker(const std::string& uri, int w, useconds_t pause_us) {
  Tally t;
  auto db = Db::Open(uri, /*create=*/false);
  if (!db.ok()) {
    std::fprintf(stderr, "worker %d: %s\n", w, db.status().ToString().c_str());
    t.failures = 1;
    return t;
  }
  AuditLog log(*db);
  const auto deadline = std::chrono::steady_clock::now() + kDuration;
  for (int64_t n = 1; std::chrono::steady_clock::now() < deadline; ++n) {
    const bool fail = n % kRollbackEvery == 0;
    Status s = db->InTransaction([&]() -> Status {
      FT_ASSIGN_OR_RETURN(auto stmt,
                          db->Prepare("INSERT INTO test_actions(worker, n) VALUES (?, ?)"));
      FT_RETURN_IF_ERROR(stmt.Bind(1, int64_t{w}).Bind(2, n).Run());
      FT_RETURN_IF_ERROR(log.Append({"worker" + std::to_string(w),
                                     "test.action",
                                     "action:" + std::to_string(w) + ":" + std::to_string(n),
                                     {{"worker", w}, {"n", n}}})
                             .status());
      if (fail) return PermissionDenied("the action failed after its entry was appended");
      return Status::Ok();
    });
    if (s.ok()) {
      ++t.committed;
    } else if (fail && s.code() == StatusCode::kPermissionDenied) {
      ++t.rolled_back;
    } else {
      if (t.failures++ == 0) std::fprintf(stderr, "worker %d: %s\n", w, s.ToString().c_str());
    }
    if (pause_us > 0) ::usleep(pause_us);
  }
  return t;
}

// The signer: a checkpoint whenever anything is new, every 50 ms, while the workers append.
Tally RunSigner(const std::string& uri, const SigningKey& key) {
  Tally t;
  auto db = Db::Open(uri, /*create=*/false);
  if (!db.ok()) {
    t.failures = 1;
    return t;
  }
  AuditLog log(*db);
  const auto deadline = std::chrono::steady_clock::now() + kDuration;
  while (std::chrono::steady_clock::now() < deadline) {
    CheckpointOptions options;
    options.min_new_entries = 1;
    auto made = CreateCheckpointIfDue(log, key, "system", options);
    if (!made.ok() && made.status().code() != StatusCode::kFailedPrecondition) {  // empty log
      if (t.failures++ == 0) std::fprintf(stderr, "signer: %s\n", made.status().ToString().c_str());
    } else if (made.ok() && made->has_value()) {
      ++t.checkpoints;
    }
    ::usleep(50'000);
  }
  return t;
}

class AuditConcurrencyTest : public ::testing::TestWithParam<Backend> {};

TEST_P(AuditConcurrencyTest, ProcessesAppendingAtOnceKeepOneChain) {
  testing::ScratchDir dir;
  std::string uri;
  FT_AUDIT_TEST_DB(GetParam(), dir.File("facetrail.db"), uri);
  auto key = CreateSigningKey(dir.File("audit.key"));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  {
    auto db = Db::Open(uri);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(Migrate(*db).ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE test_actions (worker INTEGER NOT NULL, n INTEGER NOT NULL, "
                         "PRIMARY KEY (worker, n))")
                    .ok());
  }  // no connection crosses fork()

  struct Child {
    pid_t pid;
    int fd;
  };
  std::vector<Child> children;
  const auto start = std::chrono::steady_clock::now();
  for (int w = 0; w <= kWorkers; ++w) {  // w == kWorkers: the signer
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      const useconds_t pause_us = GetParam() == Backend::kSqlite ? 3000 : 0;
      const Tally t = w < kWorkers ? RunWorker(uri, w, pause_us) : RunSigner(uri, *key);
      const bool sent = ::write(fds[1], &t, sizeof t) == static_cast<ssize_t>(sizeof t);
      // _exit: the child must not run the parent's atexit handlers (they stop the test cluster).
      ::_exit(sent && t.failures == 0 ? 0 : 1);
    }
    ::close(fds[1]);
    children.push_back({pid, fds[0]});
  }
  Tally total;
  std::map<int, int64_t> per_worker;
  for (size_t i = 0; i < children.size(); ++i) {
    Tally t;
    const ssize_t got = ::read(children[i].fd, &t, sizeof t);
    ::close(children[i].fd);
    int status = 0;
    ASSERT_EQ(::waitpid(children[i].pid, &status, 0), children[i].pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << i << " failed";
    ASSERT_EQ(got, static_cast<ssize_t>(sizeof t));
    total.committed += t.committed;
    total.rolled_back += t.rolled_back;
    total.checkpoints += t.checkpoints;
    total.failures += t.failures;
    if (static_cast<int>(i) < kWorkers) per_worker[static_cast<int>(i)] = t.committed;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(total.failures, 0);
  for (const auto& [w, n] : per_worker) EXPECT_GT(n, 10) << "worker " << w << " barely ran";
  EXPECT_GT(total.rolled_back, 0);
  EXPECT_GT(total.checkpoints, 1);

  auto db = Db::Open(uri, /*create=*/false);
  ASSERT_TRUE(db.ok());
  VerifyOptions options;
  options.public_keys = {key->public_key};
  options.require_checkpoint = true;
  auto report = Verify(*db, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  // Every committed append is one entry (the signer's checkpoints add their own entries), numbered
  // 1..N without a gap or a repeat (Verify walks the chain: a fork or a reused seq breaks it).
  EXPECT_EQ(report->num_entries, total.committed + total.checkpoints);
  EXPECT_EQ(report->last_seq, report->num_entries);
  EXPECT_EQ(report->num_checkpoints, total.checkpoints);

  auto entries = AuditLog(*db).Read();
  ASSERT_TRUE(entries.ok());
  std::set<int64_t> seqs;
  std::set<std::string> prev_hashes;
  std::set<std::string> subjects;
  int64_t actions = 0, switches = 0;
  std::string last_actor;
  for (const Entry& e : *entries) {
    EXPECT_TRUE(seqs.insert(e.seq).second) << "seq " << e.seq << " used twice";
    EXPECT_TRUE(prev_hashes.insert(e.prev_hash).second) << "two entries follow one: a fork";
    if (e.action != "test.action") continue;
    ++actions;
    EXPECT_NE(nlohmann::json::parse(e.details)["n"].get<int64_t>() % kRollbackEvery, 0)
        << "the entry of a rolled-back action was kept: " << e.subject;
    subjects.insert(e.subject);
    if (e.actor != last_actor) ++switches;
    last_actor = e.actor;
  }
  EXPECT_EQ(actions, total.committed);
  EXPECT_EQ(static_cast<int64_t>(subjects.size()), actions);
  // The processes really interleaved (not one after the other).
  EXPECT_GT(switches, 2 * kWorkers) << "the workers did not append concurrently";

  // Every committed action has its entry, and there is no action row without one.
  auto rows = db->Prepare("SELECT worker, n FROM test_actions ORDER BY worker, n");
  ASSERT_TRUE(rows.ok());
  int64_t num_rows = 0;
  for (;;) {
    auto row = rows->Step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
    ++num_rows;
    const std::string subject =
        "action:" + std::to_string(rows->Int(0)) + ":" + std::to_string(rows->Int(1));
    EXPECT_TRUE(subjects.count(subject)) << subject << " committed without its entry";
  }
  EXPECT_EQ(num_rows, total.committed);

  std::printf(
      "[ figures  ] %s: %d processes, %.1f s: %lld entries committed (%.0f/s), %lld "
      "rolled back with their action, %lld checkpoints, %lld writer switches\n",
      GetParam() == Backend::kPostgres ? "PostgreSQL" : "SQLite", kWorkers, seconds,
      static_cast<long long>(total.committed), total.committed / seconds,
      static_cast<long long>(total.rolled_back), static_cast<long long>(total.checkpoints),
      static_cast<long long>(switches));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditConcurrencyTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace facetrail::audit
