#include "net/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "net/uri.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

const std::string kSuiteDir = std::string(GB_TESTDATA_DIR) + "/sigv4/aws4_testsuite";
constexpr int64_t kSuiteTime = 1440938160;  // 2015-08-30T12:36:00Z

// A request of the suite, parsed by hand: the request line is split on its
// first and last spaces (get-space has a raw space in the path).
struct SuiteRequest {
  std::string method, path, query_text, body;
  HeaderList headers;
};

SuiteRequest ParseReq(const std::string& text) {
  SuiteRequest r;
  std::string head = text;
  if (size_t blank = text.find("\n\n"); blank != std::string::npos) {
    head = text.substr(0, blank);
    r.body = text.substr(blank + 2);
  } else if (!head.empty() && head.back() == '\n') {
    head.pop_back();  // a final LF ends the header block; it is not a body
  }
  std::vector<std::string> lines;
  for (size_t pos = 0; pos <= head.size();) {
    size_t nl = std::min(head.find('\n', pos), head.size());
    lines.push_back(head.substr(pos, nl - pos));
    pos = nl + 1;
  }
  const std::string& line = lines.at(0);
  size_t first = line.find(' '), last = line.rfind(' ');
  r.method = line.substr(0, first);
  std::string target = line.substr(first + 1, last - first - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query_text = target.substr(q + 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (!lines[i].empty() && (lines[i][0] == ' ' || lines[i][0] == '\t')) {
      r.headers.back().second += "\n" + lines[i];  // obsolete line folding
      continue;
    }
    size_t colon = lines[i].find(':');
    r.headers.emplace_back(lines[i].substr(0, colon), lines[i].substr(colon + 1));
  }
  return r;
}

std::multimap<std::string, std::string> ParseQuery(const std::string& text) {
  std::multimap<std::string, std::string> out;
  if (text.empty()) return out;
  for (size_t pos = 0; pos <= text.size();) {
    size_t amp = std::min(text.find('&', pos), text.size());
    std::string pair = text.substr(pos, amp - pos);
    size_t eq = pair.find('=');
    out.emplace(UriDecode(pair.substr(0, eq)),
                eq == std::string::npos ? "" : UriDecode(pair.substr(eq + 1)));
    pos = amp + 1;
  }
  return out;
}

std::vector<std::string> SuiteCases() {
  std::vector<std::string> cases;
  for (const auto& e : fs::recursive_directory_iterator(kSuiteDir)) {
    if (e.path().extension() == ".req")
      cases.push_back(fs::relative(e.path().parent_path(), kSuiteDir).string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

TEST(SigV4Suite, HasEveryCase) { EXPECT_EQ(SuiteCases().size(), 34u); }

class SigV4SuiteCase : public testing::TestWithParam<std::string> {};

TEST_P(SigV4SuiteCase, ReproducesCanonicalRequestStringToSignAndAuthorization) {
  const std::string dir = kSuiteDir + "/" + GetParam();
  const std::string base = dir + "/" + fs::path(GetParam()).filename().string();
  SuiteRequest req = ParseReq(ReadFileToString(base + ".req"));
  std::string creq = ReadFileToString(base + ".creq");

  SigV4Request sr;
  sr.method = req.method;
  sr.path = req.path;
  sr.query = ParseQuery(req.query_text);
  sr.payload_hash = Hex(Sha256::Of(req.body));
  for (auto& [name, value] : req.headers) {
    std::string lower = AsciiLower(name);
    if (lower == "x-amz-date") {
      EXPECT_EQ(value, FormatCompactUtc(kSuiteTime));
    } else if (lower != "x-amz-security-token") {  // comes from the credentials
      sr.headers.emplace_back(name, value);
    }
  }
  AwsCredentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  const std::string token_line = "\nx-amz-security-token:";
  if (size_t t = creq.find(token_line); t != std::string::npos) {
    size_t start = t + token_line.size();
    creds.session_token = creq.substr(start, creq.find('\n', start) - start);
  }

  SigV4Result r = SignV4(sr, creds, {"us-east-1", "service", kSuiteTime});
  EXPECT_EQ(r.canonical_request, creq);
  EXPECT_EQ(r.string_to_sign, ReadFileToString(base + ".sts"));
  EXPECT_EQ(r.authorization, ReadFileToString(base + ".authz"));
  EXPECT_EQ(r.headers_to_add.back(), std::make_pair(std::string("Authorization"), r.authorization));
  bool token_added = std::any_of(r.headers_to_add.begin(), r.headers_to_add.end(),
                                 [](const auto& h) { return h.first == "X-Amz-Security-Token"; });
  EXPECT_EQ(token_added, !creds.session_token.empty());

  // The signed request (.sreq) carries the same Authorization line, except in
  // the one case whose .sreq has a stale signature (see the suite's README).
  if (GetParam() != "get-vanilla-with-session-token") {
    std::string sreq = ReadFileToString(base + ".sreq");
    EXPECT_NE(sreq.find("Authorization: " + r.authorization), std::string::npos) << sreq;
  }
}

INSTANTIATE_TEST_SUITE_P(Aws4TestSuite, SigV4SuiteCase, testing::ValuesIn(SuiteCases()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

// One block of glacier_examples.txt: "key: value" lines; "header" repeats.
struct GlacierExample {
  std::map<std::string, std::string> fields;
  std::vector<std::string> headers;
};

std::vector<GlacierExample> LoadGlacierExamples() {
  std::string text = ReadFileToString(std::string(GB_TESTDATA_DIR) + "/sigv4/glacier_examples.txt");
  std::vector<GlacierExample> out;
  GlacierExample cur;
  auto flush = [&] {
    if (!cur.fields.empty()) out.push_back(cur);
    cur = {};
  };
  for (size_t pos = 0; pos <= text.size();) {
    size_t nl = std::min(text.find('\n', pos), text.size());
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;
    size_t sep = line.find(": ");
    std::string key = line.substr(0, sep), value = line.substr(sep + 2);
    if (key == "header") {
      cur.headers.push_back(value);
    } else {
      cur.fields[key] = value;
    }
  }
  flush();
  return out;
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

TEST(SigV4Glacier, DeveloperGuideExamples) {
  auto examples = LoadGlacierExamples();
  ASSERT_EQ(examples.size(), 2u);
  for (auto& ex : examples) {
    auto& f = ex.fields;
    SCOPED_TRACE(f["name"]);
    std::string body = f["payload-text"];
    ASSERT_EQ(body.size(), std::stoul(f["payload-length"]));
    SigV4Request req;
    req.method = f["method"];
    req.path = f["path"];
    req.payload_hash = Hex(Sha256::Of(body));
    EXPECT_EQ(req.payload_hash, f["payload-sha256"]);
    for (const auto& h : ex.headers) {
      size_t colon = h.find(':');
      if (h.substr(0, colon) != "x-amz-date")
        req.headers.emplace_back(h.substr(0, colon), h.substr(colon + 1));
    }
    auto t = ParseUtc(f["x-amz-date"]);
    ASSERT_TRUE(t);
    SigV4Result r =
        SignV4(req, {f["access-key"], f["secret-key"], ""}, {f["region"], f["service"], *t});
    EXPECT_EQ(r.canonical_request, Unescape(f["canonical-request"]));
    EXPECT_EQ(Hex(Sha256::Of(r.canonical_request)), f["canonical-request-sha256"]);
    EXPECT_EQ(r.string_to_sign, Unescape(f["string-to-sign"]));
    EXPECT_EQ(r.signed_headers, f["signed-headers"]);
    EXPECT_EQ(r.signature, f["signature"]);
    EXPECT_EQ(r.authorization, f["authorization"]);
  }
}

SigV4Request Basic(const std::string& path) {
  SigV4Request r;
  r.method = "GET";
  r.path = path;
  r.headers = {{"Host", "h.example"}};
  r.payload_hash = Hex(Sha256::Of(std::string()));
  return r;
}

const AwsCredentials kCreds{"AKID", "SECRETSECRETSECRET", "TOKENTOKENTOKEN"};

TEST(SigV4, PathRulesDifferForS3) {
  // Other services: normalised, and an encoded path is encoded again.
  EXPECT_EQ(CanonicalUri("/a/./b//c/../d", "glacier"), "/a/b/d");
  EXPECT_EQ(CanonicalUri("/a%20b", "glacier"), "/a%2520b");
  EXPECT_EQ(CanonicalUri("", "glacier"), "/");
  // s3: never normalised, encoded exactly once whether or not the caller encoded.
  EXPECT_EQ(CanonicalUri("/bucket/a//b/./c", "s3"), "/bucket/a//b/./c");
  EXPECT_EQ(CanonicalUri("/bucket/a%20b", "s3"), "/bucket/a%20b");
  EXPECT_EQ(CanonicalUri("/bucket/a b!", "s3"), "/bucket/a%20b%21");
  EXPECT_EQ(CanonicalUri(UriEncode("/bucket/ü+x=y", true), "s3"), "/bucket/%C3%BC%2Bx%3Dy");
}

TEST(SigV4, S3AddsContentSha256AndSessionToken) {
  SigV4Request req = Basic("/bucket/key");
  req.payload_hash = std::string(kUnsignedPayload);
  SigV4Result r = SignV4(req, kCreds, {"eu-west-1", "s3", kSuiteTime});
  EXPECT_EQ(r.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  HeaderList expected = {{"X-Amz-Date", "20150830T123600Z"},
                         {"X-Amz-Security-Token", kCreds.session_token},
                         {"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"},
                         {"Authorization", r.authorization}};
  EXPECT_EQ(r.headers_to_add, expected);
  EXPECT_NE(r.authorization.find("Credential=AKID/20150830/eu-west-1/s3/aws4_request"),
            std::string::npos);
  // Glacier signs only what it is given.
  SigV4Result g = SignV4(Basic("/-/vaults/v"), {"AKID", "S", ""}, {"eu-west-1", "glacier", 0});
  EXPECT_EQ(g.signed_headers, "host;x-amz-date");
}

TEST(SigV4, QueryIsEncodedAndSorted) {
  SigV4Request req = Basic("/");
  req.query = {{"b", "x y"}, {"a", "1+1=2"}, {"a", "0"}, {"marker", ""}, {"ü", "/"}};
  SigV4Result r = SignV4(req, kCreds, {"us-east-1", "glacier", kSuiteTime});
  EXPECT_EQ(r.canonical_query, "%C3%BC=%2F&a=0&a=1%2B1%3D2&b=x%20y&marker=");
}

TEST(SigV4, SecretsStayOutOfEveryOutput) {
  SigV4Result r = SignV4(Basic("/"), kCreds, {"us-east-1", "glacier", kSuiteTime});
  for (const std::string* s : {&r.canonical_request, &r.string_to_sign, &r.authorization})
    EXPECT_EQ(s->find(kCreds.secret_access_key), std::string::npos);
  for (const auto& [name, value] : r.headers_to_add)
    EXPECT_EQ(value.find(kCreds.secret_access_key), std::string::npos) << name;
}

TEST(SigV4, ContractViolationsThrow) {
  SigV4Request no_host = Basic("/");
  no_host.headers.clear();
  EXPECT_THROW(SignV4(no_host, kCreds, {"r", "glacier", 0}), Error);
  SigV4Request own_date = Basic("/");
  own_date.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  EXPECT_THROW(SignV4(own_date, kCreds, {"r", "glacier", 0}), Error);
  SigV4Request mismatch = Basic("/b/k");
  mismatch.headers.emplace_back("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  EXPECT_THROW(SignV4(mismatch, kCreds, {"r", "s3", 0}), Error);
  SigV4Request unsigned_glacier = Basic("/");
  unsigned_glacier.payload_hash = std::string(kUnsignedPayload);
  EXPECT_THROW(SignV4(unsigned_glacier, kCreds, {"r", "glacier", 0}), Error);
}

}  // namespace
}  // namespace gb
