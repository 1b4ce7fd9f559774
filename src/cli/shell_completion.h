// Completion scripts for bash, zsh and fish, generated from the command tree:
// subcommands (nested ones too), each command's options and the global ones
// (accepted after the command as well), and file names for option values and
// arguments.
#pragma once

#include <optional>
#include <string>

#include "cli/command_tree.h"

namespace gb {

// The script for `shell` ("bash", "zsh" or "fish"); nullopt for another shell.
std::optional<std::string> CompletionScript(const CommandDoc& tree, const std::string& shell);

}  // namespace gb
