// glacier-backup(1): the manual page in roff, generated from the command tree
// (the build runs `glacier-backup man` to write it).
#pragma once

#include <string>

#include "cli/command_tree.h"

namespace gb {

// `tree`: DescribeCommands of the app; `exit_codes`: the table of exit_codes.h
// ("  N  meaning" lines, continuation lines indented further).
std::string ManPage(const CommandDoc& tree, const std::string& version,
                    const std::string& exit_codes);

}  // namespace gb
