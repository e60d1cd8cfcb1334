// Registration of the facetrail subcommands. Each Register* adds its subcommands to `app`; the
// callback of the chosen one stores its exit status in `result.exit_code`.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace facetrail::cli {

struct CommandResult {
  int exit_code = 0;
};

// detect, template, compare
void RegisterVisionCommands(CLI::App& app, CommandResult& result);
// models list|show|register. cli/model_commands.cpp.
void RegisterModelCommands(CLI::App& app, CommandResult& result);
// gallery retemplate|prune-templates, admin model activate (after the gallery and admin
// commands are registered). cli/model_commands.cpp.
void RegisterModelMigrationCommands(CLI::App& app, CommandResult& result);
// eval verify|identify|report
void RegisterEvalCommands(CLI::App& app, CommandResult& result);
// enroll, gallery show|seal|unseal|expunge|stats, search
void RegisterGalleryCommands(CLI::App& app, CommandResult& result);
// admin …, review …, audit … (issue 4: accountability)
void RegisterAccountabilityCommands(CLI::App& app, CommandResult& result);
// serve (issue 5: HTTP API and web application). cli/serve_command.cpp.
void RegisterServeCommand(CLI::App& app, CommandResult& result);

// The accountable search (issue 4), added to the `search` command: with --user the search goes
// through service::RequestSearch (policy checks, audit, review). cli/accountable_search.cpp.
struct AccountableSearchArgs {
  std::string user, case_number, purpose, offense, justification, agency;
};
struct SearchInputs {
  std::string db, probe, models_dir;
  std::string snapshot_dir;        // gallery::StoreOptions::snapshot_dir
  int top = 0;                     // 0: the policy's list length (accountable) or 20 (development)
  std::optional<float> min_score;  // development galleries only; default: the model's calibration
  bool json = false;
  int face = -1;  // -1: the largest face
};
void AddAccountableSearchOptions(CLI::App& search, AccountableSearchArgs& args);
int RunAccountableSearch(const AccountableSearchArgs& args, const SearchInputs& inputs);
// 0 when a search without --user may run on `db`: only a database without users (a development
// or evaluation gallery). Otherwise the attempt is audited and refused (exit status 3).
int RefuseUnaccountableSearch(const std::string& db, bool json);

}  // namespace facetrail::cli
