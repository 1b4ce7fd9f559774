#include "engine/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "core/host_name.h"
#include "engine/config_template.h"
#include "engine/prices.h"
#include "engine/selector.h"

namespace gb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Real keys from age-keygen (public halves only).
constexpr const char* kKey1 = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
constexpr const char* kKey2 = "age1xvxrlamlyz40ruj7r6kn8cervflcx35vwtfl5nzdvvm9h3vgqeeqwc0eax";

// A config with nothing but the required values; other tests append to it.
const std::string kMinimal = std::string("[source]\nincludes = [\"/data\"]\n[encryption]\n") +
                             "recipients = [\"" + kKey1 + "\"]\n";

// Runs each test with HOME pointing into a fresh temporary directory and no
// XDG variables, so "~" and the defaults are predictable.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "gb-config-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    home_ = root_ + "/home";
    dir_ = root_ + "/conf";
    MakeDirs(home_);
    MakeDirs(dir_);
    for (const char* name : {"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"}) {
      const char* value = getenv(name);
      saved_env_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
      unsetenv(name);
    }
    setenv("HOME", home_.c_str(), 1);
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_env_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    std::filesystem::remove_all(root_);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    MakeDirs(Dirname(path));
    WriteFileAtomic(path, text);
    return path;
  }
  Config Load(const std::string& text) { return LoadConfig(Write("config.toml", text)); }

  // The kInvalidArgument message loading `text` produces.
  std::string LoadError(const std::string& text) {
    try {
      Load(text);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kInvalidArgument) << e.what();
      std::string message = e.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
      return message;
    }
    ADD_FAILURE() << "loaded without error:\n" << text;
    return "";
  }

  std::string ConfigPath() const { return dir_ + "/config.toml"; }

  std::string root_, home_, dir_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_env_;
};

TEST_F(ConfigTest, MinimalConfigGetsDefaults) {
  Config c = Load(kMinimal);
  EXPECT_EQ(c.path, ConfigPath());
  EXPECT_THAT(c.includes, ElementsAre("/data"));
  EXPECT_THAT(c.excludes, ElementsAre());
  EXPECT_EQ(c.max_incrementals, 7);
  EXPECT_EQ(c.change_detection, ChangeDetection::kMetadata);
  EXPECT_EQ(c.on_change, OnChange::kStore);
  EXPECT_EQ(c.compression_level, 3);
  EXPECT_EQ(c.threads, 0);
  EXPECT_EQ(c.cache_dir, home_ + "/.cache/glacier-backup");
  EXPECT_EQ(c.state_dir, home_ + "/.local/share/glacier-backup");
  EXPECT_THAT(c.recipients, ElementsAre(kKey1));
  EXPECT_EQ(c.identity_file, dir_ + "/identity.txt");
  EXPECT_EQ(c.passphrase_file, "");
  EXPECT_EQ(c.vault_url, "file://" + home_ + "/.local/share/glacier-backup/vault");
  EXPECT_EQ(c.endpoint, "");
  EXPECT_EQ(c.region, "");
  EXPECT_EQ(c.profile, "");
  EXPECT_EQ(c.storage_class, "");
  EXPECT_EQ(c.size_limit, 0u);
  EXPECT_EQ(c.min_storage_days, std::nullopt);
  EXPECT_EQ(c.upload, "bundle");
  EXPECT_EQ(c.keep_local_sets, 0);
  EXPECT_EQ(c.backlog, "newest");
  EXPECT_EQ(c.max_staleness_days, 30);
  EXPECT_EQ(c.cache_limit, 0u);
  EXPECT_EQ(c.inventory_max_age_days, 7);
  EXPECT_EQ(c.inventory_min_interval_days, 2);
  EXPECT_EQ(c.bandwidth_limit, 0u);
  EXPECT_EQ(c.retrieval_tier, "Bulk");
}

TEST_F(ConfigTest, CommandSourcesHooksAndMonitoring) {
  Config c = Load(kMinimal + R"(
[[source.command]]
path = "/var/backups/postgres/app.sql"
run = ["pg_dump", "--format=plain", "app"]
timeout = 600
user = "postgres"

[[source.command]]
path = "~/notes.sql"
run = ["sqlite3", "/srv/notes.db", ".dump"]

[hooks]
before = [["systemctl", "stop", "app"], ["sync"]]
on_error = [["logger", ""]]
timeout = 30

[monitoring]
ping_url = "https://hc-ping.com/1234/"
textfile = "/var/lib/prometheus/node-exporter/glacier_backup.prom"
)");
  ASSERT_EQ(c.commands.size(), 2u);
  EXPECT_EQ(c.commands[0].path, "/var/backups/postgres/app.sql");
  EXPECT_THAT(c.commands[0].run, ElementsAre("pg_dump", "--format=plain", "app"));
  EXPECT_EQ(c.commands[0].timeout_seconds, 600);
  EXPECT_EQ(c.commands[0].user, "postgres");
  EXPECT_EQ(c.commands[1].path, home_ + "/notes.sql");
  EXPECT_EQ(c.commands[1].timeout_seconds, 0);
  EXPECT_EQ(c.commands[1].user, "");
  ASSERT_EQ(c.hooks.before.size(), 2u);
  EXPECT_THAT(c.hooks.before[0], ElementsAre("systemctl", "stop", "app"));
  EXPECT_TRUE(c.hooks.after.empty());
  EXPECT_THAT(c.hooks.on_error[0], ElementsAre("logger", ""));
  EXPECT_EQ(c.hooks.timeout_seconds, 30);
  EXPECT_EQ(c.ping_url, "https://hc-ping.com/1234");
  EXPECT_EQ(c.textfile, "/var/lib/prometheus/node-exporter/glacier_backup.prom");
  // Commands alone are something to back up.
  Config only = Load(std::string("[[source.command]]\npath = \"/x.sql\"\nrun = [\"true\"]\n") +
                     "[encryption]\nrecipients = [\"" + kKey1 + "\"]\n");
  EXPECT_TRUE(only.includes.empty());
  EXPECT_EQ(only.commands.size(), 1u);
}

TEST_F(ConfigTest, EveryKeySet) {
  Config c = Load(std::string(R"([source]
includes = ["/srv/a", "/srv/b/file.txt"]
excludes = ["*.tmp", ".git", "/etc/passwd", "**/node_modules"]

[backup]
max_incrementals = 0
change_detection = "content"
on_change = "skip"
compression_level = 19
threads = 8
cache_dir = "/var/cache/gb"
state_dir = "/var/lib/gb"

[encryption]
recipients = [")") +
                  kKey1 + "\", \"" + kKey2 + R"("]
identity_file = "/keys/me.txt"

[vault]
url = "s3://my-bucket/backups/laptop/"
endpoint = "http://127.0.0.1:5000/"
region = "eu-central-1"
profile = "backup"
storage_class = "glacier_ir"
size_limit = "500 GB"
min_storage_days = 90
upload = "each"
keep_local_sets = 2
inventory_max_age_days = 14
inventory_min_interval_days = 3
bandwidth_limit = "10 MB/s"
retrieval_tier = "standard"
)");
  EXPECT_THAT(c.includes, ElementsAre("/srv/a", "/srv/b/file.txt"));
  EXPECT_THAT(c.excludes, ElementsAre("*.tmp", ".git", "/etc/passwd", "**/node_modules"));
  EXPECT_EQ(c.max_incrementals, 0);
  EXPECT_EQ(c.change_detection, ChangeDetection::kContent);
  EXPECT_EQ(c.on_change, OnChange::kSkip);
  EXPECT_EQ(c.compression_level, 19);
  EXPECT_EQ(c.threads, 8);
  EXPECT_EQ(c.cache_dir, "/var/cache/gb");
  EXPECT_EQ(c.state_dir, "/var/lib/gb");
  EXPECT_THAT(c.recipients, ElementsAre(kKey1, kKey2));
  EXPECT_EQ(c.identity_file, "/keys/me.txt");
  EXPECT_EQ(c.vault_url, "s3://my-bucket/backups/laptop");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:5000");
  EXPECT_EQ(c.region, "eu-central-1");
  EXPECT_EQ(c.profile, "backup");
  EXPECT_EQ(c.storage_class, "GLACIER_IR");
  EXPECT_EQ(c.size_limit, 500'000'000'000u);
  EXPECT_EQ(c.min_storage_days, 90);
  EXPECT_EQ(c.upload, "each");
  EXPECT_EQ(c.keep_local_sets, 2);
  EXPECT_EQ(c.inventory_max_age_days, 14);
  EXPECT_EQ(c.inventory_min_interval_days, 3);
  EXPECT_EQ(c.bandwidth_limit, 10'000'000u);
  EXPECT_EQ(c.retrieval_tier, "Standard");
}

TEST_F(ConfigTest, VaultUrls) {
  auto with_vault = [&](const std::string& vault) { return Load(kMinimal + "[vault]\n" + vault); };
  Config s3 = with_vault("url = \"s3://bucket-1\"\n");
  EXPECT_EQ(s3.vault_url, "s3://bucket-1");
  EXPECT_EQ(s3.storage_class, "DEEP_ARCHIVE");  // the s3 default

  Config glacier = with_vault("url = \"glacier://eu-west-1/My.Vault_1\"\n");
  EXPECT_EQ(glacier.vault_url, "glacier://eu-west-1/My.Vault_1");
  EXPECT_EQ(glacier.region, "eu-west-1");
  EXPECT_EQ(glacier.storage_class, "");
  EXPECT_EQ(with_vault("url = \"glacier://us-east-1/v\"\nregion = \"us-east-1\"\n").region,
            "us-east-1");

  EXPECT_EQ(with_vault("url = \"file://~/vault/\"\n").vault_url, "file://" + home_ + "/vault");
  EXPECT_EQ(with_vault("url = \"file:///mnt//usb/./v\"\n").vault_url, "file:///mnt/usb/v");
}

TEST_F(ConfigTest, TildeExpansionAndNormalisation) {
  Config c = Load(R"([source]
includes = ["~/docs", "~", "/a/./b/../c/", "//x//y"]
excludes = ["~/docs/junk", "~notexpanded", "*.tmp"]
[backup]
cache_dir = "~/cache"
state_dir = "~/state/"
[encryption]
passphrase_file = "~/pw.txt"
identity_file = "~/id.txt"
)");
  EXPECT_THAT(c.includes, ElementsAre(home_ + "/docs", home_, "/a/c", "/x/y"));
  EXPECT_THAT(c.excludes, ElementsAre(home_ + "/docs/junk", "~notexpanded", "*.tmp"));
  EXPECT_EQ(c.cache_dir, home_ + "/cache");
  EXPECT_EQ(c.state_dir, home_ + "/state");
  EXPECT_EQ(c.passphrase_file, home_ + "/pw.txt");
  EXPECT_EQ(c.identity_file, home_ + "/id.txt");
  EXPECT_THAT(c.recipients, ElementsAre());
}

TEST_F(ConfigTest, RelativePathsResolveAgainstTheConfigDirectory) {
  Write("sub/spec.json", R"({"includes": ["/from/spec"]})");
  std::string text = R"([source]
spec = "sub/spec.json"
[backup]
cache_dir = "cache"
state_dir = "../state"
[encryption]
passphrase_file = "keys/pw.txt"
identity_file = "./keys/id.txt"
)";
  Write("config.toml", text);
  // Also load through a relative config path: everything must still come out absolute.
  std::string old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(root_);
  Config c = LoadConfig("conf/config.toml");
  std::filesystem::current_path(old_cwd);
  EXPECT_EQ(c.path, dir_ + "/config.toml");
  EXPECT_THAT(c.includes, ElementsAre("/from/spec"));
  EXPECT_EQ(c.cache_dir, dir_ + "/cache");
  EXPECT_EQ(c.state_dir, root_ + "/state");
  EXPECT_EQ(c.passphrase_file, dir_ + "/keys/pw.txt");
  EXPECT_EQ(c.identity_file, dir_ + "/keys/id.txt");
}

TEST_F(ConfigTest, XdgDirectoriesAreHonoured) {
  setenv("XDG_CONFIG_HOME", "/xdg/config", 1);
  setenv("XDG_CACHE_HOME", "/xdg/cache/", 1);
  setenv("XDG_DATA_HOME", "/xdg/data", 1);
  EXPECT_EQ(DefaultConfigPath(), "/xdg/config/glacier-backup/config.toml");
  Config c = Load(kMinimal);
  EXPECT_EQ(c.cache_dir, "/xdg/cache/glacier-backup");
  EXPECT_EQ(c.state_dir, "/xdg/data/glacier-backup");
  EXPECT_EQ(c.vault_url, "file:///xdg/data/glacier-backup/vault");
  // Relative XDG values are invalid per the XDG spec and ignored.
  setenv("XDG_CONFIG_HOME", "relative", 1);
  EXPECT_EQ(DefaultConfigPath(), home_ + "/.config/glacier-backup/config.toml");
  unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(DefaultConfigPath(), home_ + "/.config/glacier-backup/config.toml");
}

TEST_F(ConfigTest, OriginalSpecFileWorksVerbatim) {
  Write("includeexclude.json", R"({
  "includes" : ["/path/to/first/dir", "/path/to/second/dir", "/this/specific/file.txt"],
  "excludes" : ["*.tmp", ".git", "/etc/passwd"]
}
)");
  Config c = Load(std::string("[source]\nspec = \"includeexclude.json\"\n") +
                  "includes = [\"/mine\"]\nexcludes = [\"*.bak\"]\n" +
                  "[encryption]\nrecipients = [\"" + kKey1 + "\"]\n");
  EXPECT_THAT(c.includes, ElementsAre("/mine", "/path/to/first/dir", "/path/to/second/dir",
                                      "/this/specific/file.txt"));
  EXPECT_THAT(c.excludes, ElementsAre("*.bak", "*.tmp", ".git", "/etc/passwd"));
  Selector selector(c.includes, c.excludes);
  EXPECT_TRUE(selector.Excluded("/path/to/first/dir/a.tmp"));
  EXPECT_TRUE(selector.Excluded("/mine/repo/.git"));
  EXPECT_FALSE(selector.Excluded("/this/specific/file.txt"));
  EXPECT_THAT(selector.Roots(), ElementsAre("/mine", "/path/to/first/dir", "/path/to/second/dir",
                                            "/this/specific/file.txt"));
}

TEST_F(ConfigTest, SpecFileErrors) {
  auto spec_error = [&](const std::string& json) {
    Write("spec.json", json);
    return LoadError(std::string("[source]\nspec = \"spec.json\"\n[encryption]\n") +
                     "recipients = [\"" + kKey1 + "\"]\n");
  };
  std::string spec = dir_ + "/spec.json";
  EXPECT_THAT(spec_error("{\n  \"includes\": [\"/a\"],\n  \"excludes\": [\"x\" \"y\"]\n}"),
              StartsWith(spec + ":3:22: JSON syntax error: "));
  EXPECT_THAT(spec_error("{\"includes\": [\"/a\"]"), StartsWith(spec + ":1:"));
  EXPECT_EQ(spec_error("{\"includes\": \"/a\"}"),
            spec + ": \"includes\" must be an array of strings, got \"/a\"");
  EXPECT_EQ(spec_error("{\"includes\": [\"/a\", 5]}"),
            spec + ": \"includes\"[1] must be a non-empty string, got 5");
  EXPECT_EQ(spec_error("{\"include\": [\"/a\"]}"),
            spec + ": unknown key \"include\" (did you mean \"includes\"?)");
  EXPECT_EQ(spec_error("{\"includes\": [\"rel/a\"]}"),
            spec + ": \"includes\"[0] must be an absolute path (or start with ~/), got \"rel/a\"");
  EXPECT_THAT(spec_error("{\"includes\": [\"/a\"], \"excludes\": [\"x/../y\"]}"),
              StartsWith(spec + ": \"excludes\"[0]: exclude pattern \"x/../y\""));
  EXPECT_THAT(spec_error("[\"/a\"]"), StartsWith(spec + ": must be a JSON object like"));
  // A missing spec file is reported at the config line naming it.
  std::filesystem::remove(spec);
  EXPECT_THAT(LoadError("[source]\nspec = \"spec.json\"\n"),
              StartsWith(ConfigPath() + ":2: [source] spec file cannot be read: " + spec));
}

TEST_F(ConfigTest, MissingFileIsAConfigurationError) {
  std::string path = dir_ + "/nope.toml";
  try {
    LoadConfig(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_EQ(std::string(e.what()),
              "no config at " + path + ": run `glacier-backup init` or pass --config");
  }
}

TEST_F(ConfigTest, SyntaxErrorNamesLineAndColumn) {
  std::string message = LoadError("[source]\nincludes = [\"/a\"]\n\nthreads = 4 5\n");
  EXPECT_THAT(message, StartsWith(ConfigPath() + ":4:13: TOML syntax error: "));
  EXPECT_THAT(LoadError("[backup]\nthreads = 1\nthreads = 2\n"),
              StartsWith(ConfigPath() + ":3:"));  // duplicate key
}

// Each error: the config text (after kMinimal unless it has its own [source]) and
// the message after "PATH:".
struct ErrorCase {
  std::string text;
  std::string expected;
};

TEST_F(ConfigTest, ErrorsNameFileLineAndKey) {
  const std::string s = "[source]\nincludes = [\"/a\"]\n";  // lines 1-2
  const std::string e = std::string("[encryption]\nrecipients = [\"") + kKey1 + "\"]\n";
  const std::vector<ErrorCase> cases = {
      // Layout.
      {s + "inclues = []\n" + e,
       "3: unknown key \"inclues\" in [source] (did you mean \"includes\"?)"},
      {s + "threads = 2\n" + e, "3: unknown key \"threads\" in [source] (it belongs in [backup])"},
      {s + "colour = 2\n" + e,
       "3: unknown key \"colour\" in [source]; known keys: includes excludes spec command"},
      {e + "[vault]\nuri = \"s3://bkt\"\n" + s,
       "4: unknown key \"uri\" in [vault] (did you mean \"url\"?)"},
      {s + e + "[sourc]\n",
       "5: unknown section [sourc] (did you mean [source]?); sections are [source], [backup], "
       "[encryption], [vault], [prices], [fleet], [hooks], [monitoring]"},
      {"threads = 2\n" + s + e, "1: key \"threads\" is outside any section: put it under [backup]"},
      {s + e + "[[backup]]\n",
       "5: \"backup\" must be a section: write [backup] on a line of its "
       "own, keys below it"},
      {"backup = 1\n" + s + e, "1: \"backup\" must be a section"},
      // Types and ranges.
      {s + e + "[backup]\n\nmax_incrementals = \"seven\"\n",
       "7: [backup] max_incrementals must be an integer >= 0, got \"seven\""},
      {s + e + "[backup]\nmax_incrementals = -1\n",
       "6: [backup] max_incrementals must be an integer >= 0, got -1"},
      {s + e + "[backup]\nmax_incrementals = 3000000000\n",
       "6: [backup] max_incrementals must be an integer >= 0, got 3000000000"},
      {s + e + "[backup]\ncompression_level = 20\n",
       "6: [backup] compression_level must be an integer from 1 to 19, got 20"},
      {s + e + "[backup]\ncompression_level = 3.5\n",
       "6: [backup] compression_level must be an integer from 1 to 19, got 3.5"},
      {s + e + "[backup]\nthreads = true\n",
       "6: [backup] threads must be an integer from 0 (one per core) to 1024, got true"},
      {s + e + "[backup]\non_change = \"retry\"\n",
       "6: [backup] on_change must be one of \"store\", \"skip\", got \"retry\""},
      {s + e + "[backup]\nchange_detection = \"hash\"\n",
       "6: [backup] change_detection must be one of \"metadata\", \"content\", got \"hash\""},
      {s + e + "[backup]\ncache_dir = \"\"\n",
       "6: [backup] cache_dir must be a non-empty path string, got \"\""},
      {s + e + "[backup]\nstate_dir = \"~bob/x\"\n",
       "6: [backup] state_dir: \"~user\" paths are not supported, got \"~bob/x\"; write the full "
       "path"},
      {"[source]\nincludes = \"/home\"\n" + e,
       "2: [source] includes must be an array of strings, e.g. includes = [\"~/Documents\"], got "
       "\"/home\""},
      {"[source]\nincludes = [\n  \"/a\",\n  7,\n]\n" + e,
       "4: [source] includes[1] must be a non-empty string, got 7"},
      {"[source]\nincludes = [\"relative/path\"]\n" + e,
       "2: [source] includes must be absolute paths (or start with ~/), got \"relative/path\""},
      {s + "excludes = [\"ok\", \"a/../b\"]\n" + e,
       "3: [source] excludes: exclude pattern \"a/../b\" may not contain \"..\" components"},
      // Required values.
      {"[source]\nexcludes = [\"*.tmp\"]\n" + e,
       "1: [source] needs at least one path to back up: add includes = [\"~/Documents\"], "
       "spec = \"includeexclude.json\" or a [[source.command]]"},
      // Command sources, hooks, monitoring.
      {s + "command = [\"pg_dump\"]\n" + e,
       "3: [source] command must be written as [[source.command]] tables"},
      {s + e + "[[source.command]]\npath = \"dump.sql\"\nrun = [\"pg_dump\"]\n",
       "6: [[source.command]] #1 path must be an absolute file path"},
      {s + e + "[[source.command]]\npath = \"/d.sql\"\nrun = \"pg_dump app\"\n",
       "7: [[source.command]] #1 run must be a command as an array of strings (argv, no shell)"},
      {s + e + "[[source.command]]\npath = \"/d.sql\"\nrun = [\"a\"]\ntimout = 3\n",
       "8: unknown key \"timout\" in [[source.command]] #1 (did you mean \"timeout\"?)"},
      {s + e + "[[source.command]]\npath = \"/d.sql\"\nrun = [\"a\"]\n[[source.command]]\n" +
           "path = \"/d.sql\"\nrun = [\"b\"]\n",
       "9: [[source.command]] #2 path \"/d.sql\" is already the path of another"},
      {s + e + "[hooks]\nbefore = [\"systemctl\", \"stop\", \"app\"]\n",
       "6: [hooks] before must be a list of commands, each an array of strings (argv, no shell)"},
      {s + e + "[hooks]\nafter = [[]]\n", "6: [hooks] after[0] must be a command"},
      {s + e + "[hooks]\ntimeout = 0\n",
       "6: [hooks] timeout must be a number of seconds >= 1, got 0"},
      {s + e + "[monitoring]\nping_url = \"hc-ping.com/x\"\n",
       "6: [monitoring] ping_url must be an http:// or https:// URL"},
      {s + e + "[monitoring]\ntextfile = \"/var/lib/node/glacier_backup.txt\"\n",
       "6: [monitoring] textfile must be a file name ending in \".prom\""},
      {"[source]\nincludes = []\n" + e, "2: [source] needs at least one path to back up"},
      {s + "[encryption]\nidentity_file = \"id.txt\"\n",
       "3: [encryption] needs recipients = [\"age1...\"] (the public key from age-keygen) or "
       "passphrase_file = \"PATH\""},
      {e + "[source]\nincludes = [\"/a\"]\n[encryption]\n",
       "5:1: TOML syntax error"},  // a section defined twice is a syntax error
      // Encryption.
      {s + "[encryption]\nrecipients = "
           "[\"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8q\"]\n",
       "4: [encryption] recipients[0]: invalid age recipient "
       "\"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8q\": invalid checksum; use "
       "the \"public key: age1...\" line age-keygen prints"},
      {s + "[encryption]\nrecipients = [\n  \"" + kKey2 + "\",\n  \"age1bad\",\n]\n",
       "6: [encryption] recipients[1]: invalid age recipient \"age1bad\""},
      {s + "[encryption]\nrecipients = [\"ssh-ed25519 AAAA\"]\n",
       "4: [encryption] recipients[0]: invalid age recipient \"ssh-ed25519 AAAA\""},
      {s + e + "passphrase_file = \"pw\"\n",
       "5: [encryption] passphrase_file and recipients cannot be used together"},
      // Vault.
      {s + e + "[vault]\nurl = \"ftp://x\"\n",
       "6: [vault] url must be a URL starting with file://, glacier:// or s3://, got "
       "\"ftp://x\""},
      {s + e + "[vault]\nurl = \"glacier://eu-west-1\"\n",
       "6: [vault] url must be glacier://REGION/VAULT"},
      {s + e + "[vault]\nurl = \"glacier://eu-west-1/a/b\"\n",
       "6: [vault] url must be glacier://REGION/VAULT"},
      {s + e + "[vault]\nurl = \"s3://AB\"\n", "6: [vault] url must be s3://BUCKET"},
      {s + e + "[vault]\nurl = \"file://relative/dir\"\n",
       "6: [vault] url must be file:///ABSOLUTE/DIR or file://~/DIR, got "
       "\"file://relative/dir\""},
      {s + e + "[vault]\nurl = \"glacier://eu-west-1/v\"\nregion = \"us-east-1\"\n",
       "7: [vault] region \"us-east-1\" contradicts url \"glacier://eu-west-1/v\""},
      {s + e + "[vault]\nurl = \"glacier://eu-west-1/v\"\nstorage_class = \"GLACIER\"\n",
       "7: [vault] storage_class applies only to s3:// vaults"},
      {s + e + "[vault]\nurl = \"s3://bkt\"\nstorage_class = \"COLD\"\n",
       "7: [vault] storage_class must be one of \"DEEP_ARCHIVE\", \"GLACIER\", \"GLACIER_IR\", "
       "\"STANDARD_IA\", \"STANDARD\", got \"COLD\""},
      {s + e + "[vault]\nsize_limit = \"lots\"\n",
       "6: [vault] size_limit must be a whole number of bytes or a string like \"500 GB\""},
      {s + e + "[vault]\nsize_limit = -1\n", "6: [vault] size_limit must be a whole number"},
      {s + e + "[vault]\nbandwidth_limit = 1.5\n",
       "6: [vault] bandwidth_limit must be a whole number of bytes or a string like \"10 MB\""},
      {s + e + "[vault]\nupload = \"batch\"\n",
       "6: [vault] upload must be one of \"bundle\", \"each\", got \"batch\""},
      {s + e + "[vault]\nbacklog = \"oldest\"\n",
       "6: [vault] backlog must be one of \"newest\", \"all\", got \"oldest\""},
      {s + e + "[vault]\nmax_staleness_days = 0\n",
       "6: [vault] max_staleness_days must be an integer number of days >= 1, got 0"},
      {s + e + "[vault]\nretrieval_tier = \"Fast\"\n",
       "6: [vault] retrieval_tier must be one of \"Expedited\", \"Standard\", \"Bulk\", got "
       "\"Fast\""},
      {s + e + "[vault]\nurl = \"s3://bkt\"\nretrieval_tier = \"Expedited\"\n",
       "7: [vault] retrieval_tier \"Expedited\" is not offered for DEEP_ARCHIVE"},
      {s + e + "[vault]\nendpoint = \"localhost:5000\"\n",
       "6: [vault] endpoint must be an http:// or https:// URL, got \"localhost:5000\""},
      {s + e + "[vault]\nmin_storage_days = -3\n",
       "6: [vault] min_storage_days must be an integer number of days >= 0, got -3"},
      {s + e + "[vault]\nkeep_local_sets = \"2\"\n",
       "6: [vault] keep_local_sets must be an integer >= 0, got \"2\""},
      {s + e + "[prices]\nstorage_gb_month = \"cheap\"\n",
       "6: [prices] storage_gb_month must be a price in USD >= 0, like 0.0036, got \"cheap\""},
      {s + e + "[prices]\nput_per_1000 = -0.05\n", "6: [prices] put_per_1000 must be a price"},
      {s + e + "[prices]\nretrieval_gb_fast = 0.1\n",
       "6: unknown key \"retrieval_gb_fast\" in [prices]"},
      {s + e + "[vault]\ninventory_min_interval_days = -1\n",
       "6: [vault] inventory_min_interval_days must be an integer number of days >= 0"},
      {s + e + "[backup]\nhost = \"../other\"\n",
       "6: [backup] host must be 1 to 63 letters, digits, '.', '_' or '-', not starting with '.' "
       "or '-', got \"../other\""},
      {s + e + "[backup]\nhost = \"lap top\"\n", "6: [backup] host must be 1 to 63"},
  };
  for (const ErrorCase& c : cases) {
    EXPECT_THAT(LoadError(c.text), StartsWith(ConfigPath() + ":" + c.expected)) << c.text;
  }
}

TEST_F(ConfigTest, MissingSectionsHaveNoLine) {
  EXPECT_EQ(LoadError(std::string("[encryption]\nrecipients = [\"") + kKey1 + "\"]\n"),
            ConfigPath() +
                ": [source] needs at least one path to back up: add includes = [\"~/Documents\"], "
                "spec = \"includeexclude.json\" or a [[source.command]]");
  EXPECT_THAT(LoadError("[source]\nincludes = [\"/a\"]\n"),
              StartsWith(ConfigPath() + ": [encryption] needs recipients"));
}

TEST_F(ConfigTest, SecretKeyInRecipientsIsNotEchoed) {
  const std::string secret =
      "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZ";
  std::string message =
      LoadError("[source]\nincludes = [\"/a\"]\n[encryption]\nrecipients = [\"" + secret + "\"]\n");
  EXPECT_THAT(message, StartsWith(ConfigPath() + ":4: [encryption] recipients[0]: "));
  EXPECT_THAT(message, HasSubstr("secret key"));
  EXPECT_EQ(message.find("QYQSZ"), std::string::npos) << message;
}

TEST_F(ConfigTest, ReportsTheEarliestProblemInTheFile) {
  EXPECT_THAT(
      LoadError("[vault]\nupload = \"x\"\n[backup]\nthreads = -1\n[source]\nincludes = [1]\n"),
      StartsWith(ConfigPath() + ":2: [vault] upload must be one of"));
  EXPECT_THAT(LoadError("[backup]\nthreads = -1\n[source]\nincludes = [1]\n"),
              StartsWith(ConfigPath() + ":2: [backup] threads must be"));
  // A missing section has no line, so a problem with a line comes first.
  EXPECT_THAT(LoadError("[backup]\n\n\nmax_incrementals = [1, 2]\n"),
              StartsWith(ConfigPath() + ":4: [backup] max_incrementals must be an integer >= 0, "
                                        "got [ 1, 2 ]"));
}

TEST_F(ConfigTest, PassphraseInsteadOfRecipientsAndUppercaseKeys) {
  Config c = Load("[source]\nincludes = [\"/a\"]\n[encryption]\npassphrase_file = \"pw\"\n");
  EXPECT_EQ(c.passphrase_file, dir_ + "/pw");
  EXPECT_THAT(c.recipients, ElementsAre());
  std::string upper = kKey2;
  for (char& ch : upper) ch = static_cast<char>(toupper(ch));
  Config u =
      Load("[source]\nincludes = [\"/a\"]\n[encryption]\nrecipients = [\"" + upper + "\"]\n");
  EXPECT_THAT(u.recipients, ElementsAre(kKey2));
}

TEST(ParseByteSizeTest, Table) {
  const std::pair<const char*, std::optional<uint64_t>> cases[] = {
      {"0", 0},
      {"12345", 12345},
      {"  7  ", 7},
      {"500 GB", 500'000'000'000ull},
      {"500GB", 500'000'000'000ull},
      {"1.5TiB", 1'649'267'441'664ull},
      {"200MiB", 209'715'200ull},
      {"10 MB/s", 10'000'000ull},
      {"10MB/s", 10'000'000ull},
      {"1 KiB", 1024},
      {"1kb", 1000},
      {"2 b", 2},
      {"0.5 KB", 500},
      {".5 KiB", 512},
      {"1.0001 KB", 1000},  // fractions of a byte round down
      {"3 PiB", 3ull << 50},
      {"18446744073709551615", UINT64_MAX},
      {"18446744073709551616", std::nullopt},
      {"16384 PiB", std::nullopt},  // 2^64
      {"1.5", std::nullopt},
      {"", std::nullopt},
      {"GB", std::nullopt},
      {".", std::nullopt},
      {"-1 GB", std::nullopt},
      {"1,5 GB", std::nullopt},
      {"1 G", std::nullopt},
      {"1 EiB", std::nullopt},
      {"1 GB extra", std::nullopt},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(ParseByteSize(text), expected) << text;
}

TEST_F(ConfigTest, HostDefaultsToASafeHostName) {
  const std::string base =
      std::string("[source]\nincludes = [\"/a\"]\n[encryption]\nrecipients = [\"") + kKey1 +
      "\"]\n";
  Config c = Load(base);
  EXPECT_TRUE(IsSafeHostName(c.host)) << c.host;
  EXPECT_EQ(c.host, SystemHostName());
  EXPECT_EQ(Load(base + "[backup]\nhost = \"nas-01.home\"\n").host, "nas-01.home");
}

TEST_F(ConfigTest, FleetLeaseSeconds) {
  EXPECT_EQ(Load(kMinimal).fleet_lease_seconds, 600);
  EXPECT_EQ(Load(kMinimal + "[fleet]\nlease_seconds = 30\n").fleet_lease_seconds, 30);
  EXPECT_THAT(LoadError(kMinimal + "[fleet]\nlease_seconds = 5\n"), HasSubstr("lease_seconds"));
}

TEST_F(ConfigTest, SizesAsIntegers) {
  Config c = Load(kMinimal + "[vault]\nsize_limit = 1099511627776\nbandwidth_limit = 0\n");
  EXPECT_EQ(c.size_limit, 1ull << 40);
  EXPECT_EQ(c.bandwidth_limit, 0u);
}

TEST_F(ConfigTest, TemplateRoundTrips) {
  ConfigTemplateParams p;
  p.includes = {home_ + "/Documents", "/etc/fstab", "/srv/we\"ird\\dir"};
  p.recipient = kKey2;
  p.identity_file = dir_ + "/identity.txt";
  p.vault_url = "glacier://eu-west-1/backups";
  p.cache_dir = "/var/cache/gb";
  p.state_dir = "/var/lib/gb";
  std::string text = RenderConfigTemplate(p);
  Config c = Load(text);
  EXPECT_EQ(c.includes, p.includes);
  EXPECT_THAT(c.recipients, ElementsAre(kKey2));
  EXPECT_EQ(c.identity_file, p.identity_file);
  EXPECT_EQ(c.vault_url, p.vault_url);
  EXPECT_EQ(c.cache_dir, p.cache_dir);
  EXPECT_EQ(c.state_dir, p.state_dir);
  // Everything else is at its default.
  Config defaults;
  EXPECT_THAT(c.excludes, ElementsAre());
  EXPECT_EQ(c.max_incrementals, defaults.max_incrementals);
  EXPECT_EQ(c.change_detection, defaults.change_detection);
  EXPECT_EQ(c.compression_level, defaults.compression_level);
  EXPECT_EQ(c.threads, defaults.threads);
  EXPECT_EQ(c.passphrase_file, "");
  EXPECT_EQ(c.size_limit, defaults.size_limit);
  EXPECT_EQ(c.min_storage_days, std::nullopt);
  EXPECT_EQ(c.upload, defaults.upload);
  EXPECT_EQ(c.keep_local_sets, defaults.keep_local_sets);
  EXPECT_EQ(c.inventory_max_age_days, defaults.inventory_max_age_days);
  EXPECT_EQ(c.inventory_min_interval_days, defaults.inventory_min_interval_days);
  EXPECT_EQ(c.bandwidth_limit, defaults.bandwidth_limit);
  EXPECT_EQ(c.retrieval_tier, defaults.retrieval_tier);
}

TEST_F(ConfigTest, TemplateDocumentsEveryKey) {
  std::string text = RenderConfigTemplate({});
  for (const char* key : {"[[source.command]]", "path = ", "run = ", "timeout = ", "user = "})
    EXPECT_NE(text.find("\n#   " + std::string(key)), std::string::npos) << key;
  for (const char* key : {"includes",
                          "excludes",
                          "spec",
                          "before",
                          "after",
                          "on_error",
                          "ping_url",
                          "textfile",
                          "max_incrementals",
                          "change_detection",
                          "compression_level",
                          "threads",
                          "cache_dir",
                          "state_dir",
                          "recipients",
                          "identity_file",
                          "passphrase_file",
                          "url",
                          "endpoint",
                          "region",
                          "profile",
                          "storage_class",
                          "size_limit",
                          "min_storage_days",
                          "upload",
                          "keep_local_sets",
                          "inventory_max_age_days",
                          "inventory_min_interval_days",
                          "bandwidth_limit",
                          "retrieval_tier",
                          "storage_gb_month",
                          "put_per_1000",
                          "retrieval_gb_expedited",
                          "retrieval_gb_standard",
                          "retrieval_gb_bulk",
                          "retrieval_per_1000_expedited",
                          "retrieval_per_1000_standard",
                          "retrieval_per_1000_bulk",
                          "taken",
                          "stale_after_days",
                          "lease_seconds"}) {
    bool set = text.find("\n" + std::string(key) + " = ") != std::string::npos;
    bool commented = text.find("\n# " + std::string(key) + " = ") != std::string::npos;
    EXPECT_TRUE(set || commented) << key << " is not in the template";
  }
}

// Uncommenting every "# key = value" line of the template must give a config
// that loads (the documented examples are valid values).
TEST_F(ConfigTest, TemplateExamplesAreValid) {
  ConfigTemplateParams p;
  p.includes = {"/a"};
  p.vault_url = "s3://bucket";  // storage_class applies to s3 only
  Write("includeexclude.json", R"({"includes": ["/b"], "excludes": ["*.tmp"]})");
  std::string text = RenderConfigTemplate(p);
  std::string uncommented;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# ") && line.find(" = ") != std::string::npos &&
        line.find(' ', 2) == line.find(" = ")) {
      line = line.substr(2);
    }
    uncommented += line + "\n";
  }
  Config c = Load(uncommented);
  EXPECT_EQ(c.passphrase_file, dir_ + "/passphrase.txt");
  EXPECT_THAT(c.includes, ElementsAre("/a", "/b"));
  EXPECT_EQ(c.storage_class, "DEEP_ARCHIVE");
  EXPECT_EQ(c.min_storage_days, 180);
}

TEST_F(ConfigTest, EmptyTemplateNeedsIncludesThenRecipients) {
  EXPECT_THAT(LoadError(RenderConfigTemplate({})),
              HasSubstr("[source] needs at least one path to back up"));
  ConfigTemplateParams p;
  p.includes = {"/a"};
  EXPECT_THAT(LoadError(RenderConfigTemplate(p)), HasSubstr("[encryption] needs recipients"));
  p.recipient = kKey1;
  Config c = Load(RenderConfigTemplate(p));
  EXPECT_EQ(c.cache_dir, home_ + "/.cache/glacier-backup");
  EXPECT_EQ(c.state_dir, home_ + "/.local/share/glacier-backup");
  EXPECT_EQ(c.identity_file, dir_ + "/identity.txt");
  EXPECT_EQ(c.vault_url, "file://" + home_ + "/.local/share/glacier-backup/vault");
}

// [prices] replaces the built-in prices it names and keeps the others; the
// estimates say where their prices come from.
TEST_F(ConfigTest, PricesOverrideTheBuiltInTable) {
  Config builtin = Load(std::string(kMinimal) + "[vault]\nurl = \"s3://bkt\"\n");
  PriceTable b = PricesFor(builtin);
  EXPECT_NE(b.source.find("us-east-1"), std::string::npos) << b.source;

  Config c = Load(std::string(kMinimal) +
                  "[vault]\nurl = \"s3://bkt\"\n[prices]\nstorage_gb_month = 0.0018\n"
                  "retrieval_gb_bulk = 1\ntaken = \"eu-central-1 2026-10-01\"\n");
  PriceTable p = PricesFor(c);
  EXPECT_DOUBLE_EQ(p.storage_gb_month, 0.0018);
  EXPECT_DOUBLE_EQ(p.retrieval_gb[2], 1.0);
  EXPECT_DOUBLE_EQ(p.retrieval_gb[1], b.retrieval_gb[1]) << "unset keys keep the built-in price";
  EXPECT_DOUBLE_EQ(p.put_per_1000, b.put_per_1000);
  EXPECT_EQ(p.min_storage_days, b.min_storage_days);
  EXPECT_NE(p.source.find("eu-central-1 2026-10-01"), std::string::npos) << p.source;
  EXPECT_NEAR(StorageCostPerMonth(p, 10ull << 30), 10 * 0.0018, 1e-9)
      << "10 GiB for a month at the configured price";
}

}  // namespace
}  // namespace gb
