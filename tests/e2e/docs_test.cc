// The generated documentation: shell completion scripts that a shell accepts and
// that complete what the command line accepts, and a man page that renders with
// every command in it.
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

// Every visible command, as `glacier-backup --help` lists them.
const std::vector<std::string> kCommands = {"init",    "backup", "snapshots", "ls",
                                            "restore", "verify", "sync",      "run",
                                            "status",  "vault",  "recover",   "completion"};

class DocsTest : public E2eTest {
 protected:
  std::string Generate(const std::vector<std::string>& args, const std::string& name) {
    std::vector<std::string> argv = {Binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    Result r = Exec(argv);
    EXPECT_EQ(r.code, 0) << r.Show();
    EXPECT_EQ(r.err, "");
    std::string path = dir_ / name;
    WriteFile(path, r.out);
    return path;
  }

  // What the bash completion offers for the words typed (the last one being completed).
  std::vector<std::string> BashComplete(const std::string& script,
                                        const std::vector<std::string>& words) {
    std::string array;
    for (const std::string& w : words) array += " '" + w + "'";
    std::string code = "source '" + script + "'\nCOMP_WORDS=(" + array +
                       ")\nCOMP_CWORD=" + std::to_string(words.size() - 1) +
                       "\n_glacier_backup\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
    Result r = Exec({"bash", "--norc", "--noprofile", "-c", code});
    EXPECT_EQ(r.code, 0) << r.Show();
    EXPECT_EQ(r.err, "") << r.Show();
    std::vector<std::string> out = Lines(r.out);
    std::erase(out, "");
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(DocsTest, BashCompletionIsValidAndCompletesCommandsAndOptions) {
  std::string script = Generate({"completion", "bash"}, "glacier-backup.bash");
  Result syntax = Exec({"bash", "-n", script});
  ASSERT_EQ(syntax.code, 0) << syntax.Show();

  std::vector<std::string> all = kCommands;
  std::sort(all.begin(), all.end());
  EXPECT_EQ(BashComplete(script, {"glacier-backup", ""}), all);
  EXPECT_EQ(BashComplete(script, {"glacier-backup", "re"}),
            (std::vector<std::string>{"recover", "restore"}));
  // After a global option's value, and nested commands.
  EXPECT_EQ(BashComplete(script, {"glacier-backup", "--config", "x.toml", "vault", ""}),
            (std::vector<std::string>{"create", "info", "ls"}));
  EXPECT_EQ(BashComplete(script, {"glacier-backup", "completion", ""}),
            (std::vector<std::string>{"bash", "fish", "zsh"}));
  // A command's options, and the global ones after it.
  std::vector<std::string> opts = BashComplete(script, {"glacier-backup", "backup", "--"});
  for (const char* o : {"--dry-run", "--full", "--json", "--quiet", "--config", "--help"})
    EXPECT_NE(std::find(opts.begin(), opts.end(), o), opts.end()) << o;
  EXPECT_EQ(std::find(opts.begin(), opts.end(), "--overwrite"), opts.end())
      << "restore's option offered for backup";
  // The hidden build helpers are not offered.
  EXPECT_EQ(BashComplete(script, {"glacier-backup", "ma"}), std::vector<std::string>{});
  // An option that takes a value completes file names.
  WriteFile(dir_ / "my-config.toml", "");
  std::vector<std::string> files =
      BashComplete(script, {"glacier-backup", "run", "--config", dir_ / "my-con"});
  EXPECT_EQ(files, std::vector<std::string>{dir_ / "my-config.toml"});
}

TEST_F(DocsTest, ZshAndFishScriptsAreValidAndNameEveryCommand) {
  for (const char* shell : {"zsh", "fish"}) {
    std::string script = Generate({"completion", shell}, std::string("c.") + shell);
    Result syntax = Exec({shell, "-n", script});
    EXPECT_EQ(syntax.code, 0) << shell << "\n" << syntax.Show();
    std::string text = ReadFile(script);
    for (const std::string& c : kCommands)
      EXPECT_NE(text.find(c), std::string::npos) << shell << " lacks " << c;
  }
  // Sourced into zsh, it registers its completion function.
  Result zsh = Exec({"zsh", "-f", "-c",
                     "autoload -U compinit; compinit -u -D; source " + (dir_ / "c.zsh") +
                         "; print -r -- ${_comps[glacier-backup]}"},
                    RunOptions{{}, {"HOME=" + dir_.path()}});
  EXPECT_EQ(zsh.out, "_glacier_backup\n") << zsh.Show();
  // fish completes from the script as it is.
  Result fish = Exec({"fish", "--no-config", "-c",
                      "source " + (dir_ / "c.fish") +
                          "; complete -C 'glacier-backup re'; complete -C 'glacier-backup "
                          "vault '; complete -C 'glacier-backup backup --d'"});
  ASSERT_EQ(fish.code, 0) << fish.Show();
  std::vector<std::string> offered;
  for (const std::string& line : Lines(fish.out))
    if (!line.empty()) offered.push_back(line.substr(0, line.find('\t')));
  EXPECT_EQ(offered,
            (std::vector<std::string>{"recover", "restore", "create", "info", "ls", "--dry-run"}))
      << fish.Show();
  EXPECT_EQ(Exec({Binary(), "completion", "tcsh"}).code, 2);
}

TEST_F(DocsTest, ManPageRendersWithEveryCommand) {
  std::string page = Generate({"man"}, "glacier-backup.1");
  // groff itself finds nothing wrong with the roff.
  Result lint = Exec({"groff", "-man", "-Tutf8", "-ww", "-z", page});
  EXPECT_EQ(lint.code, 0) << lint.Show();
  EXPECT_EQ(lint.err, "") << lint.Show();
  Result r =
      Exec({"man", "-l", page}, RunOptions{{}, {"MANWIDTH=100", "MANPAGER=cat", "PAGER=cat"}});
  ASSERT_EQ(r.code, 0) << r.Show();
  std::string text;
  for (char ch : r.out)
    if (ch != '\b') text += ch;  // overstrike bold, if any, reduced to doubled letters
  for (const char* section : {"NAME", "SYNOPSIS", "GLOBAL OPTIONS", "COMMANDS", "EXIT STATUS"})
    EXPECT_NE(text.find(section), std::string::npos) << section << "\n" << text;
  for (const std::string& c : kCommands)
    EXPECT_NE(text.find("glacier-backup " + c), std::string::npos) << "no section for " << c;
  for (const char* line : {"glacier-backup vault create", "--dry-run", "--wait-lock", "12"})
    EXPECT_NE(text.find(line), std::string::npos) << line;
  EXPECT_EQ(text.find("glacier-backup man"), std::string::npos) << "the hidden helper is listed";
}

}  // namespace
}  // namespace gbe2e
