// Hosts sharing one bucket (s3_namespace.h) and the fleet lease
// (s3_fleet_lease.h), against moto_server with every signature checked.
#include <gtest/gtest.h>

#include <memory>

#include "vault/s3_fleet_lease.h"
#include "vault/s3_vault.h"
#include "vault/test_server.h"
#include "vault/vault_test_doubles.h"

namespace gb::test {
namespace {

using gb::testing::TestServer;

TestServer& Moto() {
  static std::unique_ptr<TestServer> moto = std::make_unique<TestServer>("moto_harness.py");
  return *moto;
}

std::string FreshBucket(const std::string& name) {
  static int counter = 0;
  return "gb-fleet-" + std::to_string(++counter) + "-" + name;
}

S3ClientOptions MotoClient(const std::string& bucket) {
  TestServer& moto = Moto();
  S3ClientOptions c;
  c.bucket = bucket;
  c.region = "us-east-1";
  c.endpoint = moto.endpoint();
  c.settings = [key = moto.access_key(), secret = moto.secret_key()] {
    AwsSettings s;
    s.credentials = {key, secret, ""};
    s.source = "the test harness";
    return s;
  };
  return c;
}

std::unique_ptr<S3Vault> HostVault(const std::string& bucket, const std::string& host,
                                   bool fleet = false) {
  return std::make_unique<S3Vault>(
      MotoClient(bucket),
      S3VaultOptions{
          .prefix = "team", .host = host, .list_fleet = fleet, .storage_class = "STANDARD"},
      SystemClock());
}

std::string Put(Vault& v, const std::string& data, const std::string& description) {
  SpanSource src(AsBytes(data));
  return v.Upload(src, description).archive_id;
}

std::map<std::string, std::string> Listing(Vault& v) {
  BufferSink out;
  v.ReadJobOutput(v.StartInventory(), std::nullopt, out);
  std::map<std::string, std::string> ids;
  for (const ArchiveInfo& a :
       ParseInventory(std::string(out.bytes.begin(), out.bytes.end())).archives)
    ids[a.id] = a.description;
  return ids;
}

bool Exists(S3Vault& v, const std::string& key) {
  return v.client().Send(S3Request{.method = "HEAD", .key = key}).status == 200;
}

// Each host writes and lists its own folder; archives stored directly under the
// prefix (before hosts had folders) show in every host's listing, the fleet
// listing shows everything of ours, and nothing else under the prefix counts.
TEST(S3FleetTest, EachHostWritesAndListsItsOwnFolder) {
  const std::string bucket = FreshBucket("folders");
  auto a = HostVault(bucket, "alpha");
  auto b = HostVault(bucket, "b.example");  // a dot, as host names may have
  auto legacy = HostVault(bucket, "");
  auto fleet = HostVault(bucket, "alpha", /*fleet=*/true);
  a->Create();
  std::string ia = Put(*a, "alpha's", "from alpha");
  std::string ib = Put(*b, "b's", "from b");
  std::string il = Put(*legacy, "older", "from before folders");
  EXPECT_EQ(ia.substr(0, 6), "alpha/");
  EXPECT_EQ(ib.substr(0, 10), "b.example/");
  EXPECT_EQ(il.size(), 32u);
  EXPECT_TRUE(Exists(*a, "team/" + ia));
  EXPECT_TRUE(Exists(*a, "team/" + il));
  for (const std::string& key :
       {std::string("team/notes.txt"), std::string("team/alpha/notes.txt"), "team/x/y/" + il}) {
    SpanSource empty(std::span<const uint8_t>{});
    ASSERT_EQ(a->client().Send(S3Request{.method = "PUT", .key = key, .body = &empty}).status, 200);
  }

  EXPECT_EQ(Listing(*a),
            (std::map<std::string, std::string>{{ia, "from alpha"}, {il, "from before folders"}}));
  EXPECT_EQ(Listing(*b),
            (std::map<std::string, std::string>{{ib, "from b"}, {il, "from before folders"}}));
  EXPECT_EQ(Listing(*fleet), (std::map<std::string, std::string>{
                                 {ia, "from alpha"}, {ib, "from b"}, {il, "from before folders"}}));
  EXPECT_EQ(a->Describe().archive_count, 2u);
  EXPECT_EQ(fleet->Describe().archive_count, 3u);

  // A host never deletes another host's archive, whatever it is asked.
  try {
    a->Delete(ib);
    ADD_FAILURE() << "alpha deleted b's archive";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("belongs to host b.example"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(Exists(*a, "team/" + ib));
  a->Delete(ia);
  EXPECT_FALSE(Exists(*a, "team/" + ia));

  // Any host reads another's archive (a job id with a dotted host folder).
  std::string job = fleet->StartRetrieval(ib, Tier::kStandard, std::nullopt);
  EXPECT_EQ(fleet->DescribeJob(job).archive_id, ib);
  BufferSink out;
  fleet->ReadJobOutput(job, std::nullopt, out);
  EXPECT_EQ(std::string(out.bytes.begin(), out.bytes.end()), "b's");
}

std::unique_ptr<S3FleetLease> Lease(const std::string& bucket, const std::string& host,
                                    Clock& clock, int wait_seconds = 30) {
  return std::make_unique<S3FleetLease>(MotoClient(bucket), "team/.fleet-lease",
                                        FleetLeaseOptions{.host = host,
                                                          .run_id = host + "-run",
                                                          .pid = 42,
                                                          .lease_seconds = 600,
                                                          .wait_seconds = wait_seconds,
                                                          .poll_millis = 5000},
                                        clock);
}

std::optional<FleetLeaseHolder> Holder(S3Vault& v) {
  BufferSink out;
  HttpResponse r = v.client().Send(S3Request{.key = "team/.fleet-lease"}, &out);
  if (r.status == 404) return std::nullopt;
  EXPECT_EQ(r.status, 200);
  return S3FleetLease::ParseHolder(std::string(out.bytes.begin(), out.bytes.end()));
}

// One holder at a time; a waiting host gives up after its wait naming the holder,
// and gets the lease once it is released.
TEST(S3FleetTest, LeaseHasOneHolderAtATime) {
  const std::string bucket = FreshBucket("lease");
  auto v = HostVault(bucket, "alpha");
  v->Create();
  FakeClock clock;
  auto a = Lease(bucket, "alpha", clock);
  auto b = Lease(bucket, "beta", clock, /*wait_seconds=*/30);
  a->Acquire();
  std::optional<FleetLeaseHolder> h = Holder(*v);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->host, "alpha");
  EXPECT_EQ(h->run_id, "alpha-run");
  EXPECT_EQ(h->expires, clock.NowSeconds() + 600);

  int64_t before = clock.NowSeconds();
  try {
    b->Acquire();
    ADD_FAILURE() << "beta took a live lease";
  } catch (const FleetLeaseBusyError& e) {
    EXPECT_EQ(e.code(), Code::kLocked);
    EXPECT_EQ(e.holder().host, "alpha");
    EXPECT_NE(std::string(e.what()).find("held by host alpha"), std::string::npos) << e.what();
  }
  EXPECT_EQ(clock.NowSeconds() - before, 30) << "waited exactly wait_seconds";

  a->Renew();
  EXPECT_EQ(Holder(*v)->expires, clock.NowSeconds() + 600);
  a->Release();
  EXPECT_FALSE(Holder(*v));
  b->Acquire();
  EXPECT_EQ(Holder(*v)->host, "beta");
}

// A holder that died leaves its lease behind: the next host waits for its
// expiry (no longer), then takes it over; the dead run's late release or renewal
// cannot take it back.
TEST(S3FleetTest, ExpiredLeaseIsTakenOverAtItsExpiry) {
  const std::string bucket = FreshBucket("expiry");
  auto v = HostVault(bucket, "alpha");
  v->Create();
  FakeClock clock;
  auto dead = Lease(bucket, "alpha", clock);
  dead->Acquire();
  const int64_t expiry = Holder(*v)->expires;
  clock.AdvanceSeconds(590);
  auto b = Lease(bucket, "beta", clock, /*wait_seconds=*/700);
  b->Acquire();
  EXPECT_GE(clock.NowSeconds(), expiry);
  EXPECT_LE(clock.NowSeconds(), expiry + 5) << "waited no longer than the expiry and one poll";
  EXPECT_EQ(Holder(*v)->host, "beta");

  EXPECT_THROW(dead->Renew(), FleetLeaseBusyError);
  dead->Release();
  EXPECT_EQ(Holder(*v)->host, "beta") << "a lost lease's release leaves the new holder's alone";

  // Once it expires again, the first host to look takes it over; the next finds
  // it live.
  clock.AdvanceSeconds(601);
  auto c = Lease(bucket, "gamma", clock, 0);
  auto d = Lease(bucket, "delta", clock, 0);
  int taken = 0;
  for (auto* l : {c.get(), d.get()}) {
    try {
      l->Acquire();
      ++taken;
    } catch (const FleetLeaseBusyError&) {
    }
  }
  EXPECT_EQ(taken, 1);
}

}  // namespace
}  // namespace gb::test
