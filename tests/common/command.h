// Runs a shell command from a test and captures what it prints: the one way the tests run the
// facetrail binary and other programs (sqlite3, node).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace facetrail::testing {

struct CommandRun {
  int exit_code = -1;  // -1: the command could not be started or did not exit normally
  std::string out;     // its standard output (redirect 2>&1 in `cmd` to include stderr)
};

inline CommandRun RunCommand(const std::string& cmd) {
  CommandRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace facetrail::testing
