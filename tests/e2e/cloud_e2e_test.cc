// End-to-end tests of the built binary against the cloud backends, each test
// run three times: glacier:// on moto_server, glacier:// on the faithful
// Glacier server (tests/servers/glacier_server.py), and s3:// in DEEP_ARCHIVE
// on moto_server. Both servers check every SigV4 signature. The tool gets its
// credentials only from its environment (never a command line, never ~/.aws),
// and what it did is checked through the vault's own API (boto3), not through
// the tool.
//
// One server per backend for the whole suite (started on first use), a fresh
// vault or bucket per test. moto's Glacier jobs take 2 s (Expedited), so the
// tests retrieve with --tier Expedited where the storage class offers it.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cloud_util.h"
#include "e2e_util.h"
#include "vault/test_server.h"

namespace gbe2e {
namespace {

using gb::testing::TestServer;

enum class Backend { kGlacierMoto, kGlacierFaithful, kS3Moto };

std::string BackendName(Backend b) {
  switch (b) {
    case Backend::kGlacierMoto:
      return "GlacierMoto";
    case Backend::kGlacierFaithful:
      return "GlacierFaithful";
    case Backend::kS3Moto:
      return "S3DeepArchiveMoto";
  }
  return "?";
}

// Test names in ctest and failure messages.
void PrintTo(Backend b, std::ostream* os) { *os << BackendName(b); }

constexpr int kExitNotFound = 6, kExitVault = 8, kExitNoSpace = 9, kExitPending = 10;
constexpr int64_t kDay = 86400;
constexpr uint64_t kKiB = 1024, kMiB = 1 << 20;

// Lists what the vault holds through its own API (boto3), and the Glacier jobs
// it knows: a helper that stays up for the test (boto3 takes seconds to load),
// reads one request a line ("list" or "jobs") and answers one JSON line. Its
// parameters and the credentials come from its environment.
const char* const kVaultApi = R"PY(
import base64, hashlib, json, os, sys, time
import boto3
kind, endpoint = os.environ["GBT_KIND"], os.environ["GBT_ENDPOINT"]
name = os.environ["GBT_NAME"]

def s3_list():
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            meta = s3.head_object(Bucket=name, Key=o["Key"])["Metadata"]
            d = meta.get("description", "")
            d = base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)).decode() if d else ""
            out.append({"id": o["Key"], "size": o["Size"], "description": d,
                        "storage_class": o.get("StorageClass", "STANDARD")})
    return out

def sign_payload(request, **kwargs):
    # moto verifies bodiless requests only when the payload hash is signed too.
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, bytes):
        request.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()

def glacier_list():
    params = {"Type": "inventory-retrieval"}
    if os.environ.get("GBT_INVENTORY_TIER"):
        params["Tier"] = os.environ["GBT_INVENTORY_TIER"]
    job = g.initiate_job(accountId="-", vaultName=name, jobParameters=params)["jobId"]
    deadline = time.time() + 60
    while not g.describe_job(accountId="-", vaultName=name, jobId=job)["Completed"]:
        if time.time() > deadline:
            raise RuntimeError("the inventory job did not finish within 60 s")
        time.sleep(0.1)
    body = json.loads(g.get_job_output(accountId="-", vaultName=name, jobId=job)["body"].read())
    return [{"id": a["ArchiveId"], "size": a["Size"], "description": a["ArchiveDescription"]}
            for a in body["ArchiveList"]]

if kind == "s3":
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
else:
    g = boto3.client("glacier", endpoint_url=endpoint, region_name="us-east-1")
    g.meta.events.register("before-sign.glacier.*", sign_payload)
for line in sys.stdin:
    what = line.strip()
    try:
        if what == "list":
            result = s3_list() if kind == "s3" else glacier_list()
        elif what == "jobs":
            result = g.list_jobs(accountId="-", vaultName=name)["JobList"]
        else:
            raise ValueError("unknown request " + what)
    except Exception as e:
        result = {"error": repr(e)}
    print(json.dumps(result, default=str), flush=True)
)PY";

struct Listed {
  std::string id, description, storage_class;
  uint64_t size = 0;
  int64_t set = -1;  // -1: not a glacier-backup bundle
};

class CloudE2e : public ::testing::TestWithParam<Backend> {
 public:
  static void TearDownTestSuite() {
    moto_.reset();
    faithful_.reset();
  }

 protected:
  static TestServer& Server(Backend b) {
    if (b == Backend::kGlacierFaithful) {
      // Clients whose clock is simulated (GLACIER_BACKUP_FAKE_NOW) sign with that
      // time: allow some weeks of skew.
      if (!faithful_)
        faithful_ = std::make_unique<TestServer>(
            "glacier_server.py",
            std::vector<std::string>{"--job-delay", "1", "--max-skew", std::to_string(40 * kDay)});
      return *faithful_;
    }
    if (!moto_) moto_ = std::make_unique<TestServer>("moto_harness.py");
    return *moto_;
  }

  bool Glacier() const { return GetParam() != Backend::kS3Moto; }
  bool HonestRanges() const { return GetParam() != Backend::kGlacierMoto; }
  // Deep Archive offers no Expedited tier.
  std::string FastTier() const { return Glacier() ? "Expedited" : "Standard"; }
  uint64_t Overhead() const { return Glacier() ? 32 * kKiB : 40 * kKiB; }

  void SetUp() override {
    try {
      server_ = &Server(GetParam());
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    static std::atomic<int> n{0};
    name_ = "gb-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
    MakeDirs(src_);
    MakeDirs(tool_.dir());
    now_ = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
                   .count() /
               60 * 60 -
           3600;
    SetEnv(tool_, ServerAwsEnv(*server_, dir_.path()));
    Tick();
  }

  // The [vault] section for this backend, plus `extra` lines.
  std::string VaultSection(const std::string& extra) const {
    const std::string& n = name_;
    std::string t = "\n[vault]\n";
    if (Glacier())
      t += "url = \"glacier://us-east-1/" + n + "\"\n";
    else
      t += "url = \"s3://" + n + "\"\nstorage_class = \"DEEP_ARCHIVE\"\n";
    t += "endpoint = \"" + server_->endpoint() + "\"\n" + extra;
    return t;
  }

  // init, then the config: the sources, `backup` lines and the vault.
  void Configure(const std::string& backup, const std::string& vault, bool create = true) {
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}, backup));
    backup_ = backup;
    ASSERT_NO_FATAL_FAILURE(Reconfigure(vault));
    if (create) {
      Result r = Gb({"vault", "create"});
      ASSERT_EQ(r.code, 0) << r.Show();
    }
  }
  void Reconfigure(const std::string& vault) {
    WriteFile(tool_.config(), tool_.ConfigText({src_}, backup_, VaultSection(vault)), 0600);
  }

  // Each run happens a minute (simulated) after the previous one.
  void Tick(int64_t seconds = 60) {
    now_ += seconds;
    tool_.SetEnv("GLACIER_BACKUP_FAKE_NOW", std::to_string(now_));
  }

  // Runs the tool; no secret ever appears in what it prints.
  Result Gb(const std::vector<std::string>& args) {
    Result r = tool_.Run(args);
    for (const std::string& secret : {server_->secret_key(), std::string("wrong-secret-4711")}) {
      EXPECT_EQ(r.out.find(secret), std::string::npos) << "a secret on stdout\n" << r.Show();
      EXPECT_EQ(r.err.find(secret), std::string::npos) << "a secret on stderr\n" << r.Show();
    }
    return r;
  }
  // --json ARGS, expecting exit `want`; the parsed stdout (null on failure).
  nlohmann::json GbJson(std::vector<std::string> args, int want = 0) {
    args.insert(args.begin(), "--json");
    Result r = Gb(args);
    EXPECT_EQ(r.code, want) << r.Show();
    try {
      return nlohmann::json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.Show();
      return nullptr;
    }
  }

  // The vault's own listing (boto3). For Glacier, an inventory job.
  std::vector<Listed> VaultListing() { return ParseListing(Api().Ask("list")); }
  // The helper answering "list" and "jobs" (kVaultApi), started on first use.
  PythonHelper& Api() {
    if (!api_) {
      std::vector<std::string> env = ServerAwsEnv(*server_, dir_.path());
      env.insert(env.end(),
                 {"GBT_KIND=" + std::string(Glacier() ? "glacier" : "s3"),
                  "GBT_ENDPOINT=" + server_->endpoint(), "GBT_NAME=" + name_,
                  // moto's inventories take the tier's time; the faithful server refuses a tier.
                  "GBT_INVENTORY_TIER=" +
                      std::string(GetParam() == Backend::kGlacierMoto ? "Expedited" : "")});
      api_ = std::make_unique<PythonHelper>(kVaultApi, env);
    }
    return *api_;
  }
  static std::vector<Listed> ParseListing(const nlohmann::json& j) {
    std::vector<Listed> out;
    if (!j.is_array()) return out;
    for (const auto& a : j) {
      Listed l;
      l.id = a["id"];
      l.size = a["size"];
      l.description = a["description"];
      l.storage_class = a.value("storage_class", "");
      auto d = nlohmann::json::parse(l.description, nullptr, false);
      if (d.is_object() && d.value("tool", "") == "glacier-backup" && d.contains("set"))
        l.set = d["set"];
      out.push_back(l);
    }
    return out;
  }
  uint64_t Billed(const std::vector<Listed>& listing) const {
    uint64_t b = 0;
    for (const auto& l : listing) b += l.size + Overhead();
    return b;
  }
  static std::set<int64_t> SetsIn(const std::vector<Listed>& listing) {
    std::set<int64_t> s;
    for (const auto& l : listing) s.insert(l.set);
    return s;
  }

  // The source as it is at generation g (several kinds of entries; a file over
  // 1 MiB so tree hashes span several chunks).
  void Generation(int g) {
    switch (g) {
      case 1:
        WriteFile(S("a.txt"), "alpha\n", 0644, 1500000000, 5);
        WriteRandomFile(S("dir/big.bin"), 1536 * kKiB, 1);
        WriteFile(S("dir/sub/c.cfg"), "c = 1\n", 0600, 1600000000, 123456789);
        Symlink("a.txt", S("link"));
        WriteFile(S("hard1"), "linked\n");
        HardLink(S("hard1"), S("hard2"));
        MakeDirs(S("empty"), 0700);
        break;
      case 2:
        AppendFile(S("a.txt"), "more\n");
        ::unlink(S("dir/big.bin").c_str());
        break;
      case 3:
        WriteFile(S("d.bin"), Random(70000, 3), 0640);
        ::unlink(S("link").c_str());
        Symlink("dir/sub/c.cfg", S("link"));
        break;
      default:
        WriteFile(S("g" + std::to_string(g) + ".txt"), "generation " + std::to_string(g));
        ::unlink(S("hard2").c_str());
        break;
    }
  }

  // `run` after each of generations 1..n; returns the backup ids and keeps a
  // copy of the source as it was at each.
  std::vector<std::string> RunGenerations(int n) {
    std::vector<std::string> ids;
    for (int g = 1; g <= n; ++g) {
      Generation(g);
      Tick();
      nlohmann::json r = GbJson({"run"});
      if (!r.is_object()) return ids;
      ids.push_back(r["backup"]["id"]);
      CopyTree(src_, dir_ / ("snap-" + ids.back()));
      // max_incrementals = 1: every second run completes a set and uploads it.
      if (g % 2 == 0) {
        EXPECT_EQ(r["uploaded"], nlohmann::json::array({"set " + std::to_string(g / 2)}))
            << r.dump(2);
      } else {
        EXPECT_EQ(r["uploaded"].size(), 0u) << r.dump(2);
      }
    }
    return ids;
  }

  std::vector<std::string> SnapshotIds() {
    std::vector<std::string> ids;
    nlohmann::json s = GbJson({"snapshots"});
    if (s.is_array())
      for (const auto& b : s) ids.push_back(b["id"]);
    return ids;
  }

  std::vector<std::string> CachedArchives() {
    std::vector<std::string> out;
    for (const auto& f : ListDir(tool_.cache()))
      if (f.ends_with(".tar.zst.age")) out.push_back(f);  // not their .minisig
    return out;
  }

  // restore --at ID --yes --wait from the vault into a fresh directory, compared
  // with the source as it was then. Returns restore's JSON.
  nlohmann::json ExpectRestoresFromVault(const std::string& id,
                                         const std::vector<std::string>& extra = {}) {
    std::string target = dir_ / ("restore-" + std::to_string(++restores_));
    std::vector<std::string> args = {
        "restore", "--at", id, "--to", target, "--yes", "--wait", "--poll-interval", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    Tick();
    nlohmann::json j = GbJson(args);
    if (!j.is_object()) return j;
    EXPECT_EQ(j["complete"], true) << j.dump(2);
    EXPECT_GT(j.value("retrieved_bytes", 0), 0) << "nothing came from the vault: " << j.dump(2);
    std::vector<std::string> diffs = CompareTrees(dir_ / ("snap-" + id), Restored(target, src_));
    EXPECT_TRUE(diffs.empty()) << "backup " << id << " restored from the vault differs:\n"
                               << JoinLines(diffs);
    Exec({"rm", "-rf", target});
    return j;
  }

  void LoseTheMachine() {
    Exec({"rm", "-rf", tool_.cache(), tool_.state()});
    ASSERT_FALSE(Exists(tool_.state()));
  }

  std::string S(const std::string& rel = "") const { return rel.empty() ? src_ : src_ + "/" + rel; }

  static inline std::unique_ptr<TestServer> moto_, faithful_;
  TestServer* server_ = nullptr;
  TempDir dir_;
  std::unique_ptr<PythonHelper> api_;
  std::string src_ = dir_ / "src";
  Tool tool_{dir_ / "gb"};
  std::string name_, backup_;
  int64_t now_ = 0;
  int restores_ = 0;
};

// ---------------------------------------------------------------------------

TEST_P(CloudE2e, EveryBackupPointRestoresFromTheVault) {
  ASSERT_NO_FATAL_FAILURE(
      Configure("max_incrementals = 1\ncompression_level = 1", "keep_local_sets = 0\n"));
  std::vector<std::string> ids = RunGenerations(4);
  ASSERT_EQ(ids.size(), 4u);

  // Two bundles in the vault, one per set; nothing of them left in the cache.
  std::vector<Listed> listing = VaultListing();
  EXPECT_EQ(listing.size(), 2u);
  EXPECT_EQ(SetsIn(listing), (std::set<int64_t>{1, 2}));
  if (!Glacier()) {
    for (const auto& l : listing) EXPECT_EQ(l.storage_class, "DEEP_ARCHIVE") << l.id;
  }
  EXPECT_TRUE(CachedArchives().empty()) << JoinLines(CachedArchives());
  nlohmann::json status = GbJson({"status"});
  ASSERT_TRUE(status.is_object());
  ASSERT_EQ(status["sets"].size(), 2u) << status.dump(2);
  for (const auto& s : status["sets"]) {
    EXPECT_EQ(s["state"], "in vault") << s.dump();
    EXPECT_EQ(s["local"], false) << s.dump();
  }
  EXPECT_EQ(status["vault"]["billed_bytes"].get<uint64_t>(), Billed(listing));

  for (const std::string& id : ids)
    ASSERT_NO_FATAL_FAILURE(ExpectRestoresFromVault(id, {"--tier", FastTier()}));
  // A finished restore leaves nothing behind in the staging area.
  EXPECT_TRUE(ListDir(tool_.state() + "/staging").empty())
      << JoinLines(ListDir(tool_.state() + "/staging"));
}

TEST_P(CloudE2e, DisasterRecoveryFromTheVaultAlone) {
  ASSERT_NO_FATAL_FAILURE(
      Configure("max_incrementals = 1\ncompression_level = 1", "keep_local_sets = 0\n"));
  std::vector<std::string> ids = RunGenerations(4);
  ASSERT_EQ(ids.size(), 4u);
  ASSERT_NO_FATAL_FAILURE(LoseTheMachine());

  // Two days later (Glacier's inventory lists uploads about a day late) a new
  // machine recovers. A first pass starts what it needs; while the vault works
  // it says so and exits 10.
  Tick(2 * kDay);
  Result first = Gb({"recover", "--yes", "--tier", FastTier()});
  if (first.code == kExitPending) {
    EXPECT_NE(first.out.find("again"), std::string::npos) << first.Show();
  } else {
    EXPECT_EQ(first.code, 0) << first.Show();
    EXPECT_FALSE(Glacier()) << "Glacier jobs take time; recover cannot be done at once\n"
                            << first.Show();
  }
  Tick();
  nlohmann::json r =
      GbJson({"recover", "--yes", "--wait", "--poll-interval", "1", "--tier", FastTier()});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["complete"], true) << r.dump(2);
  EXPECT_EQ(r["bundles"], 2) << r.dump(2);
  EXPECT_EQ(r["problems"], 0) << r.dump(2);
  EXPECT_EQ(SnapshotIds(), ids);
  // Running it again changes nothing.
  Tick();
  Result again = Gb({"recover"});
  EXPECT_EQ(again.code, 0) << again.Show();
  EXPECT_EQ(SnapshotIds(), ids);

  // The oldest point: started without waiting (the vault needs time: exit 10, run
  // again later), then the same command again without --tier: the plan shows the
  // tier of the retrieval already running, not the default one (Bulk).
  const std::string oldest = ids.front(), newest = ids.back();
  std::string target = dir_ / "restore-oldest";
  Tick();
  Result started = Gb({"restore", "--at", oldest, "--to", target, "--yes", "--tier", FastTier()});
  if (Glacier()) {
    EXPECT_EQ(started.code, kExitPending) << started.Show();
  }
  if (started.code == kExitPending) {
    EXPECT_NE(started.out.find("again"), std::string::npos) << started.Show();
    Tick();
    Result rerun =
        Gb({"restore", "--at", oldest, "--to", target, "--yes", "--wait", "--poll-interval", "1"});
    ASSERT_EQ(rerun.code, 0) << rerun.Show();
    std::string plan = rerun.out.substr(0, rerun.out.find("restored backup"));
    EXPECT_NE(plan.find(FastTier() + " tier"), std::string::npos) << rerun.Show();
    EXPECT_EQ(plan.find("Bulk"), std::string::npos) << rerun.Show();
  } else {
    ASSERT_EQ(started.code, 0) << started.Show();
  }
  std::vector<std::string> diffs = CompareTrees(dir_ / ("snap-" + oldest), Restored(target, src_));
  EXPECT_TRUE(diffs.empty()) << "oldest point " << oldest << ":\n" << JoinLines(diffs);

  ASSERT_NO_FATAL_FAILURE(ExpectRestoresFromVault(newest, {"--tier", FastTier()}));

  // And the recovered catalog carries on: a new backup and sync upload set 3 beside them.
  Generation(5);
  Generation(6);
  Tick();
  ASSERT_TRUE(GbJson({"run"}).is_object());
  Tick();
  nlohmann::json run = GbJson({"run"});
  ASSERT_TRUE(run.is_object());
  EXPECT_EQ(run["uploaded"], nlohmann::json::array({"set 3"})) << run.dump(2);
  EXPECT_EQ(run.value("warnings", -1), 0) << run.dump(2);
  EXPECT_EQ(SetsIn(VaultListing()), (std::set<int64_t>{1, 2, 3}));
}

// The machine is lost hours after its first upload. The only inventory Glacier offers
// then is the one its first sync asked for, taken before that upload: recover does not
// say "nothing to recover" but asks for a newer inventory and exits 10; run again, it
// recovers the set the newer inventory lists.
TEST_P(CloudE2e, RecoverWaitsForAnInventoryThatListsTheLastUploads) {
  if (!Glacier()) GTEST_SKIP() << "S3 lists uploads at once";
  ASSERT_NO_FATAL_FAILURE(
      Configure("max_incrementals = 1\ncompression_level = 1", "keep_local_sets = 0\n"));
  std::vector<std::string> ids = RunGenerations(2);  // set 1 uploaded
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_NO_FATAL_FAILURE(LoseTheMachine());

  // Until the vault finishes that inventory job (seconds here), recover waits for it.
  Result first;
  for (int attempt = 0; attempt < 30; ++attempt) {
    Tick();
    first = Gb({"recover", "--yes", "--tier", FastTier()});
    if (first.code != kExitPending || first.out.find("newer") != std::string::npos) break;
    ::sleep(1);
  }
  EXPECT_EQ(first.code, kExitPending) << first.Show();
  EXPECT_EQ(first.err.find("nothing to recover"), std::string::npos) << first.Show();
  EXPECT_NE(first.out.find("newer inventory is requested"), std::string::npos) << first.Show();

  Tick();
  nlohmann::json r =
      GbJson({"recover", "--yes", "--wait", "--poll-interval", "1", "--tier", FastTier()});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["complete"], true) << r.dump(2);
  EXPECT_EQ(r["inventory_outdated"], false) << r.dump(2);
  EXPECT_EQ(r["bundles"], 1) << r.dump(2);
  EXPECT_EQ(SnapshotIds(), ids);
}

TEST_P(CloudE2e, PartialRestoreRetrievesOnlyWhatItNeeds) {
  ASSERT_NO_FATAL_FAILURE(
      Configure("max_incrementals = 1\ncompression_level = 1", "keep_local_sets = 0\n"));
  WriteRandomFile(S("video/big.bin"), 3 * kMiB, 9);
  WriteFile(S("notes/todo.txt"), "first\n");
  Tick();
  nlohmann::json full = GbJson({"run"});
  ASSERT_TRUE(full.is_object());
  WriteFile(S("notes/todo.txt"), "second, longer\n", 0600, 1700000000, 42);
  Tick();
  nlohmann::json incr = GbJson({"run"});
  ASSERT_TRUE(incr.is_object());
  ASSERT_EQ(incr["uploaded"], nlohmann::json::array({"set 1"})) << incr.dump(2);
  std::vector<Listed> listing = VaultListing();
  ASSERT_EQ(listing.size(), 1u);
  const uint64_t bundle = listing[0].size;
  ASSERT_GT(bundle, 3 * kMiB);

  std::string target = dir_ / "partial";
  Tick();
  nlohmann::json j =
      GbJson({"restore", "--at", incr["backup"]["id"], "--to", target, "--yes", "--wait",
              "--poll-interval", "1", "--tier", FastTier(), S("notes/todo.txt")});
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["files"], 1) << j.dump(2);
  EXPECT_EQ(ReadFile(Restored(target, S("notes/todo.txt"))), "second, longer\n");
  struct stat st;
  ASSERT_EQ(::lstat(Restored(target, S("notes/todo.txt")).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 42);
  EXPECT_FALSE(Exists(Restored(target, S("video")))) << "restored more than asked for";

  // One retrieval, recorded as such.
  nlohmann::json jobs = GbJson({"restore", "--list-jobs"});
  ASSERT_TRUE(jobs.is_array());
  EXPECT_EQ(jobs.size(), 1u) << jobs.dump(2);
  if (!HonestRanges()) {
    // moto ignores RetrievalByteRange and the Range of GetJobOutput: it sends the
    // whole archive whatever is asked, so only the result can be checked.
    return;
  }
  // Only the MiB around the incremental archive, not the 3 MiB full beside it.
  EXPECT_LT(j["retrieved_bytes"].get<uint64_t>(), bundle / 2) << j.dump(2);
  if (Glacier()) {
    nlohmann::json vault_jobs = Api().Ask("jobs");
    int retrievals = 0;
    for (const auto& job : vault_jobs) {
      if (job["Action"] != "ArchiveRetrieval") continue;
      ++retrievals;
      std::string range = job["RetrievalByteRange"];
      uint64_t first = std::stoull(range.substr(0, range.find('-')));
      uint64_t last = std::stoull(range.substr(range.find('-') + 1));
      EXPECT_LE(last - first + 1, 1 * kMiB + 64 * kKiB) << job.dump(2);
      EXPECT_EQ(last + 1, bundle) << "the incremental is at the bundle's end\n" << job.dump(2);
    }
    EXPECT_EQ(retrievals, 1) << vault_jobs.dump(2);
  }
}

TEST_P(CloudE2e, TwelveDailyRunsStayUnderTheCapAndKeepYoungSets) {
  constexpr int kMinDays = 3;
  // Each day's set: ~100 KiB of fresh data plus the per-archive overhead; the cap
  // holds about three. backlog = "all": every set goes up, so the cap prunes often.
  const uint64_t cap = 3 * (100 * kKiB + Overhead()) + 60 * kKiB;
  ASSERT_NO_FATAL_FAILURE(
      Configure("max_incrementals = 0\ncompression_level = 1",
                "keep_local_sets = 0\nbacklog = \"all\"\nsize_limit = " + std::to_string(cap) +
                    "\nmin_storage_days = " + std::to_string(kMinDays) + "\n"));
  const int64_t start = now_;
  std::map<std::string, int> first_seen;    // archive id -> simulated day
  std::map<std::string, int64_t> set_of;    // archive id -> set
  std::map<int64_t, std::string> point_of;  // set -> its backup id
  int64_t newest_set = -1;
  std::set<int64_t> deleted;
  int no_space = 0;
  for (int day = 0; day < 12; ++day) {
    SCOPED_TRACE("day " + std::to_string(day));
    now_ = start + day * kDay - 60;
    Tick();
    WriteRandomFile(S("daily.bin"), 100 * kKiB, 100 + day);
    // Day 5 brings a large file for a day: that set alone needs most of the cap,
    // so the sets after it wait until it is old enough to go.
    if (day == 5) WriteRandomFile(S("large.bin"), 200 * kKiB, 5);
    if (day == 6) ::unlink(S("large.bin").c_str());
    Result r = Gb({"--json", "run"});
    ASSERT_TRUE(r.code == 0 || r.code == kExitNoSpace) << r.Show();
    if (r.code == kExitNoSpace) {
      // Said on one line what to change, and kept the backup.
      ++no_space;
      EXPECT_NE(Lines(r.err).back().find("size_limit"), std::string::npos) << r.Show();
    } else {
      nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
      ASSERT_TRUE(j.is_object()) << r.Show();
    }
    nlohmann::json snaps = GbJson({"snapshots"});
    ASSERT_TRUE(snaps.is_array() && !snaps.empty());
    const std::string id = snaps.back()["id"];
    point_of[snaps.back()["set"].get<int64_t>()] = id;
    CopyTree(src_, dir_ / ("snap-" + id));

    std::vector<Listed> listing = VaultListing();
    EXPECT_LE(Billed(listing), cap) << "over the cap";
    nlohmann::json status = GbJson({"status"});
    ASSERT_TRUE(status.is_object());
    EXPECT_EQ(status["vault"]["billed_bytes"].get<uint64_t>(), Billed(listing))
        << "the tool's idea of the vault differs from the vault";
    std::set<std::string> present;
    for (const auto& l : listing) {
      present.insert(l.id);
      EXPECT_GE(l.set, 1) << "not a glacier-backup bundle: " << l.description;
      if (!first_seen.count(l.id)) first_seen[l.id] = day, set_of[l.id] = l.set;
      newest_set = std::max(newest_set, l.set);
    }
    for (const auto& [archive, seen] : first_seen) {
      if (present.count(archive) || deleted.count(set_of[archive])) continue;
      deleted.insert(set_of[archive]);
      EXPECT_GE(day - seen, kMinDays)
          << "set " << set_of[archive] << " deleted after " << day - seen << " day(s)";
    }
    EXPECT_TRUE(SetsIn(listing).count(newest_set)) << "the newest set " << newest_set << " is gone";
    if (HasFatalFailure()) return;
  }
  EXPECT_GE(deleted.size(), 4u) << "the cap should have made room several times";
  EXPECT_GE(no_space, 1) << "the large set should not have fitted at once";
  EXPECT_GE(newest_set, 8);
  // The newest point in the vault restores from it (the cache no longer holds it).
  ASSERT_TRUE(point_of.count(newest_set));
  ASSERT_NO_FATAL_FAILURE(ExpectRestoresFromVault(point_of[newest_set], {"--tier", FastTier()}));
}

TEST_P(CloudE2e, WrongCredentialsAndAMissingVaultSayWhatToCheck) {
  // The vault is never created.
  ASSERT_NO_FATAL_FAILURE(Configure("max_incrementals = 0\ncompression_level = 1",
                                    "keep_local_sets = 0\n", /*create=*/false));
  WriteFile(S("precious.txt"), "do not lose me\n");
  Tick();
  Result missing = Gb({"run"});
  EXPECT_EQ(missing.code, kExitNotFound) << missing.Show();
  std::vector<std::string> lines = Lines(missing.err);
  ASSERT_EQ(lines.size(), 1u) << "one line\n" << missing.Show();
  EXPECT_NE(lines[0].find(name_), std::string::npos) << "names the vault\n" << missing.Show();
  EXPECT_NE(lines[0].find("vault create"), std::string::npos) << missing.Show();
  EXPECT_EQ(CachedArchives().size(), 1u) << "the backup must stay in the cache";
  ASSERT_EQ(SnapshotIds().size(), 1u);

  Result created = Gb({"vault", "create"});
  ASSERT_EQ(created.code, 0) << created.Show();

  // Wrong secret: exit 8, one line naming the credentials and where they came from.
  tool_.SetEnv("AWS_SECRET_ACCESS_KEY", "wrong-secret-4711");
  WriteFile(S("more.txt"), "also precious\n");
  Tick();
  for (const char* cmd : {"run", "sync"}) {
    SCOPED_TRACE(cmd);
    Result denied = Gb({cmd});
    EXPECT_EQ(denied.code, kExitVault) << denied.Show();
    lines = Lines(denied.err);
    ASSERT_EQ(lines.size(), 1u) << "one line\n" << denied.Show();
    EXPECT_NE(lines[0].find("environment"), std::string::npos)
        << "says where the credentials came from\n"
        << denied.Show();
    EXPECT_TRUE(lines[0].find("ecret") != std::string::npos ||
                lines[0].find("credential") != std::string::npos)
        << "names what to check\n"
        << denied.Show();
    Tick();
  }
  EXPECT_EQ(CachedArchives().size(), 2u) << "the backups must stay in the cache";
  EXPECT_TRUE(VaultListing().empty());
  nlohmann::json status = GbJson({"status"});
  ASSERT_TRUE(status.is_object());
  for (const auto& s : status["sets"]) EXPECT_EQ(s["state"], "complete, ready to upload");

  // With the right key everything goes up.
  tool_.SetEnv("AWS_SECRET_ACCESS_KEY", server_->secret_key());
  Tick();
  nlohmann::json synced = GbJson({"sync"});
  ASSERT_TRUE(synced.is_object());
  EXPECT_EQ(synced["uploaded"], nlohmann::json::array({"set 1", "set 2"})) << synced.dump(2);
  EXPECT_EQ(SetsIn(VaultListing()), (std::set<int64_t>{1, 2}));
  EXPECT_TRUE(CachedArchives().empty());
}

// verify --vault --sample while the retrieval is still running: exit 10 ("run it
// again later"), never "all good" about archives not checked; once the vault has
// the data, the same command checks it and says so.
TEST_P(CloudE2e, SampleVerifyWaitsForItsRetrieval) {
  ASSERT_NO_FATAL_FAILURE(
      Configure("max_incrementals = 1\ncompression_level = 1", "keep_local_sets = 0\n"));
  ASSERT_EQ(RunGenerations(2).size(), 2u);
  Tick();
  Result first = Gb({"verify", "--vault", "--sample", "1"});
  if (Glacier()) {
    EXPECT_EQ(first.code, kExitPending) << "Glacier retrievals take time\n" << first.Show();
  }
  Result last = first;
  for (int i = 0; i < 120 && last.code == kExitPending; ++i) {
    EXPECT_EQ(last.out.find("all good"), std::string::npos) << last.Show();
    EXPECT_NE(last.out.find("again"), std::string::npos) << last.Show();
    ::sleep(1);
    Tick();
    last = Gb({"verify", "--vault", "--sample", "1"});
  }
  EXPECT_EQ(last.code, 0) << last.Show();
  EXPECT_NE(last.out.find("1 archive(s) retrieved"), std::string::npos) << last.Show();
  EXPECT_NE(last.out.find("all good"), std::string::npos) << last.Show();
}

// restore --tier Expedited where the storage class has no Expedited tier: the plan
// says which tier it uses instead, and why.
TEST_P(CloudE2e, RestorePlanSaysWhenTheTierIsNotOffered) {
  ASSERT_NO_FATAL_FAILURE(
      Configure("max_incrementals = 1\ncompression_level = 1", "keep_local_sets = 0\n"));
  std::vector<std::string> ids = RunGenerations(2);
  ASSERT_EQ(ids.size(), 2u);
  Tick();
  Result plan =
      Gb({"restore", "--at", ids.front(), "--to", dir_ / "target", "--tier", "Expedited"});
  EXPECT_EQ(plan.code, 12) << "only the plan was printed\n" << plan.Show();
  EXPECT_NE(plan.out.find("nothing started"), std::string::npos) << plan.Show();
  if (Glacier()) {
    EXPECT_NE(plan.out.find("Expedited tier"), std::string::npos) << plan.Show();
  } else {
    EXPECT_NE(plan.out.find("DEEP_ARCHIVE offers no Expedited"), std::string::npos) << plan.Show();
    EXPECT_NE(plan.out.find("Standard tier"), std::string::npos) << plan.Show();
    // recover's plan says it as well (S3 lists at once; Glacier would first wait for
    // an inventory and plan nothing yet).
    ASSERT_NO_FATAL_FAILURE(LoseTheMachine());
    Result recover = Gb({"recover", "--tier", "Expedited"});
    EXPECT_NE(recover.out.find("note: DEEP_ARCHIVE offers no Expedited"), std::string::npos)
        << recover.Show();
    EXPECT_NE(recover.out.find("Standard tier"), std::string::npos) << recover.Show();
  }
}

// Someone with the vault's keys and the public recipient key (it is in every
// config) uploads a bundle whose catalog copy names its backup with an absolute
// path (tests/e2e/forge_bundle.py; forged_vault_test.cc does the same to a
// file:// vault). recover, restore --yes and sync refuse it and name the
// problem; nothing outside the tool's folders and the restore target changes.
TEST_P(CloudE2e, ForgedBundleIsRefusedAndWritesNothingOutside) {
  ASSERT_NO_FATAL_FAILURE(Configure("compression_level = 1", "keep_local_sets = 0\n"));
  const std::string victim = dir_ / "victim/precious.txt";
  WriteFile(victim, "precious\n", 0644);
  Result forged = Exec(
      {"env", "GBT_ENDPOINT=" + server_->endpoint(), "GBT_STORAGE_CLASS=DEEP_ARCHIVE",
       "AWS_ACCESS_KEY_ID=" + server_->access_key(),
       "AWS_SECRET_ACCESS_KEY=" + server_->secret_key(), "AWS_CONFIG_FILE=" + dir_ / "no-config",
       "AWS_SHARED_CREDENTIALS_FILE=" + dir_ / "no-credentials", "python3",
       std::string(GB_SOURCE_DIR) + "/tests/e2e/forge_bundle.py", Glacier() ? "glacier" : "s3",
       name_, tool_.recipient(), victim, "attacker bytes"});
  ASSERT_EQ(forged.code, 0) << forged.Show();
  auto expect_victim_untouched = [&](const std::string& after) {
    EXPECT_EQ(ReadFile(victim), "precious\n") << after << " changed a file outside its folders";
    EXPECT_EQ(ListDir(dir_ / "victim"), std::vector<std::string>{"precious.txt"})
        << after << " created a file beside the victim";
  };
  const std::vector<std::string> wait = {"--wait", "--poll-interval", "1", "--tier", FastTier()};
  auto with_wait = [&](std::vector<std::string> args) {
    args.insert(args.end(), wait.begin(), wait.end());
    return args;
  };

  // Two days later (Glacier's inventories lag) a new machine recovers. Signed by
  // nobody: refused.
  Tick(2 * kDay);
  Result r = Gb(with_wait({"recover", "--yes"}));
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE(r.err.find("not signed"), std::string::npos) << r.Show();
  expect_victim_untouched("recover");
  // Accepted unsigned (as from before signatures), the name itself is refused.
  Tick();
  r = Gb(with_wait({"recover", "--yes", "--allow-unsigned"}));
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE(r.err.find("not an archive name"), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find(victim), std::string::npos) << "names the forged name\n" << r.Show();
  expect_victim_untouched("recover --allow-unsigned");
  EXPECT_TRUE(SnapshotIds().empty()) << "the forged set reached the catalog";

  Tick();
  r = Gb(with_wait({"restore", "--yes", "--allow-unsigned", "--to", dir_ / "target"}));
  EXPECT_NE(r.code, 0) << r.Show();
  expect_victim_untouched("restore");

  // sync keeps no local sets: a forged archive name must not turn into an unlink.
  Tick();
  r = Gb({"sync", "--allow-unsigned"});
  expect_victim_untouched("sync");
  EXPECT_EQ(r.err.find(victim + ": removed"), std::string::npos) << r.Show();
  // The vault still holds the bundle: nothing of the tool's deleted it.
  EXPECT_EQ(VaultListing().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CloudE2e,
                         ::testing::Values(Backend::kGlacierMoto, Backend::kGlacierFaithful,
                                           Backend::kS3Moto),
                         [](const ::testing::TestParamInfo<Backend>& p) {
                           return BackendName(p.param);
                         });

}  // namespace
}  // namespace gbe2e
