// Registration of the facetrail subcommands. Each Register* adds its subcommands to `app`; the
// callback of the chosen one stores its exit status in `result.exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace facetrail::cli {

struct CommandResult {
  int exit_code = 0;
};

// detect, template, compare
void RegisterVisionCommands(CLI::App& app, CommandResult& result);
// eval verify|identify|report
void RegisterEvalCommands(CLI::App& app, CommandResult& result);
// enroll, gallery show|seal|unseal|expunge|stats, search
void RegisterGalleryCommands(CLI::App& app, CommandResult& result);

}  // namespace facetrail::cli
