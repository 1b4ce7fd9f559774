// glacier-backup completion bash|zsh|fish
// glacier-backup man             (hidden: the build writes glacier-backup.1 with it)
// glacier-backup example-config  (hidden: the build writes the installed example config)
#include <cstdio>

#include "cli/cli_context.h"
#include "cli/command_tree.h"
#include "cli/exit_codes.h"
#include "cli/man_page.h"
#include "cli/shell_completion.h"
#include "engine/config_template.h"

#ifndef GB_VERSION
#define GB_VERSION "0.1.0"
#endif

namespace gb {

void AddDocsCommands(CLI::App& app, CliContext& ctx, int& exit_code) {
  (void)ctx;
  (void)exit_code;
  CLI::App* completion = app.add_subcommand(
      "completion", "Print a shell completion script (bash, zsh or fish) on stdout");
  completion->require_subcommand(1);
  completion->footer(
      "Load it now with `source <(glacier-backup completion bash)`, or save it where the shell "
      "looks for completions (see the README).");
  for (const char* shell : {"bash", "zsh", "fish"}) {
    CLI::App* cmd =
        completion->add_subcommand(shell, std::string("The completion script for ") + shell);
    cmd->callback([&app, shell] {
      std::printf("%s", CompletionScript(DescribeCommands(app), shell).value().c_str());
    });
  }

  CLI::App* man = app.add_subcommand("man", "Print the manual page glacier-backup(1) in roff");
  man->group("");  // hidden: for the build
  man->callback([&app] {
    std::printf("%s", ManPage(DescribeCommands(app), GB_VERSION, kExitCodeHelp).c_str());
  });

  CLI::App* example =
      app.add_subcommand("example-config", "Print an example config file, every key explained");
  example->group("");  // hidden: for the build
  example->callback([] {
    ConfigTemplateParams p;
    p.includes = {"/etc", "/home"};
    std::printf("%s", RenderConfigTemplate(p).c_str());
  });
}

}  // namespace gb
