#include "net/aws_credentials.h"

#include <cstdlib>
#include <map>

#include "core/error.h"
#include "core/file.h"

namespace gb {
namespace {

using Section = std::map<std::string, std::string>;
using Ini = std::map<std::string, Section>;

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// The INI dialect of the AWS CLI: "[section]", "key = value", whole-line
// comments starting with '#' or ';'. Indented lines continue a nested block
// ("s3 =\n  max_concurrent_requests = 4") and are ignored here.
Ini ParseIni(const std::string& text) {
  Ini ini;
  Section* current = nullptr;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view raw(text.data() + pos, nl - pos);
    pos = nl + 1;
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      current = &ini[Trim(std::string_view(line).substr(1, line.size() - 2))];
      continue;
    }
    if (!current || raw[0] == ' ' || raw[0] == '\t') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    (*current)[Trim(std::string_view(line).substr(0, eq))] =
        Trim(std::string_view(line).substr(eq + 1));
  }
  return ini;
}

struct IniFile {
  std::string path;
  bool exists = false;
  Ini ini;
};

IniFile ReadIni(const std::string& path) {
  IniFile f{path};
  try {
    f.ini = ParseIni(ReadFileToString(path));
    f.exists = true;
  } catch (const Error& e) {
    if (e.code() != Code::kNotFound) throw;
  }
  return f;
}

std::string Env(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  return v ? *v : std::string();
}

std::string ExpandHome(const std::string& path, const EnvLookup& env) {
  if (path == "~" || path.rfind("~/", 0) == 0) return Env(env, "HOME") + path.substr(1);
  return path;
}

const Section* FindConfigProfile(const Ini& ini, const std::string& profile) {
  auto it = ini.find("profile " + profile);
  if (it == ini.end() && profile == "default") it = ini.find("default");
  return it == ini.end() ? nullptr : &it->second;
}

std::string Get(const Section* s, const std::string& key) {
  if (!s) return {};
  auto it = s->find(key);
  return it == s->end() ? std::string() : it->second;
}

// Fills `out` from a profile section holding static keys; false when it has none.
bool FromSection(const Section* s, const std::string& where, const std::string& profile,
                 AwsCredentials* out) {
  std::string id = Get(s, "aws_access_key_id"), secret = Get(s, "aws_secret_access_key");
  if (id.empty() && secret.empty()) return false;
  if (id.empty() || secret.empty())
    throw Error(Code::kPermanent,
                "AWS profile \"" + profile + "\" in " + where + " has " +
                    (id.empty() ? "aws_secret_access_key but no aws_access_key_id"
                                : "aws_access_key_id but no aws_secret_access_key"));
  *out = {id, secret, Get(s, "aws_session_token")};
  return true;
}

std::string Describe(const IniFile& f) { return f.path + (f.exists ? "" : " (missing)"); }

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

AwsSettings LoadAwsSettings(std::string_view explicit_profile, const EnvLookup& env) {
  AwsSettings out;
  bool named = !explicit_profile.empty();
  out.profile = std::string(explicit_profile);
  if (out.profile.empty()) {
    out.profile = Env(env, "AWS_PROFILE");
    named = !out.profile.empty();
  }
  if (out.profile.empty()) out.profile = "default";

  std::string cred_path = Env(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (cred_path.empty()) cred_path = "~/.aws/credentials";
  std::string config_path = Env(env, "AWS_CONFIG_FILE");
  if (config_path.empty()) config_path = "~/.aws/config";
  IniFile creds = ReadIni(ExpandHome(cred_path, env));
  IniFile config = ReadIni(ExpandHome(config_path, env));

  const Section* cred_section = nullptr;
  if (auto it = creds.ini.find(out.profile); it != creds.ini.end()) cred_section = &it->second;
  const Section* config_section = FindConfigProfile(config.ini, out.profile);

  out.region = Env(env, "AWS_REGION");
  if (out.region.empty()) out.region = Env(env, "AWS_DEFAULT_REGION");
  if (out.region.empty()) out.region = Get(config_section, "region");

  // An explicitly named profile overrides the environment's keys, as in the CLI.
  if (explicit_profile.empty()) {
    std::string id = Env(env, "AWS_ACCESS_KEY_ID"), secret = Env(env, "AWS_SECRET_ACCESS_KEY");
    if (!id.empty() && !secret.empty()) {
      out.credentials = {id, secret, Env(env, "AWS_SESSION_TOKEN")};
      out.source = "environment";
      return out;
    }
    if (!id.empty() || !secret.empty())
      throw Error(Code::kPermanent,
                  id.empty() ? "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                             : "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  std::string quoted = "\"" + out.profile + "\"";
  if (FromSection(cred_section, creds.path, out.profile, &out.credentials)) {
    out.source = creds.path + " [" + out.profile + "]";
    return out;
  }
  if (FromSection(config_section, config.path, out.profile, &out.credentials)) {
    out.source = config.path + " [" + out.profile + "]";
    return out;
  }

  std::string looked = Describe(creds) + " and " + Describe(config);
  if (named && !cred_section && !config_section)
    throw Error(Code::kPermanent, "AWS profile " + quoted + " not found in " + looked);
  for (const char* key : {"role_arn", "sso_session", "sso_start_url", "credential_process",
                          "web_identity_token_file", "source_profile"}) {
    if (!Get(cred_section, key).empty() || !Get(config_section, key).empty())
      throw Error(Code::kPermanent,
                  "AWS profile " + quoted + " uses " + key +
                      ", which glacier-backup cannot use; export static keys instead (for example "
                      "with: aws configure export-credentials --profile " +
                      out.profile + " --format env)");
  }
  std::string env_part = explicit_profile.empty()
                             ? "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set, and "
                             : std::string();
  throw Error(Code::kPermanent, "no AWS credentials found: " + env_part + "profile " + quoted +
                                    " has no aws_access_key_id/aws_secret_access_key in " + looked);
}

}  // namespace gb
