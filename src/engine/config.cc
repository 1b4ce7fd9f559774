#include "engine/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "core/error.h"
#include "core/file.h"
#include "core/file_modes.h"
#include "core/host_name.h"
#include "crypto/minisign.h"
#include "crypto/x25519.h"
#include "engine/selector.h"

namespace gb {
namespace {

struct SectionKeys {
  std::string_view section;
  std::vector<std::string_view> keys;
};

const std::vector<SectionKeys>& KnownKeys() {
  static const std::vector<SectionKeys> kKeys = {
      {"source", {"includes", "excludes", "spec", "command"}},
      {"backup",
       {"max_incrementals", "change_detection", "on_change", "compression_level", "threads",
        "cache_dir", "state_dir", "cache_limit", "delta_min_size", "host"}},
      {"encryption",
       {"recipients", "identity_file", "passphrase_file", "signing_key_file", "trusted_signers"}},
      {"vault",
       {"url", "endpoint", "region", "profile", "storage_class", "size_limit", "min_storage_days",
        "upload", "keep_local_sets", "inventory_max_age_days", "inventory_min_interval_days",
        "bandwidth_limit", "retrieval_tier", "backlog", "max_staleness_days"}},
      {"prices",
       {"storage_gb_month", "put_per_1000", "retrieval_gb_expedited", "retrieval_gb_standard",
        "retrieval_gb_bulk", "retrieval_per_1000_expedited", "retrieval_per_1000_standard",
        "retrieval_per_1000_bulk", "taken"}},
      {"fleet", {"stale_after_days", "size_limit", "lease_seconds"}},
      {"hooks", {"before", "after", "on_error", "timeout"}},
      {"monitoring", {"ping_url", "textfile"}},
  };
  return kKeys;
}

// ASCII only, whatever the locale.
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The candidate closest to `word`, or "" when none is close enough to suggest.
std::string_view Closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string w = Lower(word);
  std::string_view best;
  size_t best_distance = SIZE_MAX;
  for (std::string_view c : candidates) {
    size_t d = EditDistance(w, c);
    if (w.size() >= 3 && c.find(w) != std::string_view::npos) d = std::min<size_t>(d, 2);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best_distance <= std::max<size_t>(2, w.size() / 3) ? best : std::string_view();
}

// Quotes a string for an error message: "..." with \, " and control characters escaped.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// How a TOML value is shown after "got": strings quoted, others as TOML, long ones cut.
std::string Got(const toml::node& node) {
  if (const auto* s = node.as_string()) return Quote(s->get());
  if (node.is_table()) return "a table";
  std::ostringstream os;
  node.visit([&](const auto& v) { os << v; });
  std::string text = os.str();
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

std::string Got(const nlohmann::json& j) {
  if (j.is_string()) return Quote(j.get<std::string>());
  std::string text = j.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// The byte offset (0-based) as 1-based line and column.
std::pair<size_t, size_t> LineColumn(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

std::string XdgDir(const char* variable, const char* fallback) {
  const char* value = std::getenv(variable);
  if (value != nullptr && value[0] == '/') return NormalizePath(value);
  return NormalizePath(ExpandUser(fallback));
}

// Reads one config file into a Config, failing on the first problem.
class Loader {
 public:
  Loader(std::string shown_path, std::string abs_path)
      : shown_(std::move(shown_path)), dir_(Dirname(abs_path)) {
    config_.path = std::move(abs_path);
  }

  Config Load(const std::string& text) {
    toml::table root;
    try {
      root = toml::parse(text, shown_);
    } catch (const toml::parse_error& e) {
      std::string what(e.description());
      std::replace(what.begin(), what.end(), '\n', ' ');
      const auto& at = e.source().begin;
      throw Error(Code::kInvalidArgument, shown_ + ":" + std::to_string(at.line) + ":" +
                                              std::to_string(at.column) +
                                              ": TOML syntax error: " + what);
    }
    // Sections are checked independently and the problem earliest in the file
    // is reported, so fixing errors top to bottom works.
    std::optional<std::pair<size_t, Error>> first;
    auto step = [&](auto&& check) {
      fail_line_ = SIZE_MAX;
      try {
        check();
      } catch (const Error& e) {
        if (!first || fail_line_ < first->first) first.emplace(fail_line_, e);
      }
    };
    step([&] { CheckLayout(root); });
    step([&] { LoadSource(Section(root, "source")); });
    step([&] { LoadBackup(Section(root, "backup")); });
    step([&] { LoadEncryption(Section(root, "encryption")); });
    step([&] { LoadVault(Section(root, "vault")); });
    step([&] { LoadPrices(Section(root, "prices")); });
    step([&] { LoadFleet(Section(root, "fleet")); });
    step([&] { LoadHooks(Section(root, "hooks")); });
    step([&] { LoadMonitoring(Section(root, "monitoring")); });
    if (first) throw first->second;
    return std::move(config_);
  }

 private:
  static const toml::table* Section(const toml::table& root, std::string_view name) {
    const toml::node* node = root.get(name);
    return node ? node->as_table() : nullptr;
  }

  [[noreturn]] void Fail(const toml::source_region& where, const std::string& message) const {
    if (where.begin.line == 0) Fail(message);
    fail_line_ = where.begin.line;
    throw Error(Code::kInvalidArgument,
                shown_ + ":" + std::to_string(where.begin.line) + ": " + message);
  }
  // For problems with no place in the file (a missing section): sorts last.
  [[noreturn]] void Fail(const std::string& message) const {
    fail_line_ = SIZE_MAX;
    throw Error(Code::kInvalidArgument, shown_ + ": " + message);
  }

  // Unknown sections and keys, keys outside sections, sections that are not tables.
  void CheckLayout(const toml::table& root) const {
    std::vector<std::string_view> sections;
    for (const SectionKeys& s : KnownKeys()) sections.push_back(s.section);
    for (const auto& item : root) {
      const auto& key = item.first;  // named, not bound: lambdas capture it (clang 14)
      const auto& node = item.second;
      auto known = std::find_if(KnownKeys().begin(), KnownKeys().end(),
                                [&](const SectionKeys& s) { return s.section == key.str(); });
      if (known == KnownKeys().end()) {
        if (std::string_view home = SectionOf(key.str()); !home.empty()) {
          Fail(key.source(), "key " + Quote(key.str()) + " is outside any section: put it under [" +
                                 std::string(home) + "]");
        }
        std::string message = "unknown section [" + std::string(key.str()) + "]";
        if (std::string_view near = Closest(key.str(), sections); !near.empty()) {
          message += " (did you mean [" + std::string(near) + "]?)";
        }
        message += "; sections are";
        for (size_t i = 0; i < sections.size(); ++i)
          message += (i ? ", [" : " [") + std::string(sections[i]) + "]";
        Fail(key.source(), message);
      }
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        Fail(key.source(), Quote(key.str()) + " must be a section: write [" +
                               std::string(key.str()) + "] on a line of its own, keys below it");
      }
      for (const auto& [k, v] : *table) {
        if (std::find(known->keys.begin(), known->keys.end(), k.str()) != known->keys.end()) {
          continue;
        }
        std::string message =
            "unknown key " + Quote(k.str()) + " in [" + std::string(known->section) + "]";
        std::string_view home = SectionOf(k.str());
        if (!home.empty()) {
          message += " (it belongs in [" + std::string(home) + "])";
        } else if (std::string_view near = Closest(k.str(), known->keys); !near.empty()) {
          message += " (did you mean " + Quote(near) + "?)";
        } else {
          message += "; known keys:";
          for (std::string_view name : known->keys) message += " " + std::string(name);
        }
        Fail(k.source(), message);
      }
    }
  }

  static std::string_view SectionOf(std::string_view key) {
    for (const SectionKeys& s : KnownKeys()) {
      if (std::find(s.keys.begin(), s.keys.end(), key) != s.keys.end()) return s.section;
    }
    return {};
  }

  // ---- typed getters: each returns nullopt / leaves the default when the key is absent.

  static const toml::node* Find(const toml::table* section, std::string_view key) {
    return section ? section->get(key) : nullptr;
  }

  [[noreturn]] void FailValue(const toml::node& node, std::string_view section,
                              std::string_view key, const std::string& expectation) const {
    Fail(node.source(), "[" + std::string(section) + "] " + std::string(key) + " must be " +
                            expectation + ", got " + Got(node));
  }

  std::optional<int> GetInt(const toml::table* sec, std::string_view section, std::string_view key,
                            int64_t min, int64_t max, const std::string& expectation) const {
    const toml::node* node = Find(sec, key);
    if (node == nullptr) return std::nullopt;
    const auto* value = node->as_integer();
    if (value == nullptr || value->get() < min || value->get() > max) {
      FailValue(*node, section, key, expectation);
    }
    return static_cast<int>(value->get());
  }

  // A price: a number (integer or float) >= 0.
  std::optional<double> GetPrice(const toml::table* sec, std::string_view key) const {
    const toml::node* node = Find(sec, key);
    if (node == nullptr) return std::nullopt;
    std::optional<double> v;
    if (const auto* f = node->as_floating_point()) v = f->get();
    if (const auto* i = node->as_integer()) v = static_cast<double>(i->get());
    if (!v || !(*v >= 0) || *v > 1e9)
      FailValue(*node, "prices", key, "a price in USD >= 0, like 0.0036");
    return v;
  }

  std::optional<std::string> GetString(const toml::table* sec, std::string_view section,
                                       std::string_view key, const std::string& expectation) const {
    const toml::node* node = Find(sec, key);
    if (node == nullptr) return std::nullopt;
    const auto* value = node->as_string();
    if (value == nullptr || value->get().empty()) FailValue(*node, section, key, expectation);
    return value->get();
  }

  // One of `choices`, compared case-insensitively; returns the choice as spelled there.
  std::optional<std::string> GetChoice(const toml::table* sec, std::string_view section,
                                       std::string_view key,
                                       const std::vector<std::string_view>& choices) const {
    const toml::node* node = Find(sec, key);
    if (node == nullptr) return std::nullopt;
    std::string expectation = "one of";
    for (size_t i = 0; i < choices.size(); ++i) {
      expectation += (i ? ", " : " ") + Quote(choices[i]);
    }
    const auto* value = node->as_string();
    if (value == nullptr) FailValue(*node, section, key, expectation);
    for (std::string_view choice : choices) {
      if (Lower(choice) == Lower(value->get())) return std::string(choice);
    }
    FailValue(*node, section, key, expectation);
  }

  // Each element's node (for positions) with its string.
  std::vector<std::pair<const toml::node*, std::string>> GetStrings(
      const toml::table* sec, std::string_view section, std::string_view key,
      const std::string& example) const {
    std::vector<std::pair<const toml::node*, std::string>> out;
    const toml::node* node = Find(sec, key);
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr) FailValue(*node, section, key, "an array of strings, e.g. " + example);
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      const auto* value = element.as_string();
      if (value == nullptr || value->get().empty()) {
        Fail(element.source(), "[" + std::string(section) + "] " + std::string(key) + "[" +
                                   std::to_string(i) + "] must be a non-empty string, got " +
                                   Got(element));
      }
      out.emplace_back(&element, value->get());
    }
    return out;
  }

  std::optional<uint64_t> GetSize(const toml::table* sec, std::string_view section,
                                  std::string_view key, std::string_view example) const {
    const toml::node* node = Find(sec, key);
    if (node == nullptr) return std::nullopt;
    std::string expectation = "a whole number of bytes or a string like " + Quote(example) +
                              " (units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)";
    if (const auto* i = node->as_integer()) {
      if (i->get() < 0) FailValue(*node, section, key, expectation);
      return static_cast<uint64_t>(i->get());
    }
    if (const auto* s = node->as_string()) {
      if (auto bytes = ParseByteSize(s->get())) return bytes;
    }
    FailValue(*node, section, key, expectation);
  }

  // "~" expanded; relative paths resolve against the config file's directory.
  std::string ResolvePath(const toml::node& node, std::string_view what,
                          const std::string& path) const {
    std::string expanded = ExpandUser(path);
    if (expanded[0] == '~') {
      Fail(node.source(), std::string(what) + ": \"~user\" paths are not supported, got " +
                              Quote(path) + "; write the full path");
    }
    return NormalizePath(JoinPath(dir_, expanded));
  }

  std::optional<std::string> GetPath(const toml::table* sec, std::string_view section,
                                     std::string_view key) const {
    auto value = GetString(sec, section, key, "a non-empty path string");
    if (!value) return std::nullopt;
    return ResolvePath(*Find(sec, key), "[" + std::string(section) + "] " + std::string(key),
                       *value);
  }

  // A location for "missing value" errors: the key if present, else the section header.
  static toml::source_region Where(const toml::table* sec, std::string_view key) {
    if (const toml::node* node = Find(sec, key)) return node->source();
    return sec ? sec->source() : toml::source_region{};
  }

  // ---- sections

  void LoadSource(const toml::table* sec) {
    for (const auto& [node, text] :
         GetStrings(sec, "source", "includes", "includes = [\"~/Documents\"]")) {
      std::string expanded = ExpandUser(text);
      if (expanded[0] != '/') {
        Fail(node->source(),
             "[source] includes must be absolute paths (or start with ~/), got " + Quote(text));
      }
      config_.includes.push_back(NormalizePath(expanded));
    }
    for (const auto& [node, text] :
         GetStrings(sec, "source", "excludes", "excludes = [\"*.tmp\", \".git\"]")) {
      config_.excludes.push_back(ExpandExclude(text));
      try {
        Selector({}, {config_.excludes.back()});
      } catch (const Error& e) {
        Fail(node->source(), std::string("[source] excludes: ") + e.what());
      }
    }
    if (auto spec = GetPath(sec, "source", "spec")) {
      fail_line_ = Find(sec, "spec")->source().begin.line;  // spec file errors sort here
      LoadSpec(*Find(sec, "spec"), *spec);
    }
    LoadCommands(sec);
    if (config_.includes.empty() && config_.commands.empty()) {
      Fail(Where(sec, "includes"),
           "[source] needs at least one path to back up: add includes = [\"~/Documents\"], "
           "spec = \"includeexclude.json\" or a [[source.command]]");
    }
  }

  // An argv: a non-empty array of strings, the first non-empty.
  std::vector<std::string> GetArgv(const toml::node& node, const std::string& what,
                                   const std::string& example) const {
    const toml::array* array = node.as_array();
    std::string expectation = "a command as an array of strings (argv, no shell), e.g. " + example;
    if (array == nullptr || array->empty())
      Fail(node.source(), what + " must be " + expectation + ", got " + Got(node));
    std::vector<std::string> argv;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      const auto* value = element.as_string();
      if (value == nullptr || (i == 0 && value->get().empty())) {
        Fail(element.source(), what + "[" + std::to_string(i) + "] must be a " +
                                   (i == 0 ? "non-empty " : "") + "string (" + expectation +
                                   "), got " + Got(element));
      }
      argv.push_back(value->get());
    }
    return argv;
  }

  // [[source.command]] tables: path, run, timeout, user.
  void LoadCommands(const toml::table* sec) {
    const toml::node* node = Find(sec, "command");
    if (node == nullptr) return;
    const std::string example = "run = [\"pg_dump\", \"--format=plain\", \"app\"]";
    const toml::array* tables = node->as_array();
    if (tables == nullptr || !tables->is_array_of_tables()) {
      Fail(node->source(),
           "[source] command must be written as [[source.command]] tables, each with path = "
           "\"/var/backups/app.sql\" and " +
               example + ", got " + Got(*node));
    }
    const std::vector<std::string_view> keys = {"path", "run", "timeout", "user"};
    for (size_t i = 0; i < tables->size(); ++i) {
      const toml::table& t = *tables->get(i)->as_table();
      std::string where = "[[source.command]] #" + std::to_string(i + 1);
      for (const auto& item : t) {
        const auto& k = item.first;
        if (std::find(keys.begin(), keys.end(), k.str()) != keys.end()) continue;
        std::string_view near = Closest(k.str(), keys);
        Fail(k.source(), "unknown key " + Quote(k.str()) + " in " + where +
                             (near.empty() ? std::string("; known keys: path, run, timeout, user")
                                           : " (did you mean " + Quote(near) + "?)"));
      }
      Config::CommandSource c;
      const toml::node* path = t.get("path");
      const auto* path_text = path ? path->as_string() : nullptr;
      if (path == nullptr) Fail(t.source(), where + " needs path = \"/var/backups/app.sql\"");
      std::string expanded = path_text ? ExpandUser(path_text->get()) : "";
      if (expanded.empty() || expanded[0] != '/' || NormalizePath(expanded) == "/") {
        Fail(path->source(), where +
                                 " path must be an absolute file path (the name the output is "
                                 "stored and restored under), got " +
                                 Got(*path));
      }
      c.path = NormalizePath(expanded);
      for (const Config::CommandSource& other : config_.commands) {
        if (other.path == c.path)
          Fail(path->source(), where + " path " + Quote(c.path) +
                                   " is already the path of another [[source.command]]");
      }
      const toml::node* run = t.get("run");
      if (run == nullptr) Fail(t.source(), where + " needs " + example);
      c.run = GetArgv(*run, where + " run", example);
      if (const toml::node* timeout = t.get("timeout")) {
        const auto* v = timeout->as_integer();
        if (v == nullptr || v->get() < 1 || v->get() > INT_MAX)
          Fail(timeout->source(),
               where + " timeout must be a number of seconds >= 1, got " + Got(*timeout));
        c.timeout_seconds = static_cast<int>(v->get());
      }
      if (const toml::node* user = t.get("user")) {
        const auto* v = user->as_string();
        if (v == nullptr || v->get().empty())
          Fail(user->source(), where + " user must be a user name, got " + Got(*user));
        c.user = v->get();
      }
      config_.commands.push_back(std::move(c));
    }
  }

  static std::string ExpandExclude(const std::string& pattern) {
    return pattern == "~" || pattern.starts_with("~/") ? ExpandUser(pattern) : pattern;
  }

  // The original tool's {"includes": [...], "excludes": [...]} file.
  void LoadSpec(const toml::node& spec_node, const std::string& spec_path) {
    std::string text;
    try {
      text = ReadFileToString(spec_path);
    } catch (const Error& e) {
      Fail(spec_node.source(), std::string("[source] spec file cannot be read: ") + e.what());
    }
    auto fail = [&](const std::string& message) -> void {
      throw Error(Code::kInvalidArgument, spec_path + ": " + message);
    };
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      auto [line, column] = LineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
      std::string what = e.what();
      if (size_t colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
      throw Error(Code::kInvalidArgument, spec_path + ":" + std::to_string(line) + ":" +
                                              std::to_string(column) +
                                              ": JSON syntax error: " + what);
    }
    if (!json.is_object()) {
      fail(
          "must be a JSON object like {\"includes\": [\"/path\"], \"excludes\": [\"*.tmp\"]}, "
          "got " +
          Got(json));
    }
    const std::vector<std::string_view> keys = {"includes", "excludes"};
    for (const auto& [key, value] : json.items()) {
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string message = "unknown key " + Quote(key);
        std::string_view near = Closest(key, keys);
        fail(message + (near.empty() ? "; known keys: includes, excludes"
                                     : " (did you mean " + Quote(near) + "?)"));
      }
      if (!value.is_array()) fail(Quote(key) + " must be an array of strings, got " + Got(value));
      for (size_t i = 0; i < value.size(); ++i) {
        const nlohmann::json& element = value[i];
        std::string where = Quote(key) + "[" + std::to_string(i) + "]";
        if (!element.is_string() || element.get<std::string>().empty()) {
          fail(where + " must be a non-empty string, got " + Got(element));
        }
        const std::string& s = element.get_ref<const std::string&>();
        if (key == "includes") {
          std::string expanded = ExpandUser(s);
          if (expanded[0] != '/') {
            fail(where + " must be an absolute path (or start with ~/), got " + Quote(s));
          }
          config_.includes.push_back(NormalizePath(expanded));
        } else {
          std::string pattern = ExpandExclude(s);
          try {
            Selector({}, {pattern});
          } catch (const Error& e) {
            fail(where + ": " + e.what());
          }
          config_.excludes.push_back(pattern);
        }
      }
    }
  }

  void LoadBackup(const toml::table* sec) {
    constexpr int64_t kIntMax = INT_MAX;
    if (auto v = GetInt(sec, "backup", "max_incrementals", 0, kIntMax, "an integer >= 0")) {
      config_.max_incrementals = *v;
    }
    if (auto v = GetChoice(sec, "backup", "change_detection", {"metadata", "content"})) {
      config_.change_detection =
          *v == "content" ? ChangeDetection::kContent : ChangeDetection::kMetadata;
    }
    if (auto v = GetChoice(sec, "backup", "on_change", {"store", "skip"}))
      config_.on_change = *v == "skip" ? OnChange::kSkip : OnChange::kStore;
    if (auto v = GetInt(sec, "backup", "compression_level", 1, 19, "an integer from 1 to 19")) {
      config_.compression_level = *v;
    }
    if (auto v =
            GetInt(sec, "backup", "threads", 0, 1024, "an integer from 0 (one per core) to 1024")) {
      config_.threads = *v;
    }
    if (auto v = GetSize(sec, "backup", "delta_min_size", "1 MiB")) config_.delta_min_size = *v;
    config_.host = SystemHostName();
    if (const toml::node* node = Find(sec, "host")) {
      const auto* value = node->as_string();
      if (value == nullptr || !IsSafeHostName(value->get()))
        FailValue(*node, "backup", "host",
                  "1 to 63 letters, digits, '.', '_' or '-', not starting with '.' or '-'");
      config_.host = value->get();
    }
    config_.cache_dir = GetPath(sec, "backup", "cache_dir").value_or(DefaultCacheDir());
    config_.state_dir = GetPath(sec, "backup", "state_dir").value_or(DefaultStateDir());
    if (auto v = GetSize(sec, "backup", "cache_limit", "20 GB")) config_.cache_limit = *v;
  }

  void LoadEncryption(const toml::table* sec) {
    const auto keys = GetStrings(sec, "encryption", "recipients", "recipients = [\"age1...\"]");
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto& [node, text] = keys[i];
      // Bech32 allows all-upper-case; age's own form is lower case.
      std::string key = text;
      if (std::none_of(key.begin(), key.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
        key = Lower(key);
      }
      try {
        config_.recipients.push_back(age::X25519Recipient::Parse(key).ToString());
      } catch (const Error& e) {  // its message never repeats a secret key
        Fail(node->source(), "[encryption] recipients[" + std::to_string(i) + "]: " + e.what() +
                                 "; use the \"public key: age1...\" line age-keygen prints");
      }
    }
    config_.identity_file = GetPath(sec, "encryption", "identity_file")
                                .value_or(NormalizePath(JoinPath(dir_, "identity.txt")));
    config_.passphrase_file = GetPath(sec, "encryption", "passphrase_file").value_or("");
    config_.signing_key_file = GetPath(sec, "encryption", "signing_key_file")
                                   .value_or(NormalizePath(JoinPath(dir_, "signing.key")));
    const auto signers =
        GetStrings(sec, "encryption", "trusted_signers", "trusted_signers = [\"RW...\"]");
    for (size_t i = 0; i < signers.size(); ++i) {
      const auto& [node, text] = signers[i];
      try {
        config_.trusted_signers.push_back(minisign::PublicKey::Parse(text).ToString());
      } catch (const Error& e) {
        Fail(node->source(), "[encryption] trusted_signers[" + std::to_string(i) + "]: " +
                                 e.what() + "; use the \"RW...\" line of a minisign public key");
      }
    }
    if (!config_.recipients.empty() && !config_.passphrase_file.empty()) {
      Fail(Where(sec, "passphrase_file"),
           "[encryption] passphrase_file and recipients cannot be used together (age cannot mix a "
           "passphrase with public keys): remove one of them");
    }
    if (config_.recipients.empty() && config_.passphrase_file.empty()) {
      Fail(Where(sec, "recipients"),
           "[encryption] needs recipients = [\"age1...\"] (the public key from age-keygen) or "
           "passphrase_file = \"PATH\"");
    }
  }

  void LoadFleet(const toml::table* sec) {
    if (auto v =
            GetInt(sec, "fleet", "stale_after_days", 1, INT_MAX, "an integer number of days >= 1"))
      config_.fleet_stale_after_days = *v;
    if (auto v = GetSize(sec, "fleet", "size_limit", "5 TB")) config_.fleet_size_limit = *v;
    if (auto v = GetInt(sec, "fleet", "lease_seconds", 10, 86400,
                        "an integer number of seconds from 10 to 86400"))
      config_.fleet_lease_seconds = *v;
  }

  void LoadVault(const toml::table* sec) {
    const toml::node* url_node = Find(sec, "url");
    std::string url = GetString(sec, "vault", "url", "a URL").value_or(DefaultVaultUrl());
    auto bad_url = [&](const std::string& expectation) {
      if (url_node == nullptr) Fail("default url " + Quote(url) + " is not " + expectation);
      FailValue(*url_node, "vault", "url", expectation);
    };
    std::string kind;
    std::string glacier_region;
    if (url.starts_with("file://")) {
      kind = "file";
      std::string path = ExpandUser(url.substr(7));
      if (path.empty() || path[0] != '/') {
        bad_url("file:///ABSOLUTE/DIR or file://~/DIR");
      }
      url = "file://" + NormalizePath(path);
    } else if (url.starts_with("glacier://")) {
      kind = "glacier";
      std::string rest = url.substr(10);
      size_t slash = rest.find('/');
      std::string vault = slash == std::string::npos ? "" : rest.substr(slash + 1);
      glacier_region = rest.substr(0, slash);
      auto region_ok = [](char c) { return IsLowerAlnum(c) || c == '-'; };
      auto vault_ok = [](char c) {
        return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || c == '.';
      };
      if (glacier_region.empty() || vault.empty() || vault.size() > 255 ||
          !std::all_of(glacier_region.begin(), glacier_region.end(), region_ok) ||
          !std::all_of(vault.begin(), vault.end(), vault_ok)) {
        bad_url(
            "glacier://REGION/VAULT (e.g. glacier://eu-west-1/backups; vault names use "
            "A-Z a-z 0-9 _ - .)");
      }
    } else if (url.starts_with("s3://")) {
      kind = "s3";
      std::string rest = url.substr(5);
      size_t slash = rest.find('/');
      std::string bucket = rest.substr(0, slash);
      std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
      auto bucket_ok = [](char c) { return IsLowerAlnum(c) || c == '-' || c == '.'; };
      if (bucket.size() < 3 || bucket.size() > 63 ||
          !std::all_of(bucket.begin(), bucket.end(), bucket_ok) || !IsLowerAlnum(bucket.front()) ||
          !IsLowerAlnum(bucket.back())) {
        bad_url("s3://BUCKET or s3://BUCKET/PREFIX (bucket names: 3-63 of a-z 0-9 . -)");
      }
      while (prefix.ends_with('/')) prefix.pop_back();
      while (prefix.starts_with('/')) prefix.erase(0, 1);
      url = "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
    } else if (url_node != nullptr) {
      bad_url("a URL starting with file://, glacier:// or s3://");
    }
    config_.vault_url = url;

    if (auto v = GetString(sec, "vault", "endpoint", "an http:// or https:// URL")) {
      if (!(v->starts_with("http://") && v->size() > 7) &&
          !(v->starts_with("https://") && v->size() > 8)) {
        FailValue(*Find(sec, "endpoint"), "vault", "endpoint", "an http:// or https:// URL");
      }
      while (v->ends_with('/')) v->pop_back();
      config_.endpoint = *v;
    }
    config_.region = GetString(sec, "vault", "region", "a region name like \"eu-west-1\"")
                         .value_or(glacier_region);
    if (kind == "glacier" && config_.region != glacier_region) {
      Fail(Find(sec, "region")->source(), "[vault] region " + Quote(config_.region) +
                                              " contradicts url " + Quote(url) +
                                              ": remove region or make them agree");
    }
    config_.profile = GetString(sec, "vault", "profile", "a profile name").value_or("");

    if (auto v = GetChoice(sec, "vault", "storage_class",
                           {"DEEP_ARCHIVE", "GLACIER", "GLACIER_IR", "STANDARD_IA", "STANDARD"})) {
      if (kind != "s3") {
        Fail(Find(sec, "storage_class")->source(),
             "[vault] storage_class applies only to s3:// vaults, and url is " + Quote(url) +
                 ": remove it");
      }
      config_.storage_class = *v;
    } else if (kind == "s3") {
      config_.storage_class = "DEEP_ARCHIVE";
    }

    if (auto v = GetSize(sec, "vault", "size_limit", "500 GB")) config_.size_limit = *v;
    config_.min_storage_days =
        GetInt(sec, "vault", "min_storage_days", 0, INT_MAX, "an integer number of days >= 0");
    if (auto v = GetChoice(sec, "vault", "upload", {"bundle", "each"})) config_.upload = *v;
    if (auto v = GetChoice(sec, "vault", "backlog", {"newest", "all"})) config_.backlog = *v;
    if (auto v = GetInt(sec, "vault", "max_staleness_days", 1, INT_MAX,
                        "an integer number of days >= 1")) {
      config_.max_staleness_days = *v;
    }
    if (auto v = GetInt(sec, "vault", "keep_local_sets", 0, INT_MAX, "an integer >= 0")) {
      config_.keep_local_sets = *v;
    }
    if (auto v = GetInt(sec, "vault", "inventory_max_age_days", 0, INT_MAX,
                        "an integer number of days >= 0")) {
      config_.inventory_max_age_days = *v;
    }
    if (auto v = GetInt(sec, "vault", "inventory_min_interval_days", 0, INT_MAX,
                        "an integer number of days >= 0")) {
      config_.inventory_min_interval_days = *v;
    }
    if (auto v = GetSize(sec, "vault", "bandwidth_limit", "10 MB")) config_.bandwidth_limit = *v;
    if (auto v = GetChoice(sec, "vault", "retrieval_tier", {"Expedited", "Standard", "Bulk"})) {
      config_.retrieval_tier = *v;
      if (*v == "Expedited" && config_.storage_class == "DEEP_ARCHIVE") {
        Fail(Find(sec, "retrieval_tier")->source(),
             "[vault] retrieval_tier \"Expedited\" is not offered for DEEP_ARCHIVE: use "
             "\"Standard\" or \"Bulk\"");
      }
    }
  }

  void LoadPrices(const toml::table* sec) {
    Config::PriceOverrides& p = config_.prices;
    p.storage_gb_month = GetPrice(sec, "storage_gb_month");
    p.put_per_1000 = GetPrice(sec, "put_per_1000");
    const char* tiers[3] = {"expedited", "standard", "bulk"};
    for (int t = 0; t < 3; ++t) {
      p.retrieval_gb[t] = GetPrice(sec, std::string("retrieval_gb_") + tiers[t]);
      p.retrieval_per_1000[t] = GetPrice(sec, std::string("retrieval_per_1000_") + tiers[t]);
    }
    p.taken = GetString(sec, "prices", "taken", "a short text like \"eu-west-1 2026-10-01\"")
                  .value_or("");
  }

  void LoadHooks(const toml::table* sec) {
    const std::string example = "[[\"systemctl\", \"stop\", \"app\"]]";
    auto hooks = [&](std::string_view key, std::vector<std::vector<std::string>>* out) {
      const toml::node* node = Find(sec, key);
      if (node == nullptr) return;
      const toml::array* array = node->as_array();
      std::string what = "[hooks] " + std::string(key);
      if (array == nullptr || (!array->empty() && !array->get(0)->is_array())) {
        Fail(node->source(), what +
                                 " must be a list of commands, each an array of strings "
                                 "(argv, no shell), e.g. " +
                                 std::string(key) + " = " + example + ", got " + Got(*node));
      }
      for (size_t i = 0; i < array->size(); ++i) {
        out->push_back(GetArgv(*array->get(i), what + "[" + std::to_string(i) + "]", example));
      }
    };
    hooks("before", &config_.hooks.before);
    hooks("after", &config_.hooks.after);
    hooks("on_error", &config_.hooks.on_error);
    if (auto v = GetInt(sec, "hooks", "timeout", 1, INT_MAX, "a number of seconds >= 1"))
      config_.hooks.timeout_seconds = *v;
  }

  void LoadMonitoring(const toml::table* sec) {
    if (auto v = GetString(sec, "monitoring", "ping_url",
                           "an http:// or https:// URL like \"https://hc-ping.com/UUID\"")) {
      if (!(v->starts_with("http://") && v->size() > 7) &&
          !(v->starts_with("https://") && v->size() > 8)) {
        FailValue(*Find(sec, "ping_url"), "monitoring", "ping_url",
                  "an http:// or https:// URL like \"https://hc-ping.com/UUID\"");
      }
      while (v->ends_with('/')) v->pop_back();
      config_.ping_url = *v;
    }
    if (auto v = GetPath(sec, "monitoring", "textfile")) {
      if (!v->ends_with(".prom") || Basename(*v) == ".prom") {
        FailValue(*Find(sec, "textfile"), "monitoring", "textfile",
                  "a file name ending in \".prom\" (node_exporter's textfile collector reads only "
                  "those), like \"/var/lib/prometheus/node-exporter/glacier_backup.prom\"");
      }
      config_.textfile = *v;
    }
  }

  std::string shown_;  // the path as the caller gave it, for messages
  std::string dir_;    // the config file's directory, absolute
  Config config_;
  mutable size_t fail_line_ = SIZE_MAX;  // the line of the problem being thrown
};

}  // namespace

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  std::string_view s = trim(text);
  if (s.ends_with("/s") || s.ends_with("/S")) s = trim(s.substr(0, s.size() - 2));

  unsigned __int128 whole = 0, fraction = 0, scale = 1;
  size_t i = 0, digits = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
    whole = whole * 10 + (s[i] - '0');
    if (whole > UINT64_MAX) return std::nullopt;
  }
  bool has_fraction = i < s.size() && s[i] == '.';
  if (has_fraction) {
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits) {
      if (scale < 1000000000000000000ULL) {  // further digits cannot change whole bytes
        fraction = fraction * 10 + (s[i] - '0');
        scale *= 10;
      }
    }
  }
  if (digits == 0) return std::nullopt;
  std::string unit = Lower(trim(s.substr(i)));
  static const std::vector<std::pair<std::string_view, uint64_t>> kUnits = {
      {"", 1},
      {"b", 1},
      {"kb", 1000ULL},
      {"mb", 1000ULL * 1000},
      {"gb", 1000ULL * 1000 * 1000},
      {"tb", 1000ULL * 1000 * 1000 * 1000},
      {"pb", 1000ULL * 1000 * 1000 * 1000 * 1000},
      {"kib", 1ULL << 10},
      {"mib", 1ULL << 20},
      {"gib", 1ULL << 30},
      {"tib", 1ULL << 40},
      {"pib", 1ULL << 50},
  };
  auto found =
      std::find_if(kUnits.begin(), kUnits.end(), [&](const auto& u) { return u.first == unit; });
  if (found == kUnits.end()) return std::nullopt;
  if (has_fraction && unit.empty()) return std::nullopt;  // "1.5" bytes means nothing
  unsigned __int128 bytes = whole * found->second + fraction * found->second / scale;
  if (bytes > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::string DefaultConfigPath() {
  return XdgDir("XDG_CONFIG_HOME", "~/.config") + "/glacier-backup/config.toml";
}
std::string DefaultCacheDir() { return XdgDir("XDG_CACHE_HOME", "~/.cache") + "/glacier-backup"; }
std::string DefaultStateDir() {
  return XdgDir("XDG_DATA_HOME", "~/.local/share") + "/glacier-backup";
}
std::string DefaultVaultUrl() { return "file://" + DefaultStateDir() + "/vault"; }

Config LoadConfig(const std::string& path) {
  std::string expanded = ExpandUser(path);
  if (!PathExists(expanded)) {
    throw Error(Code::kInvalidArgument,
                "no config at " + path + ": run `glacier-backup init` or pass --config");
  }
  std::string absolute = NormalizePath(std::filesystem::absolute(expanded).string());
  RequireNotWritableByOthers(expanded, "config");
  std::string text = ReadFileToString(expanded);
  return Loader(path, absolute).Load(text);
}

}  // namespace gb
