// The command line as data: every visible subcommand and option of the CLI11 app,
// read from the same definitions that parse the command line. The man page and
// the shell completions are generated from it, so they cannot drift from --help.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace gb {

struct OptionDoc {
  std::vector<std::string> names;  // "-q", "--quiet"; empty for a positional argument
  std::string value;               // "FILE", "N", ...; empty for a flag
  std::string description;
  bool repeatable = false;  // may be given more than once (or takes several values)
};

struct CommandDoc {
  std::vector<std::string> path;  // {} for the program itself, {"vault", "create"}
  std::string description;
  std::vector<OptionDoc> options;       // with names, in definition order
  std::vector<OptionDoc> positionals;   // value = the argument's name, e.g. "paths"
  std::vector<CommandDoc> subcommands;  // hidden ones (empty group) left out
};

// The tree rooted at `app` (its own options are the global ones).
CommandDoc DescribeCommands(const CLI::App& app);

// "glacier-backup vault create".
std::string CommandLine(const CommandDoc& c, const std::string& program);

}  // namespace gb
