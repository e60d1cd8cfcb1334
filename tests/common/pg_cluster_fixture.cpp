// The ctest fixture around the shared PostgreSQL cluster (tests/common/pg_cluster.h):
//   pg_cluster_fixture start STATE_FILE   starts one cluster for the ctest run (a watcher stops
//                                         it if ctest, this process's parent, goes away) and
//                                         writes STATE_FILE, which the tests find through
//                                         $FACETRAIL_PG_CLUSTER
//   pg_cluster_fixture stop STATE_FILE    stops it and removes its folder and STATE_FILE (when
//                                         this ctest run started it)
// `start` exits 0 when PostgreSQL is not installed (the file says why; the tests skip with that
// reason), unless FACETRAIL_REQUIRE_POSTGRES=1, which makes it fail, and with it every test that
// requires the fixture.
#include <unistd.h>

#include <iostream>
#include <string>

#include "common/pg_cluster.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: pg_cluster_fixture start|stop STATE_FILE\n";
    return 2;
  }
  const std::string command = argv[1];
  const std::string state_file = argv[2];
  if (command == "stop") {
    facetrail::testing::PgCluster::StopShared(state_file, ::getppid());
    std::cout << "shared PostgreSQL cluster stopped\n";
    return 0;
  }
  if (command != "start") {
    std::cerr << "usage: pg_cluster_fixture start|stop STATE_FILE\n";
    return 2;
  }
  const std::string why = facetrail::testing::PgCluster::StartShared(state_file, ::getppid());
  if (why.empty()) {
    std::cout << "shared PostgreSQL cluster ready: " << state_file << '\n';
    return 0;
  }
  std::cout << "no shared PostgreSQL cluster: " << why << '\n';
  return facetrail::testing::PostgresRequired() ? 1 : 0;
}
