// Test-only: starts one of the project's Python test servers (moto_server with
// signature checks, the faithful Glacier server, the fault proxy), reads the
// JSON line it prints when ready, and stops it when destroyed (closing its
// stdin). Header-only so it never enters the library.
#pragma once

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/stream.h"
#include "net/http_client.h"

namespace gb::testing {

class TestServer {
 public:
  // `script` is relative to tests/servers; args are appended.
  explicit TestServer(const std::string& script, const std::vector<std::string>& args = {}) {
    int in_pipe[2], out_pipe[2];
    if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in_pipe[0], 0);
      dup2(out_pipe[1], 1);
      close(in_pipe[1]);
      close(out_pipe[0]);
      std::string path = std::string(GB_SOURCE_DIR) + "/tests/servers/" + script;
      std::vector<char*> argv = {const_cast<char*>("python3"), path.data()};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execvp("python3", argv.data());
      _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    stdin_fd_ = in_pipe[1];
    FILE* out = fdopen(out_pipe[0], "r");
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, out);
    std::string text = n > 0 ? std::string(line, static_cast<size_t>(n)) : "";
    free(line);
    fclose(out);
    if (text.empty()) {
      Stop();
      throw std::runtime_error(script + " did not start (is moto_server installed?)");
    }
    info_ = nlohmann::json::parse(text);
  }
  ~TestServer() { Stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  const nlohmann::json& info() const { return info_; }
  std::string endpoint() const { return info_.at("endpoint"); }
  std::string access_key() const { return info_.value("access_key_id", "test"); }
  std::string secret_key() const { return info_.value("secret_access_key", "test"); }

 private:
  void Stop() {
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
    if (pid_ > 0) {
      // Closing stdin asks the script to stop (and stop what it started); then
      // SIGTERM, which it also handles; SIGKILL only as the last resort, with the
      // process group of the server it reported (moto runs in its own session).
      auto exited_within = [&](int tenths) {
        for (int i = 0; i < tenths; ++i) {
          if (waitpid(pid_, nullptr, WNOHANG) == pid_) return true;
          usleep(100000);
        }
        return false;
      };
      if (!exited_within(50)) {
        kill(pid_, SIGTERM);
        if (!exited_within(150)) {
          kill(pid_, SIGKILL);
          waitpid(pid_, nullptr, 0);
          if (info_.contains("pid") && info_["pid"].is_number_integer()) {
            pid_t server = info_["pid"].get<pid_t>();
            if (server > 1) kill(-server, SIGKILL);
          }
        }
      }
      pid_ = -1;
    }
  }
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  nlohmann::json info_;
};

// Sets how moto moves a model through its states (e.g. how many lookups an S3
// restore stays "in progress"), through moto's state-manager API.
inline void SetMotoTransition(const TestServer& moto, const std::string& model,
                              const std::string& transition) {
  std::string body = R"({"model_name": ")" + model + R"(", "transition": )" + transition + "}";
  SpanSource src(AsBytes(body));
  HttpClient http;
  HttpResponse r =
      http.Send(HttpRequest{.method = "POST",
                            .url = moto.endpoint() + "/moto-api/state-manager/set-transition",
                            .headers = {{"Content-Type", "application/json"}},
                            .body = &src});
  if (r.status / 100 != 2)
    throw std::runtime_error("moto set-transition: HTTP " + std::to_string(r.status));
}

}  // namespace gb::testing
