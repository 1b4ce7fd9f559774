#include "net/http_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"

extern char** environ;

namespace gb {
namespace {

namespace fs = std::filesystem;

// A small HTTP/1.1 server with keep-alive. It records the client port of every
// request by the X-Tag header, so a test can see how many connections served it.
constexpr char kServer[] = R"PY(
import hashlib, http.server, json, os, socket, ssl, struct, sys, threading, time, urllib.parse

ports = {}
dropped = {}
lock = threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        tag = self.headers.get("X-Tag")
        if tag:
            with lock:
                ports.setdefault(tag, set()).add(self.client_address[1])
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if url.path == "/echo":
            info = {"method": self.command, "length": len(body),
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "x_test": self.headers.get("X-Test"),
                    "empty": self.headers.get("X-Empty"),
                    "user_agent": self.headers.get("User-Agent")}
            self.reply(200, json.dumps(info).encode(),
                       [("Content-Type", "application/json"), ("X-Mixed-Case", "yes")])
        elif url.path == "/bytes":
            n = int(q["n"])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            block = bytes(i % 251 for i in range(65536))
            sent = 0
            while sent < n:
                part = block[: min(len(block), n - sent)]
                self.wfile.write(part)
                sent += len(part)
        elif url.path == "/ranged":
            # Honours "Range: bytes=S-[E]" with a 206, as S3 and Glacier do.
            data = bytes(i % 65536 % 251 for i in range(int(q["n"])))
            spec = self.headers.get("Range", "")[6:].split("-")
            first = int(spec[0])
            last = int(spec[1]) if spec[1] else len(data) - 1
            self.reply(206, data[first:last + 1],
                       [("Content-Range", "bytes %d-%d/%d" % (first, last, len(data)))])
        elif url.path == "/status":
            self.reply(int(q["code"]), q.get("body", "").encode(),
                       [("Content-Type", q.get("type", "text/plain"))])
        elif url.path == "/ports":
            with lock:
                count = len(ports.get(q["tag"], ()))
            self.reply(200, str(count).encode())
        elif url.path == "/quiet-close":
            self.reply(200, b"bye")
            self.close_connection = True  # without saying so in a header
        elif url.path == "/truncate":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.close_connection = True
        elif url.path == "/reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif url.path == "/drop":
            # Acts on the request, then closes the connection without an answer.
            with lock:
                dropped[q["tag"]] = dropped.get(q["tag"], 0) + 1
            self.close_connection = True
        elif url.path == "/dropped":
            with lock:
                count = dropped.get(q["tag"], 0)
            self.reply(200, str(count).encode())
        elif url.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(5)
            self.close_connection = True
        else:
            self.reply(404, b"")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up on purpose are part of the tests

def exit_with_parent(parent):
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)

threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
server = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) > 3:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
)PY";

// Starts the server script with python3; stops it (by its pid) when destroyed.
class TestServer {
 public:
  TestServer(const fs::path& dir, const std::string& name, const std::string& cert = {},
             const std::string& key = {}) {
    std::string script = (dir / "server.py").string();
    if (!PathExists(script)) WriteFileAtomic(script, std::string(kServer));
    std::string port_file = (dir / (name + ".port")).string();
    std::vector<std::string> args = {"python3", script, port_file};
    if (!cert.empty()) {
      args.push_back(cert);
      args.push_back(key);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // Its output goes to a log beside the script, never into the test's pipes.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string log = (dir / (name + ".log")).string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start python3";
      return;
    }
    for (int i = 0; i < 200 && !PathExists(port_file); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!PathExists(port_file)) {
      ADD_FAILURE() << "test server did not start";
      return;
    }
    port_ = std::stoi(ReadFileToString(port_file));
  }
  ~TestServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class HttpClientTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("gb-net-http-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    server_ = new TestServer(*dir_, "plain");
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  static HttpRequest Get(const std::string& path) {
    HttpRequest r;
    r.url = Url(path);
    return r;
  }
  // The error a request ends in; fails the test when there is none.
  static Error ErrorOf(HttpClient& client, const HttpRequest& req, ByteSink* sink = nullptr) {
    try {
      client.Send(req, sink);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "no error for " << req.url;
    return Error(Code::kInternal, "");
  }

  static fs::path* dir_;
  static TestServer* server_;
};

fs::path* HttpClientTest::dir_ = nullptr;
TestServer* HttpClientTest::server_ = nullptr;

TEST_F(HttpClientTest, GetCollectsBodyAndHeaders) {
  HttpClient client;
  HttpRequest req = Get("/echo");
  req.headers = {{"X-Test", "a b"}, {"X-Empty", ""}};
  HttpResponse r = client.Send(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("x-mixed-case"), "yes");
  EXPECT_EQ(r.headers.Get("CONTENT-TYPE"), "application/json");
  EXPECT_FALSE(r.headers.Get("X-Absent"));
  EXPECT_NE(r.body.find("\"method\": \"GET\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"x_test\": \"a b\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"empty\": \"\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("glacier-backup"), std::string::npos) << r.body;
  EXPECT_EQ(r.body_bytes, r.body.size());
}

// The bytes /bytes and /ranged serve: i % 65536 % 251 at offset i.
Bytes Served(uint64_t first, uint64_t count) {
  Bytes b(count);
  for (uint64_t i = 0; i < count; ++i) b[i] = static_cast<uint8_t>((first + i) % 65536 % 251);
  return b;
}

TEST_F(HttpClientTest, IgnoredRangeIsCutToTheWindowWhenAskedTo) {
  HttpClient client;
  constexpr uint64_t kSize = 3 * 65536 + 100;  // several pieces through the write callback
  struct Case {
    std::string range;
    uint64_t first, count;
  };
  for (const Case& c :
       {Case{"bytes=70000-140000", 70000, 70001}, Case{"bytes=0-9", 0, 10},
        Case{"bytes=196000-", 196000, kSize - 196000},
        Case{"bytes=196000-999999", 196000, kSize - 196000}, Case{"bytes=999999-", 0, 0}}) {
    SCOPED_TRACE(c.range);
    // /bytes ignores Range and answers 200 with the whole body.
    HttpRequest req = Get("/bytes?n=" + std::to_string(kSize));
    req.headers = {{"Range", c.range}};
    req.window_ignored_range = true;
    BufferSink sink;
    HttpResponse r = client.Send(req, &sink);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.range_ignored);
    EXPECT_TRUE(sink.bytes == Served(c.first, c.count))
        << sink.bytes.size() << " bytes, not " << c.count;
    // Without a sink the window lands in the body.
    HttpResponse b = client.Send(req);
    EXPECT_EQ(b.body.size(), c.count);
  }
  // A server that honours the Range: the 206 passes as it is.
  HttpRequest ranged = Get("/ranged?n=1000");
  ranged.headers = {{"Range", "bytes=100-199"}};
  ranged.window_ignored_range = true;
  BufferSink sink;
  HttpResponse r = client.Send(ranged, &sink);
  EXPECT_EQ(r.status, 206);
  EXPECT_FALSE(r.range_ignored);
  EXPECT_TRUE(sink.bytes == Served(100, 100));
  // Not asked to: the whole body, as the server sent it.
  HttpRequest plain = Get("/bytes?n=1000");
  plain.headers = {{"Range", "bytes=100-199"}};
  BufferSink whole;
  r = client.Send(plain, &whole);
  EXPECT_FALSE(r.range_ignored);
  EXPECT_EQ(whole.bytes.size(), 1000u);
  // The connection still serves the next request after a transfer stopped early.
  HttpResponse after = client.Send(Get("/echo"));
  EXPECT_EQ(after.status, 200);
}

TEST_F(HttpClientTest, PutAndPostStreamTheBodyWithLength) {
  HttpClient client;
  Bytes data(3 * 1024 * 1024 + 17);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  SpanSource body(data);
  Bytes skip(100);
  body.Read(skip);  // Send() rewinds first
  for (const char* method : {"PUT", "POST"}) {
    HttpRequest req = Get("/echo");
    req.method = method;
    req.body = &body;
    HttpResponse r = client.Send(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find(std::string("\"method\": \"") + method), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"length\": " + std::to_string(data.size())), std::string::npos);
    EXPECT_NE(r.body.find(Hex(Sha256::Of(data))), std::string::npos) << r.body;
  }
  // PUT/POST without a body send Content-Length: 0; DELETE and HEAD work too.
  for (const char* method : {"POST", "DELETE"}) {
    HttpRequest req = Get("/echo");
    req.method = method;
    HttpResponse r = client.Send(req);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("\"length\": 0"), std::string::npos);
  }
  HttpRequest head = Get("/echo");
  head.method = "HEAD";
  HttpResponse h = client.Send(head);
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.body.empty());
}

class CountingSink : public ByteSink {
 public:
  void Write(std::span<const uint8_t> data) override {
    sha.Update(data);
    bytes += data.size();
    ++writes;
  }
  void Finish() override {}
  Sha256 sha;
  uint64_t bytes = 0;
  int writes = 0;
};

TEST_F(HttpClientTest, LargeBodyStreamsIntoSink) {
  HttpClient client;
  const uint64_t n = 20 * 1024 * 1024 + 3;
  CountingSink sink;
  HttpResponse r = client.Send(Get("/bytes?n=" + std::to_string(n)), &sink);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.body_bytes, n);
  EXPECT_EQ(sink.bytes, n);
  EXPECT_GT(sink.writes, 1);
  Bytes expected(n);
  for (uint64_t i = 0; i < n; ++i) expected[i] = static_cast<uint8_t>((i % 65536) % 251);
  EXPECT_EQ(sink.sha.Final(), Sha256::Of(expected));
}

// A server that sends more than a listing could hold does not fill memory.
TEST_F(HttpClientTest, BufferedBodyIsCappedWhateverTheServerSends) {
  HttpClientOptions options;
  options.max_buffered_body = 100000;
  HttpClient client(options);
  HttpResponse fits = client.Send(Get("/bytes?n=100000"));
  EXPECT_EQ(fits.body.size(), 100000u);
  Error e = ErrorOf(client, Get("/bytes?n=300000"));
  EXPECT_EQ(e.code(), Code::kCorruption) << e.what();
  EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("100000 bytes"), std::string::npos) << e.what();
  // A sink takes any length: the caller bounds it.
  CountingSink sink;
  client.Send(Get("/bytes?n=300000"), &sink);
  EXPECT_EQ(sink.bytes, 300000u);
}

TEST_F(HttpClientTest, ErrorBodiesNeverReachTheSink) {
  HttpClient client;
  CountingSink sink;
  HttpResponse r = client.Send(
      Get("/status?code=503&type=application/xml&body=%3CError%3E%3CCode%3ESlowDown%3C/Code%3E"
          "%3C/Error%3E"),
      &sink);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "<Error><Code>SlowDown</Code></Error>");
  EXPECT_EQ(sink.bytes, 0u);
}

TEST_F(HttpClientTest, ReusesOneConnection) {
  HttpClient client;
  for (int i = 0; i < 5; ++i) {
    HttpRequest req = Get("/echo");
    req.headers = {{"X-Tag", "reuse"}};
    if (i % 2) {
      req.method = "PUT";
      const std::string payload = "payload";
      SpanSource body(AsBytes(payload));
      req.body = &body;
      EXPECT_EQ(client.Send(req).status, 200);
    } else {
      EXPECT_EQ(client.Send(req).status, 200);
    }
  }
  EXPECT_EQ(client.Send(Get("/ports?tag=reuse")).body, "1");
  EXPECT_EQ(client.connections_opened(), 1u);
}

TEST_F(HttpClientTest, NetworkFailuresAreTransientAndNameTheHost) {
  HttpClient client({.low_speed_bytes_per_sec = 1000, .low_speed_seconds = 1});
  std::string host = "127.0.0.1:" + std::to_string(server_->port());
  for (const char* path : {"/truncate", "/reset", "/stall"}) {
    Error e = ErrorOf(client, Get(path));
    EXPECT_EQ(e.code(), Code::kTransient) << path << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("HTTP GET to " + host + " failed: "), std::string::npos)
        << e.what();
  }
  // The client recovers: the next request works on a fresh connection.
  EXPECT_EQ(client.Send(Get("/echo")).status, 200);

  // Connection refused: a port nobody listens on.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  HttpRequest refused;
  refused.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  Error e = ErrorOf(client, refused);
  EXPECT_EQ(e.code(), Code::kTransient);
  EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(ntohs(addr.sin_port))),
            std::string::npos)
      << e.what();

  HttpRequest bad;
  bad.url = "ftp://127.0.0.1/";
  EXPECT_EQ(ErrorOf(client, bad).code(), Code::kInvalidArgument);
}

TEST_F(HttpClientTest, SurvivesServerClosingAnIdleConnection) {
  HttpClient client;
  Bytes data(300000, 'p');
  SpanSource body(data);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(client.Send(Get("/quiet-close")).body, "bye");
    HttpRequest put = Get("/echo");
    put.method = "PUT";
    put.body = &body;
    HttpResponse r = client.Send(put);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find(Hex(Sha256::Of(data))), std::string::npos);
  }
}

TEST_F(HttpClientTest, PostIsNeverSentTwiceWhenItsAnswerIsLost) {
  HttpClient client;
  const std::string payload = "an archive";
  SpanSource body(AsBytes(payload));
  for (bool with_body : {true, false}) {
    SCOPED_TRACE(with_body ? "with a body" : "without a body");
    const std::string tag = with_body ? "body" : "empty";
    ASSERT_EQ(client.Send(Get("/echo")).status, 200);  // a connection to reuse
    HttpRequest post = Get("/drop?tag=" + tag);
    post.method = "POST";
    if (with_body) post.body = &body;
    EXPECT_EQ(ErrorOf(client, post).code(), Code::kTransient);
    EXPECT_EQ(client.Send(Get("/dropped?tag=" + tag)).body, "1")
        << "the server acted on the request; sending it again would act twice";
  }
}

class ThrowingSink : public ByteSink {
 public:
  void Write(std::span<const uint8_t>) override { throw Error(Code::kNoSpace, "disk full"); }
  void Finish() override {}
};

class ThrowingSource : public RewindableSource {
 public:
  size_t Read(std::span<uint8_t>) override { throw Error(Code::kIOError, "read failed"); }
  void Rewind() override {}
  uint64_t Size() const override { return 10; }
};

TEST_F(HttpClientTest, SinkAndSourceErrorsPassThrough) {
  HttpClient client;
  ThrowingSink sink;
  EXPECT_EQ(ErrorOf(client, Get("/bytes?n=1000"), &sink).code(), Code::kNoSpace);
  ThrowingSource source;
  HttpRequest put = Get("/echo");
  put.method = "PUT";
  put.body = &source;
  EXPECT_EQ(ErrorOf(client, put).code(), Code::kIOError);
  EXPECT_EQ(client.Send(Get("/echo")).status, 200);
}

TEST_F(HttpClientTest, CancelStopsATransfer) {
  std::atomic<bool> cancel{true};
  HttpClient client({.cancel = &cancel});
  EXPECT_EQ(ErrorOf(client, Get("/bytes?n=100000000")).code(), Code::kCancelled);
}

TEST_F(HttpClientTest, BandwidthLimitSlowsTransfers) {
  // 1 MiB at 1 MiB/s: the first tenth of a second goes unpaced.
  const uint64_t n = 1024 * 1024;
  HttpClient client;
  client.SetBandwidthLimit(1024 * 1024, 1024 * 1024);
  auto seconds_since = [](auto start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  for (int i = 0; i < 2; ++i) {  // the second on the reused handle and connection
    auto start = std::chrono::steady_clock::now();
    CountingSink sink;
    EXPECT_EQ(client.Send(Get("/bytes?n=" + std::to_string(n)), &sink).status, 200);
    EXPECT_GE(seconds_since(start), 0.8);
    EXPECT_EQ(sink.bytes, n);
  }

  Bytes data(n, 'u');
  SpanSource body(data);
  HttpRequest put = Get("/echo");
  put.method = "PUT";
  put.body = &body;
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.Send(put);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(Hex(Sha256::Of(data))), std::string::npos);
  EXPECT_GE(seconds_since(start), 0.8);
}

TEST_F(HttpClientTest, TlsIsVerified) {
  if (system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl command";
  std::string cert = (*dir_ / "cert.pem").string(), key = (*dir_ / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0);
  TestServer tls(*dir_, "tls", cert, key);
  HttpRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(tls.port()) + "/echo";
  // A certificate nobody vouches for is refused, and retrying cannot help.
  HttpClient system_trust;
  Error e = ErrorOf(system_trust, req);
  EXPECT_EQ(e.code(), Code::kPermanent) << e.what();
  // Trusting its CA explicitly, the same server works.
  HttpClient trusting({.ca_file = cert});
  EXPECT_EQ(trusting.Send(req).status, 200);
}

}  // namespace
}  // namespace gb
