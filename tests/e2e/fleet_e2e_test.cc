// Many hosts, one vault: end-to-end tests of the built binary with several
// hosts (one config, catalog and cache each) sharing one s3:// bucket on
// moto_server (every signature checked) or one file:// vault. What the hosts
// did is checked in the bucket itself (boto3), not through the tool.
//
//   - each host keeps to its own folder; archives stored directly under the
//     prefix by an earlier version stay readable and are still the host's own;
//     another host's archives and unknown objects survive pruning;
//   - the fleet lease: of two hosts racing for the last room under
//     [fleet] size_limit exactly one uploads; a holder killed while holding it
//     delays the next host by at most its expiry;
//   - ten hosts over thirty simulated days under a fleet cap.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cloud_util.h"
#include "core/clock.h"
#include "e2e_util.h"
#include "vault/test_server.h"

namespace gbe2e {
namespace {

using gb::testing::TestServer;

constexpr int64_t kDay = 86400;
constexpr int kExitNoSpace = 9, kExitStale = 13;
constexpr int kKilled = 128 + SIGKILL;

// Answers requests about the bucket through boto3, one JSON line each way
// (boto3 takes a second to load: one helper per test):
//   {"op": "list"}  -> [{"key", "size", "description"}] of every object
//   {"op": "put", "key", "body"}  an object that is not an archive of ours
//   {"op": "unfolder", "key", "state"}  moves PREFIX/HOST/ID to PREFIX/ID, where an
//       earlier version stored archives, and the host's catalog record with it
const char* const kBucketApi = R"PY(
import base64, json, os, sqlite3, sys
import boto3
s3 = boto3.client("s3", endpoint_url=os.environ["GBT_ENDPOINT"], region_name="us-east-1")
bucket = os.environ["GBT_BUCKET"]
heads = {}

def description(key, etag):
    if (key, etag) not in heads:
        d = s3.head_object(Bucket=bucket, Key=key)["Metadata"].get("description", "")
        heads[(key, etag)] = base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)).decode() if d else ""
    return heads[(key, etag)]

def listing():
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out.append({"key": o["Key"], "size": o["Size"],
                        "description": description(o["Key"], o["ETag"])})
    return out

def unfolder(key, state):
    prefix, host, archive = key.split("/")
    s3.copy_object(Bucket=bucket, Key=prefix + "/" + archive, MetadataDirective="COPY",
                   CopySource={"Bucket": bucket, "Key": key})
    s3.delete_object(Bucket=bucket, Key=key)
    for name in os.listdir(state):
        path = os.path.join(state, name)
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\0":
                continue
        db = sqlite3.connect(path)
        for table in ("vault_archives", "uploads"):
            db.execute("UPDATE %s SET archive_id = ? WHERE archive_id = ?" % table,
                       (archive, host + "/" + archive))
        db.commit()
        db.close()

for line in sys.stdin:
    req = json.loads(line)
    try:
        if req["op"] == "list":
            result = listing()
        elif req["op"] == "put":
            s3.put_object(Bucket=bucket, Key=req["key"], Body=req["body"].encode())
            result = {}
        elif req["op"] == "unfolder":
            unfolder(req["key"], req["state"])
            result = {}
        else:
            raise ValueError(req["op"])
    except Exception as e:
        result = {"error": repr(e)}
    print(json.dumps(result), flush=True)
)PY";

// One object in the bucket, with what its key and description say.
struct Object {
  std::string key, host;  // host: from the description; empty when not ours
  int64_t set = -1;
  uint64_t size = 0;
};

class FleetE2e : public ::testing::Test {
 public:
  static void TearDownTestSuite() { moto_.reset(); }

 protected:
  static TestServer& Moto() {
    if (!moto_) moto_ = std::make_unique<TestServer>("moto_harness.py");
    return *moto_;
  }

  void SetUp() override {
    // One set of keys for every host: the household's identity and signing key.
    MakeDirs(dir_ / "keys-src");
    ASSERT_NO_FATAL_FAILURE(keys_.Init({dir_ / "keys-src"}));
    static std::atomic<int> n{0};
    bucket_ = "gb-fleet-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    start_ = (std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count() /
              kDay) *
                 kDay -
             40 * kDay;
  }

  // The environment of every run: moto's keys, never the machine's AWS settings.
  std::vector<std::string> AwsEnv() { return ServerAwsEnv(Moto(), dir_.path()); }

  // The helper answering kBucketApi's requests, started on first use.
  PythonHelper& Bucket() {
    if (!api_) {
      std::vector<std::string> env = AwsEnv();
      env.push_back("GBT_ENDPOINT=" + Moto().endpoint());
      env.push_back("GBT_BUCKET=" + bucket_);
      api_ = std::make_unique<PythonHelper>(kBucketApi, env);
    }
    return *api_;
  }
  nlohmann::json AskBucket(const nlohmann::json& request) { return Bucket().Ask(request.dump()); }

  std::string HostDir(const std::string& host) const { return dir_ / host; }
  std::string State(const std::string& host) const { return HostDir(host) + "/state"; }

  // A host's config: its own source tree (one small file), catalog and cache, the
  // shared keys, the vault (s3://BUCKET/team on moto unless `vault_url` says
  // otherwise) and the extra [vault] and [fleet] lines.
  void AddHost(const std::string& host, const std::string& vault_lines,
               const std::string& fleet_lines, const std::string& vault_url = "") {
    const std::string d = HostDir(host);
    MakeDirs(d + "/src");
    WriteRandomFile(d + "/src/data", 3000, std::hash<std::string>{}(host));
    std::string url = vault_url.empty() ? "s3://" + bucket_ + "/team" : vault_url;
    std::string t = "[source]\nincludes = [\"" + d + "/src\"]\n[backup]\nhost = \"" + host +
                    "\"\nmax_incrementals = 0\ncompression_level = 1\nthreads = 1\n" +
                    "cache_dir = \"" + d + "/cache\"\nstate_dir = \"" + d + "/state\"\n" +
                    "[encryption]\nrecipients = [\"" + keys_.recipient() +
                    "\"]\ntrusted_signers = [\"" + keys_.signer() + "\"]\nsigning_key_file = \"" +
                    keys_.signing_key() + "\"\nidentity_file = \"" + keys_.identity() + "\"\n" +
                    "[vault]\nurl = \"" + url + "\"\n";
    if (vault_url.empty())
      t += "endpoint = \"" + Moto().endpoint() + "\"\nstorage_class = \"STANDARD\"\n";
    t += vault_lines + "\n[fleet]\n" + fleet_lines + "\n";
    WriteFile(d + "/config.toml", t, 0600);
  }

  RunOptions Options(const std::string& host, int64_t now, const std::string& crash_at) {
    RunOptions o;
    o.env = AwsEnv();
    o.env.push_back("HOME=" + HostDir(host) + "/home");
    o.env.push_back("GLACIER_BACKUP_FAKE_NOW=" + std::to_string(now));
    o.env.push_back("GLACIER_BACKUP_CRASH_AT=" + crash_at);
    return o;
  }
  std::vector<std::string> Argv(const std::string& host, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {Binary(), "--config", HostDir(host) + "/config.toml"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  Result Gb(const std::string& host, const std::vector<std::string>& args, int64_t now,
            const std::string& crash_at = "") {
    return Exec(Argv(host, args), Options(host, now, crash_at));
  }
  std::unique_ptr<Child> Start(const std::string& host, const std::vector<std::string>& args,
                               int64_t now) {
    return std::make_unique<Child>(Argv(host, args), Options(host, now, ""));
  }

  std::vector<Object> Objects() {
    std::vector<Object> out;
    for (const auto& o : AskBucket({{"op", "list"}})) {
      Object obj{o["key"], "", -1, o["size"]};
      auto d = nlohmann::json::parse(o["description"].get<std::string>(), nullptr, false);
      if (d.is_object()) {
        obj.host = d.value("host", "");
        obj.set = d.value("set", int64_t{-1});
      }
      out.push_back(obj);
    }
    return out;
  }

  TempDir dir_;
  Tool keys_{dir_ / "keys"};
  std::string bucket_;
  int64_t start_ = 0;  // a midnight some weeks ago: simulated days follow
  std::unique_ptr<PythonHelper> api_;
  static inline std::unique_ptr<TestServer> moto_;
};

// Each host writes only into PREFIX/HOST/. Archives an earlier version stored
// directly under PREFIX/ are still found, and this host's are still its own
// (counted, pruned in turn); another host's archives there, an unknown object
// in this host's own folder and one under the prefix all survive this host's
// syncs with pruning active.
TEST_F(FleetE2e, HostsKeepToTheirFoldersAndOlderLayoutsStayOwned) {
  AddHost("alpha", "", "");
  AddHost("beta", "", "");
  Result c = Gb("alpha", {"vault", "create"}, start_);
  ASSERT_EQ(c.code, 0) << c.Show();
  for (const char* h : {"alpha", "beta"}) {
    Result r = Gb(h, {"run"}, start_ + 60);
    ASSERT_EQ(r.code, 0) << h << "\n" << r.Show();
  }
  std::vector<Object> first = Objects();
  ASSERT_EQ(first.size(), 2u);
  uint64_t set_bytes = 0;
  for (const Object& o : first) {
    EXPECT_EQ(o.key, "team/" + o.host + "/" + o.key.substr(o.key.rfind('/') + 1)) << o.key;
    set_bytes = std::max(set_bytes, o.size);
  }
  // As an earlier version left them: both hosts' first sets directly under team/.
  for (const Object& o : first)
    AskBucket({{"op", "unfolder"}, {"key", o.key}, {"state", State(o.host)}});
  const std::string unknown_here = "team/alpha/0123456789abcdef0123456789abcdef";
  const std::string unknown_there = "team/fedcba9876543210fedcba9876543210";
  AskBucket({{"op", "put"}, {"key", unknown_here}, {"body", "not an archive"}});
  AskBucket({{"op", "put"}, {"key", unknown_there}, {"body", "nor this"}});
  AskBucket({{"op", "put"}, {"key", "team/README"}, {"body", "notes"}});

  // alpha's own cap holds its sets and beta's older one with room for one more:
  // every run from now on deletes alpha's oldest set, the older layout's first.
  AddHost("alpha", "size_limit = " + std::to_string(set_bytes * 7 / 2) + "\nmin_storage_days = 0\n",
          "");
  std::set<std::string> beta_keys;
  for (int day = 1; day <= 3; ++day) {
    Result a = Gb("alpha", {"--json", "run"}, start_ + day * kDay);
    ASSERT_EQ(a.code, 0) << a.Show();
    EXPECT_EQ(a.err.find("missing from the vault"), std::string::npos) << a.err;
    Result b = Gb("beta", {"run"}, start_ + day * kDay + 60);
    ASSERT_EQ(b.code, 0) << b.Show();
    std::vector<Object> now = Objects();
    std::set<std::string> keys;
    for (const Object& o : now) keys.insert(o.key);
    for (const std::string& k : beta_keys) EXPECT_TRUE(keys.count(k)) << "beta's " << k << " gone";
    for (const Object& o : now)
      if (o.host == "beta") beta_keys.insert(o.key);
    for (const std::string& k : {unknown_here, unknown_there, std::string("team/README")})
      EXPECT_TRUE(keys.count(k)) << k << " was deleted on day " << day;
    if (day == 2) {
      auto j = nlohmann::json::parse(a.out);
      EXPECT_EQ(j["pruned_sets"], nlohmann::json::array({1})) << a.out;
    }
  }
  // alpha kept its two newest sets, in its folder; beta all four, the first where
  // the earlier version put it; nothing else of ours anywhere.
  std::map<std::string, std::set<std::string>> by_host;
  for (const Object& o : Objects())
    if (!o.host.empty()) by_host[o.host].insert(o.key.substr(0, o.key.rfind('/') + 1));
  EXPECT_EQ(by_host["alpha"], std::set<std::string>({"team/alpha/"}));
  EXPECT_EQ(by_host["beta"], std::set<std::string>({"team/", "team/beta/"}));
  EXPECT_EQ(beta_keys.size(), 4u);
  std::map<std::string, int> count;
  for (const Object& o : Objects()) ++count[o.host];
  EXPECT_EQ(count["alpha"], 2);
  EXPECT_EQ(count["beta"], 4);

  // The earlier version's archive restores as any other.
  Result r = Gb("beta",
                {"restore", "--yes", "--wait", "--poll-interval", "1", "--at",
                 gb::FormatIsoUtc(start_ + 120), "--to", dir_ / "restored"},
                start_ + 4 * kDay);
  EXPECT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(ReadFile(dir_ / "restored" + HostDir("beta") + "/src/data"),
            ReadFile(HostDir("beta") + "/src/data"));
}

// The same guarantee where hosts share one listing (file://, as glacier://): an
// unknown archive and another host's survive this host's pruning.
TEST_F(FleetE2e, SharedListingNeverLosesAnotherHostsArchives) {
  const std::string vault = dir_ / "vault";
  AddHost("alpha", "min_storage_days = 0\n", "", "file://" + vault);
  AddHost("beta", "", "", "file://" + vault);
  ASSERT_EQ(Gb("alpha", {"vault", "create"}, start_).code, 0);
  const std::string foreign = "00112233445566778899aabbccddeeff";
  WriteFile(vault + "/archives/" + foreign, "someone else's");
  WriteFile(vault + "/archives/" + foreign + ".meta",
            R"({"description":"not ours","created":)" + std::to_string(start_) +
                R"(,"size":14,"tree_hash":")" +
                gb::Hex(gb::Sha256::Of(std::string("someone else's"))) + R"("})");
  for (int day = 0; day < 4; ++day) {
    for (const char* h : {"beta", "alpha"}) {
      Result r = Gb(h, {"run"}, start_ + day * kDay + 60);
      ASSERT_EQ(r.code, 0) << h << " day " << day << "\n" << r.Show();
    }
    if (day == 0) {
      // alpha's cap: what the vault holds now (beta's set, the foreign archive,
      // alpha's set) and room for one more set.
      uint64_t bytes = 0;
      for (const std::string& f : ListDir(vault + "/archives"))
        if (!f.ends_with(".meta")) bytes += std::filesystem::file_size(vault + "/archives/" + f);
      AddHost("alpha", "min_storage_days = 0\nsize_limit = " + std::to_string(bytes * 3 / 2) + "\n",
              "", "file://" + vault);
    }
  }
  Result j = Gb("alpha", {"--json", "status", "--fleet"}, start_ + 4 * kDay);
  auto fleet = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_TRUE(fleet.is_object()) << j.Show();
  std::map<std::string, int> sets;
  for (const auto& h : fleet["hosts"]) sets[h["host"]] = static_cast<int>(h["sets"].size());
  EXPECT_EQ(sets["beta"], 4) << j.out;
  EXPECT_LT(sets["alpha"], 4) << "alpha pruned its own sets: " << j.out;
  EXPECT_EQ(fleet["foreign_archives"], 1) << j.out;
  EXPECT_TRUE(Exists(vault + "/archives/" + foreign + ".meta"));
}

// Two hosts race for the last room under the fleet cap: exactly one uploads,
// the other exits 9 naming the host that holds the room.
TEST_F(FleetE2e, TwoHostsRacingForTheLastRoomOneUploads) {
  for (const char* h : {"alpha", "beta"}) AddHost(h, "", "lease_seconds = 20\n");
  ASSERT_EQ(Gb("alpha", {"vault", "create"}, start_).code, 0);
  for (const char* h : {"alpha", "beta"}) ASSERT_EQ(Gb(h, {"backup"}, start_ + 60).code, 0);
  Result plan = Gb("alpha", {"--json", "sync", "--dry-run"}, start_ + 90);
  ASSERT_EQ(plan.code, 0) << plan.Show();
  uint64_t set_bytes = nlohmann::json::parse(plan.out)["uploaded_bytes"];
  ASSERT_GT(set_bytes, 0u);
  const std::string cap = "size_limit = " + std::to_string(set_bytes * 3 / 2) + "\n";
  for (const char* h : {"alpha", "beta"}) AddHost(h, "", cap + "lease_seconds = 20\n");

  auto a = Start("alpha", {"sync"}, start_ + 120);
  auto b = Start("beta", {"sync"}, start_ + 120);
  std::map<std::string, Result> r = {{"alpha", a->Wait()}, {"beta", b->Wait()}};
  std::vector<std::string> won, lost;
  for (auto& [host, res] : r) {
    if (res.code == 0) won.push_back(host);
    if (res.code == kExitNoSpace) lost.push_back(host);
  }
  ASSERT_EQ(won.size(), 1u) << r["alpha"].Show() << "\n" << r["beta"].Show();
  ASSERT_EQ(lost.size(), 1u) << r["alpha"].Show() << "\n" << r["beta"].Show();
  EXPECT_NE(r[lost[0]].err.find("fleet size cap"), std::string::npos) << r[lost[0]].Show();
  EXPECT_NE(r[lost[0]].err.find("the hosts holding the most: " + won[0]), std::string::npos)
      << r[lost[0]].Show();
  std::vector<Object> objects = Objects();
  ASSERT_EQ(objects.size(), 1u) << "one archive, no lease left behind";
  EXPECT_EQ(objects[0].host, won[0]);
  EXPECT_EQ(objects[0].key.substr(0, 6 + won[0].size()), "team/" + won[0] + "/");
}

// A holder killed with SIGKILL right after taking the lease leaves it behind;
// the next host waits for its expiry (no longer) and uploads.
TEST_F(FleetE2e, KilledHolderDelaysOthersAtMostItsExpiry) {
  const std::string fleet = "size_limit = \"1 MiB\"\nlease_seconds = 30\n";
  for (const char* h : {"alpha", "beta"}) AddHost(h, "", fleet);
  ASSERT_EQ(Gb("alpha", {"vault", "create"}, start_).code, 0);
  const int64_t t = start_ + 60;
  Result dead = Gb("alpha", {"run"}, t, "sync-after-fleet-lease");
  ASSERT_EQ(dead.code, kKilled) << dead.Show();
  std::vector<Object> left = Objects();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].key, "team/.fleet-lease");

  // beta starts 2 s before the dead lease expires: it waits them out, then
  // takes the lease over.
  Result b = Gb("beta", {"--json", "run"}, t + 30 - 2);
  ASSERT_EQ(b.code, 0) << b.Show();
  EXPECT_EQ(nlohmann::json::parse(b.out)["uploaded"].size(), 1u) << b.out;
  // alpha's next run finishes what it started.
  Result a = Gb("alpha", {"run"}, t + 3600);
  ASSERT_EQ(a.code, 0) << a.Show();
  std::map<std::string, int> per_host;
  for (const Object& o : Objects()) ++per_host[o.host];
  EXPECT_EQ(per_host, (std::map<std::string, int>{{"alpha", 2}, {"beta", 1}}))
      << "the lease is released, every set uploaded once";
}

// Ten hosts share one bucket for thirty simulated days under a fleet cap that
// forces pruning, one of them stopping on day 20. To stay quick on a small
// machine each host runs every third day (a third of the hosts a day, at once).
// After every day: the fleet's total in the bucket is within the cap, the lease
// is released, every host's newest set is there, and whatever left the bucket
// was pruned by its own host; status --fleet --json matches the bucket and
// flags a host quiet for more than stale_after_days (exit 13).
TEST_F(FleetE2e, TenHostsThirtyDaysUnderOneCap) {
  constexpr int kHosts = 10, kDays = 30, kEvery = 3, kQuitter = 9, kQuitsAfter = 20;
  constexpr int kStaleAfter = 3;
  auto name = [](int i) { return "host" + std::to_string(i); };
  for (int i = 0; i < kHosts; ++i) AddHost(name(i), "min_storage_days = 0\n", "");
  ASSERT_EQ(Gb(name(0), {"vault", "create"}, start_).code, 0);
  ASSERT_EQ(Gb(name(0), {"backup"}, start_).code, 0);
  Result plan = Gb(name(0), {"--json", "sync", "--dry-run"}, start_ + 1);
  ASSERT_EQ(plan.code, 0) << plan.Show();
  uint64_t set_bytes = nlohmann::json::parse(plan.out)["uploaded_bytes"];
  // Room for about two and a half sets per host: each prunes its own to stay under.
  const uint64_t cap = set_bytes * kHosts * 5 / 2;
  for (int i = 0; i < kHosts; ++i)
    AddHost(name(i), "min_storage_days = 0\n",
            "size_limit = " + std::to_string(cap) +
                "\nstale_after_days = " + std::to_string(kStaleAfter) + "\nlease_seconds = 10\n");

  std::map<std::string, Object> previous;  // the bucket the day before, by key
  std::map<std::string, int64_t> newest_set, last_upload;
  int pruning_days = 0;
  for (int day = 0; day < kDays; ++day) {
    const int64_t now = start_ + day * kDay + 3600;
    std::vector<std::pair<std::string, std::unique_ptr<Child>>> runs;
    for (int i = 0; i < kHosts; ++i) {
      if ((i + day) % kEvery != 0 || (i == kQuitter && day > kQuitsAfter)) continue;
      runs.emplace_back(name(i), Start(name(i), {"--json", "run"}, now));
    }
    std::map<std::string, std::set<int64_t>> pruned;
    for (auto& [host, child] : runs) {
      Result r = child->Wait();
      ASSERT_EQ(r.code, 0) << host << " on day " << day << "\n" << r.Show();
      auto j = nlohmann::json::parse(r.out);
      for (const auto& s : j["pruned_sets"]) pruned[host].insert(s.get<int64_t>());
      // Its new set (with, on host0's first day, the one made to measure a set).
      ASSERT_GE(j["uploaded"].size(), 1u) << host << "'s new set waits on day " << day << "\n"
                                          << r.Show();
      std::string label = j["uploaded"].back();  // "set N"
      newest_set[host] = std::stoll(label.substr(label.find(' ') + 1));
      last_upload[host] = now;
    }
    if (!pruned.empty()) ++pruning_days;

    std::vector<Object> objects = Objects();
    uint64_t total = 0;
    std::map<std::string, std::set<int64_t>> sets;
    std::map<std::string, uint64_t> bytes;
    std::set<std::string> keys;
    for (const Object& o : objects) {
      EXPECT_NE(o.key, "team/.fleet-lease") << "left behind on day " << day;
      if (o.host.empty()) continue;
      EXPECT_EQ(o.key.rfind("team/" + o.host + "/", 0), 0u) << o.key;
      total += o.size;
      sets[o.host].insert(o.set);
      bytes[o.host] += o.size;
      keys.insert(o.key);
    }
    EXPECT_LE(total, cap) << "day " << day;
    for (const auto& [host, set] : newest_set)
      EXPECT_TRUE(sets[host].count(set)) << host << "'s newest set " << set << " on day " << day;
    for (const auto& [key, o] : previous) {
      if (!keys.count(key)) {
        EXPECT_TRUE(pruned[o.host].count(o.set))
            << key << " (set " << o.set << " of " << o.host << ") vanished on day " << day
            << " though its host did not prune it";
      }
    }
    previous.clear();
    for (const Object& o : objects) previous[o.key] = o;

    if (day % 5 == 4 || day == kDays - 1) {
      const int64_t at = now + 60;
      Result f = Gb(name(0), {"--json", "status", "--fleet"}, at);
      auto j = nlohmann::json::parse(f.out, nullptr, false);
      ASSERT_TRUE(j.is_object()) << f.Show();
      EXPECT_EQ(j["total_billed_bytes"].get<uint64_t>(), total) << "day " << day;
      ASSERT_EQ(j["hosts"].size(), sets.size()) << f.out;
      for (const auto& h : j["hosts"]) {
        EXPECT_EQ(h["billed_bytes"].get<uint64_t>(), bytes[h["host"]]) << h.dump();
        EXPECT_EQ(h["sets"].get<std::set<int64_t>>(), sets[h["host"]]) << h.dump();
      }
      nlohmann::json stale = nlohmann::json::array();
      for (const auto& [host, t] : last_upload)
        if ((at - t) / kDay > kStaleAfter) stale.push_back(host);
      EXPECT_EQ(j["stale_hosts"], stale) << "day " << day;
      EXPECT_EQ(f.code, stale.empty() ? 0 : kExitStale) << "day " << day << "\n" << f.Show();
      if (day == kDays - 1) {
        EXPECT_EQ(stale, nlohmann::json::array({name(kQuitter)}));
      }
    }
  }
  EXPECT_EQ(newest_set.size(), static_cast<size_t>(kHosts));
  EXPECT_GE(pruning_days, kDays / 2) << "the cap should force pruning most days";
}

}  // namespace
}  // namespace gbe2e
