// Running unattended: [hooks] around backup/run/sync, the healthchecks.io
// pings of [monitoring] ping_url (against a local HTTP server recording every
// request) and the Prometheus textfile (scraped by a real node_exporter).
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "e2e_util.h"
#include "net/http_client.h"

namespace gbe2e {
namespace {

// Records every request as a JSON line {"method", "path", "body"} in argv[2]
// and answers 200 "OK"; writes its port to argv[1] once listening.
constexpr const char* kPingServer = R"(
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n).decode('utf-8', 'replace')
        with open(sys.argv[2], 'a') as f:
            f.write(json.dumps({'method': self.command, 'path': self.path, 'body': body}) + '\n')
        self.send_response(200)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'OK')
    do_GET = do_POST = do_HEAD = handle_one
    def log_message(self, *args): pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
with open(sys.argv[1] + '.tmp', 'w') as f: f.write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])
s.serve_forever()
)";

// A TCP port nobody listens on right now.
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Waits up to 10 s for a file to appear; its content.
std::string WaitForFile(const std::string& path) {
  for (int i = 0; i < 200 && !Exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return ReadFile(path);
}

class ServiceTest : public E2eTest {
 protected:
  void SetUp() override {
    MakeSmallTree();
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
  }
  // The test config plus `sections` (TOML appended after [encryption]).
  void Configure(const std::string& sections) {
    WriteFile(tool_.config(), tool_.ConfigText({src_}, "", "\n" + sections), 0600);
  }
  // A hook that appends one line, with its environment, to dir/hooks.log.
  std::string Hook(const std::string& label) const {
    return "[\"sh\", \"-c\", \"echo " + label +
           " command=$GLACIER_BACKUP_COMMAND hook=$GLACIER_BACKUP_HOOK id=$GLACIER_BACKUP_ID "
           "exit=$GLACIER_BACKUP_EXIT_CODE log=$GLACIER_BACKUP_LOG_FILE >> " +
           HookLog() + "\"]";
  }
  std::string HookLog() const { return dir_ / "hooks.log"; }
  std::string RunLog() const { return tool_.state() + "/glacier-backup.log"; }
};

TEST_F(ServiceTest, HooksRunAroundBackupWithTheirEnvironment) {
  Configure("[hooks]\nbefore = [" + Hook("before") + "]\nafter = [" + Hook("after") +
            "]\non_error = [" + Hook("error") + "]\n");
  nlohmann::json b = Backup();
  std::string id = b["id"];
  EXPECT_EQ(Lines(ReadFile(HookLog())),
            (std::vector<std::string>{
                "before command=backup hook=before id= exit= log=" + RunLog(),
                "after command=backup hook=after id=" + id + " exit=0 log=" + RunLog()}));
  // The log the hooks were pointed at holds the run, result line included.
  std::string log = ReadFile(RunLog());
  EXPECT_NE(log.find("glacier-backup backup started"), std::string::npos) << log;
  EXPECT_NE(log.find("full backup " + id), std::string::npos) << log;
  EXPECT_NE(log.find("finished with exit code 0"), std::string::npos) << log;

  // A command that fails runs on_error, with its exit code (2: the include is gone).
  std::filesystem::remove_all(src_);
  ::unlink(HookLog().c_str());
  Result r = tool_.Run({"run"});
  EXPECT_EQ(r.code, 2) << r.Show();
  EXPECT_EQ(
      Lines(ReadFile(HookLog())),
      (std::vector<std::string>{"before command=run hook=before id= exit= log=" + RunLog(),
                                "error command=run hook=on_error id= exit=2 log=" + RunLog()}));
}

TEST_F(ServiceTest, FailingBeforeHookStopsTheRunWithItsOwnExitCode) {
  Configure(
      "[hooks]\nbefore = [[\"true\"], [\"sh\", \"-c\", \"echo cannot stop app >&2; exit 4\"], " +
      Hook("never") + "]\non_error = [" + Hook("error") + "]\n");
  Result r = tool_.Run({"backup"});
  EXPECT_EQ(r.code, 11) << r.Show();
  EXPECT_NE(r.err.find("glacier-backup: before hook `sh -c 'echo cannot stop app >&2; exit 4'` "
                       "exited with status 4: cannot stop app; backup did not run"),
            std::string::npos)
      << r.Show();
  EXPECT_EQ(
      Lines(ReadFile(HookLog())),
      std::vector<std::string>{"error command=backup hook=on_error id= exit=11 log=" + RunLog()});
  EXPECT_TRUE(tool_.Snapshots().empty()) << "no backup may be made";

  // --json reports it as an error object.
  nlohmann::json j = tool_.Json({"backup"}, 11);
  EXPECT_EQ(j["error"]["code"], "hook_failed");
  EXPECT_EQ(j["exit_code"], 11);
}

TEST_F(ServiceTest, HookTimeoutKillsTheHook) {
  Configure("[hooks]\ntimeout = 1\nbefore = [[\"sh\", \"-c\", \"sleep 30; touch " +
            (dir_ / "late") + "\"]]\n");
  auto start = std::chrono::steady_clock::now();
  Result r = tool_.Run({"sync"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.code, 11) << r.Show();
  EXPECT_NE(r.err.find("timed out after 1 s; sync did not run"), std::string::npos) << r.Show();
  EXPECT_LT(took, std::chrono::seconds(20)) << "the hook was not killed";
  EXPECT_FALSE(Exists(dir_ / "late"));
}

class PingTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    server_ = std::make_unique<Child>(
        std::vector<std::string>{"python3", "-c", kPingServer, dir_ / "port", dir_ / "requests"});
    port_ = WaitForFile(dir_ / "port");
    ASSERT_FALSE(port_.empty()) << "the ping server did not start";
  }
  std::string Url() const { return "http://127.0.0.1:" + port_ + "/ping/abc-123"; }
  // The requests the server received: "METHOD PATH" each, and their bodies.
  std::vector<std::string> Requests(std::vector<std::string>* bodies = nullptr) const {
    std::vector<std::string> out;
    for (const std::string& line : Lines(ReadFile(dir_ / "requests"))) {
      nlohmann::json j = nlohmann::json::parse(line);
      out.push_back(j["method"].get<std::string>() + " " + j["path"].get<std::string>());
      if (bodies) bodies->push_back(j["body"]);
    }
    return out;
  }
  std::unique_ptr<Child> server_;
  std::string port_;
};

TEST_F(PingTest, StartThenSuccessOrExitCodeWithTheLogTail) {
  Configure("[monitoring]\nping_url = \"" + Url() + "/\"\n");
  nlohmann::json b = Backup();
  std::vector<std::string> bodies;
  EXPECT_EQ(Requests(&bodies),
            (std::vector<std::string>{"POST /ping/abc-123/start", "POST /ping/abc-123"}));
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0], "");
  EXPECT_NE(bodies[1].find("full backup " + b["id"].get<std::string>()), std::string::npos)
      << bodies[1];

  // A failure: URL/EXITCODE, the body ending with what went wrong.
  ::unlink((dir_ / "requests").c_str());
  Configure("[monitoring]\nping_url = \"" + Url() +
            "\"\n[hooks]\nbefore = [[\"sh\", \"-c\", \"echo disk not mounted >&2; exit 1\"]]\n");
  Result r = tool_.Run({"run"});
  EXPECT_EQ(r.code, 11) << r.Show();
  bodies.clear();
  EXPECT_EQ(Requests(&bodies),
            (std::vector<std::string>{"POST /ping/abc-123/start", "POST /ping/abc-123/11"}));
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_NE(bodies[1].find("hook: disk not mounted"), std::string::npos) << bodies[1];
  EXPECT_NE(bodies[1].find("before hook `sh -c 'echo disk not mounted >&2; exit 1'` exited with "
                           "status 1: disk not mounted; run did not run"),
            std::string::npos)
      << bodies[1];
}

TEST_F(PingTest, UnreachableMonitorNeverFailsTheBackup) {
  Configure("[monitoring]\nping_url = \"http://127.0.0.1:" + std::to_string(FreePort()) +
            "/ping\"\n");
  Result r = tool_.Run({"backup"});
  EXPECT_EQ(r.code, 0) << r.Show();
  EXPECT_NE(r.err.find("warning: monitoring: ping http://127.0.0.1:"), std::string::npos)
      << r.Show();
  EXPECT_EQ(tool_.Snapshots().size(), 1u);
}

// node_exporter, only its textfile collector, on a free port; its /metrics.
class NodeExporter {
 public:
  explicit NodeExporter(const std::string& textfile_dir) : port_(FreePort()) {
    child_ = std::make_unique<Child>(std::vector<std::string>{
        Binary(), "--web.listen-address=127.0.0.1:" + std::to_string(port_),
        "--collector.disable-defaults", "--collector.textfile",
        "--collector.textfile.directory=" + textfile_dir});
  }
  static std::string Binary() {
    for (const char* p :
         {"/usr/bin/prometheus-node-exporter", "/usr/sbin/prometheus-node-exporter"})
      if (Exists(p)) return p;
    return "";
  }
  // GET /metrics, retried while the exporter starts (10 s at most).
  std::string Metrics() {
    gb::HttpClient client;
    gb::HttpRequest request;
    request.url = "http://127.0.0.1:" + std::to_string(port_) + "/metrics";
    for (int i = 0; i < 100; ++i) {
      try {
        gb::HttpResponse r = client.Send(request);
        if (r.status == 200) return r.body;
      } catch (const gb::Error&) {
      }
      if (child_->Exited()) return "node_exporter exited: " + child_->Wait().Show();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }

 private:
  int port_;
  std::unique_ptr<Child> child_;
};

// The value of one sample line "NAME{LABELS} VALUE" in a metrics text; "" if absent.
std::string Sample(const std::string& text, const std::string& series) {
  for (const std::string& line : Lines(text))
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  return "";
}

TEST_F(ServiceTest, TextfileMetricsReachNodeExporter) {
  if (NodeExporter::Binary().empty())
    GTEST_SKIP() << "prometheus-node-exporter is not installed (scripts/install-deps.sh installs "
                    "it)";
  std::string textdir = dir_ / "textfile";
  MakeDirs(textdir);
  std::string prom = textdir + "/glacier_backup.prom";
  Configure("[monitoring]\ntextfile = \"" + prom + "\"\n");
  nlohmann::json b = Backup();
  Result r = tool_.Run({"sync"});
  ASSERT_EQ(r.code, 0) << r.Show();

  struct stat st;
  ASSERT_EQ(::stat(prom.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "node_exporter runs as another user";
  std::string text = ReadFile(prom);
  EXPECT_NE(text.find("# HELP glacier_backup_last_success_timestamp_seconds "), std::string::npos);
  EXPECT_NE(text.find("# TYPE glacier_backup_last_success_timestamp_seconds gauge"),
            std::string::npos);

  NodeExporter exporter(textdir);
  std::string metrics = exporter.Metrics();
  ASSERT_FALSE(metrics.empty()) << "node_exporter did not answer";
  EXPECT_EQ(Sample(metrics, "node_textfile_scrape_error"), "0") << metrics;
  EXPECT_EQ(Sample(metrics, "glacier_backup_last_exit_code{command=\"backup\"}"), "0") << metrics;
  EXPECT_EQ(Sample(metrics, "glacier_backup_last_exit_code{command=\"sync\"}"), "0") << metrics;
  double now = static_cast<double>(::time(nullptr));
  std::string success =
      Sample(metrics, "glacier_backup_last_success_timestamp_seconds{command=\"backup\"}");
  ASSERT_FALSE(success.empty()) << metrics;
  EXPECT_NEAR(std::stod(success), now, 120) << metrics;
  EXPECT_EQ(Sample(metrics, "glacier_backup_last_backup_files"),
            std::to_string(b["files"].get<int>()))
      << metrics;
  EXPECT_EQ(Sample(metrics, "glacier_backup_sets{state=\"open\"}"), "1") << metrics;
  EXPECT_EQ(Sample(metrics, "glacier_backup_sets{state=\"in_vault\"}"), "0") << metrics;
  EXPECT_NE(Sample(metrics, "glacier_backup_oldest_unuploaded_set_age_seconds"), "") << metrics;
  EXPECT_EQ(Sample(metrics, "glacier_backup_pending_jobs"), "0") << metrics;
  EXPECT_NE(Sample(metrics, "glacier_backup_estimated_monthly_cost_dollars"), "") << metrics;
  EXPECT_NE(Sample(metrics, "glacier_backup_vault_bytes"), "") << metrics;
  // Nothing is in the vault yet: the freshness to alert on says so.
  EXPECT_EQ(Sample(metrics, "glacier_backup_vault_newest_backup_timestamp_seconds"), "0")
      << metrics;
  std::string staleness = Sample(metrics, "glacier_backup_vault_max_staleness_seconds");
  ASSERT_FALSE(staleness.empty()) << metrics;
  EXPECT_EQ(std::stod(staleness), 30 * 86400.0) << metrics;  // the default 30 days
}

}  // namespace
}  // namespace gbe2e
