// What the end-to-end tests of the cloud backends share: the environment
// that points a process at a test server and nowhere else, and a python3
// helper that asks the server's own API (boto3) what the tool stored.
#ifndef GLACIER_BACKUP_TESTS_E2E_CLOUD_UTIL_H_
#define GLACIER_BACKUP_TESTS_E2E_CLOUD_UTIL_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "e2e_util.h"
#include "vault/test_server.h"

namespace gbe2e {

// `server`'s keys, and none of the machine's AWS settings: no profile, no
// session token, no region, no ~/.aws (the files named are below `dir` and
// never created). Variables set empty are unset for the tool.
inline std::vector<std::string> ServerAwsEnv(const gb::testing::TestServer& server,
                                             const std::string& dir) {
  return {"AWS_ACCESS_KEY_ID=" + server.access_key(),
          "AWS_SECRET_ACCESS_KEY=" + server.secret_key(),
          "AWS_SESSION_TOKEN=",
          "AWS_PROFILE=",
          "AWS_DEFAULT_PROFILE=",
          "AWS_REGION=",
          "AWS_DEFAULT_REGION=",
          "AWS_CONFIG_FILE=" + dir + "/no-such-aws-config",
          "AWS_SHARED_CREDENTIALS_FILE=" + dir + "/no-such-aws-credentials"};
}

// Sets every NAME=VALUE of `env` on `tool`.
inline void SetEnv(Tool& tool, const std::vector<std::string>& env) {
  for (const std::string& kv : env) {
    size_t eq = kv.find('=');
    tool.SetEnv(kv.substr(0, eq), kv.substr(eq + 1));
  }
}

// `python3 -c script` answering each request line on its stdin with one JSON
// line on its stdout, in the environment plus `env`. Variables that end up
// empty are removed (boto3 would take an empty AWS_PROFILE as a profile's
// name). Stopped by closing its stdin.
class PythonHelper {
 public:
  PythonHelper(const char* script, const std::vector<std::string>& env) {
    std::vector<std::string> full_env;
    for (std::string& kv : MergedEnv(env))
      if (kv.find('=') + 1 < kv.size()) full_env.push_back(std::move(kv));
    std::vector<std::string> args = {"python3", "-c", script};
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> a, e;
      for (auto& x : args) a.push_back(x.data());
      a.push_back(nullptr);
      for (auto& x : full_env) e.push_back(x.data());
      e.push_back(nullptr);
      ::execvpe(a[0], a.data(), e.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = ::fdopen(in[1], "w");
    from_ = ::fdopen(out[0], "r");
  }
  ~PythonHelper() {
    if (to_) std::fclose(to_);
    if (from_) std::fclose(from_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }
  PythonHelper(const PythonHelper&) = delete;
  PythonHelper& operator=(const PythonHelper&) = delete;

  // The answer to one request; a test failure (and null) when there is none
  // or it is {"error": ...}.
  nlohmann::json Ask(const std::string& request) {
    std::fprintf(to_, "%s\n", request.c_str());
    std::fflush(to_);
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n = ::getline(&line, &cap, from_);
    std::string text = n > 0 ? std::string(line, static_cast<size_t>(n)) : "";
    std::free(line);
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || (j.is_object() && j.contains("error"))) {
      ADD_FAILURE() << "the server's API answered " << request << " with: " << text;
      return nullptr;
    }
    return j;
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

}  // namespace gbe2e

#endif  // GLACIER_BACKUP_TESTS_E2E_CLOUD_UTIL_H_
