// facetrail command-line program: one subcommand per use case; each lives in its own file and
// registers itself here. Exit status: 0 success, 1 error, 2 usage error, 3 refusal (policy).
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "common/text.h"

namespace {

// Every argument is text that may reach the database or the audit log (a case number, a reason,
// a user name): each is checked at the edge, before any command runs (common/text.h). Longer
// fields have their own, smaller limits, checked again by the use case.
constexpr size_t kMaxArgumentBytes = 8192;

int Run(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string field = "argument " + std::to_string(i);
    if (i > 1 && argv[i - 1][0] == '-') field += std::string(" (the value of ") + argv[i - 1] + ")";
    auto s = facetrail::ValidateText(field, argv[i], kMaxArgumentBytes, {.multiline = true});
    if (!s.ok()) {
      std::cerr << "facetrail: error: " << s.message()
                << " (arguments must be UTF-8 text; nothing was done)\n";
      return 2;
    }
  }
  CLI::App app{"facetrail: in-house face identification with accountability"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("facetrail 0.1.0"));
  facetrail::cli::CommandResult result;
  facetrail::cli::RegisterVisionCommands(app, result);
  facetrail::cli::RegisterModelCommands(app, result);
  facetrail::cli::RegisterEvalCommands(app, result);
  facetrail::cli::RegisterGalleryCommands(app, result);
  facetrail::cli::RegisterAccountabilityCommands(app, result);
  facetrail::cli::RegisterModelMigrationCommands(app, result);
  facetrail::cli::RegisterServeCommand(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return result.exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // Commands report failures as a Status; an exception that still gets here (out of memory, a
  // bug) is an error too: say so and exit 1 rather than abort in std::terminate.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "facetrail: error: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "facetrail: error: unknown exception\n";
  }
  return 1;
}
