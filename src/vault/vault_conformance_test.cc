// The conformance tests every backend runs; see vault_conformance_suite.h for
// how a backend instantiates them.
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/file.h"
#include "vault/vault_conformance_suite.h"

namespace gb::test {
namespace {

// Serves `data` but throws kIOError once `fail_at` bytes have been read.
class FailingSource : public RewindableSource {
 public:
  FailingSource(const Bytes& data, uint64_t fail_at) : data_(data), fail_at_(fail_at) {}
  size_t Read(std::span<uint8_t> buf) override {
    if (pos_ >= fail_at_) throw Error(Code::kIOError, "injected source failure");
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), fail_at_ - pos_));
    std::copy_n(data_.begin() + static_cast<ptrdiff_t>(pos_), n, buf.begin());
    pos_ += n;
    return n;
  }
  void Rewind() override { pos_ = 0; }
  uint64_t Size() const override { return data_.size(); }

 private:
  const Bytes& data_;
  uint64_t fail_at_, pos_ = 0;
};

const ArchiveInfo* FindArchive(const Inventory& inv, const std::string& id) {
  for (const auto& a : inv.archives) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

TEST_P(VaultConformanceTest, CreateIsIdempotentAndNewVaultIsEmpty) {
  EXPECT_NO_THROW(vault().Create());
  VaultInfo info = vault().Describe();
  EXPECT_FALSE(info.name.empty());
  if (caps().immediate_listing) {
    EXPECT_EQ(info.archive_count, 0u);
    EXPECT_EQ(info.size_bytes, 0u);
    EXPECT_TRUE(TakeInventory().archives.empty());
  }
}

TEST_P(VaultConformanceTest, UploadedBytesComeBackWithTheirTreeHash) {
  const uint64_t sizes[] = {0, 1, kMiB - 1, kMiB, kMiB + 1, 3 * kMiB + 17};
  std::set<std::string> ids;
  for (uint64_t size : sizes) {
    if (size < caps().min_archive_size) continue;
    SCOPED_TRACE("size " + std::to_string(size));
    Bytes data = RandomBytes(size, size + 1);
    UploadResult up = Upload(data, "size " + std::to_string(size));
    EXPECT_FALSE(up.archive_id.empty());
    EXPECT_TRUE(ids.insert(up.archive_id).second) << "archive id reused: " << up.archive_id;
    EXPECT_EQ(up.size, size);
    EXPECT_EQ(up.tree_hash, TreeHashHex(data));

    std::string job_id = vault().StartRetrieval(up.archive_id, Tier::kStandard, std::nullopt);
    JobInfo job = WaitForJob(job_id);
    ASSERT_EQ(job.status, JobStatus::kSucceeded) << job.status_message;
    EXPECT_EQ(job.id, job_id);
    EXPECT_EQ(job.kind, JobKind::kRetrieval);
    EXPECT_EQ(job.archive_id, up.archive_id);
    EXPECT_EQ(job.output_size.value_or(size), size);
    if (!job.output_tree_hash.empty()) {
      EXPECT_EQ(job.output_tree_hash, up.tree_hash);
    }
    BufferSink out;
    vault().ReadJobOutput(job_id, std::nullopt, out);
    EXPECT_FALSE(out.finished) << "ReadJobOutput must not call Finish()";
    EXPECT_TRUE(out.bytes == data) << "retrieved bytes differ";
  }
}

// The published Glacier vectors (tests/vectors/treehash): a hash computed by
// the same code on both sides would not catch a shared mistake.
TEST_P(VaultConformanceTest, TreeHashesMatchGlacierVectors) {
  std::ifstream in(std::string(GB_TESTDATA_DIR) + "/treehash/vectors.txt");
  ASSERT_TRUE(in) << "missing tree hash vectors in " << GB_TESTDATA_DIR;
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name, length, pattern, expected;
    std::getline(fields, name, '\t');
    std::getline(fields, length, '\t');
    std::getline(fields, pattern, '\t');
    std::getline(fields, expected, '\t');
    uint64_t size = std::stoull(length);
    if (size < caps().min_archive_size) continue;
    SCOPED_TRACE(name);
    UploadResult up = Upload(Bytes(size, static_cast<uint8_t>(pattern.at(0))), name);
    EXPECT_EQ(up.tree_hash, expected);
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

TEST_P(VaultConformanceTest, EmptyArchiveIsRefusedWhereNotSupported) {
  if (caps().min_archive_size == 0) GTEST_SKIP() << "backend stores empty archives";
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { Upload({}, "empty"); }));
}

TEST_P(VaultConformanceTest, UploadSendsTheWholeBodyEvenIfPartlyRead) {
  Bytes data = RandomBytes(2 * kMiB + 5, 7);
  SpanSource src(data);
  uint8_t skip[1000];
  src.Read(skip);  // a previous, failed attempt read this far
  UploadResult up = vault().Upload(src, "rewound");
  EXPECT_EQ(up.size, data.size());
  EXPECT_EQ(up.tree_hash, TreeHashHex(data));
  EXPECT_TRUE(Retrieve(up.archive_id) == data);
}

TEST_P(VaultConformanceTest, UploadWhoseSourceFailsStoresNothing) {
  Bytes kept = RandomBytes(1000, 3);
  UploadResult first = Upload(kept, "kept");
  uint64_t before = caps().immediate_listing ? vault().Describe().archive_count : 0;

  Bytes data = RandomBytes(3 * kMiB, 4);
  FailingSource src(data, kMiB + kMiB / 2);
  EXPECT_TRUE(ThrowsCode(Code::kIOError, [&] { vault().Upload(src, "doomed"); }))
      << "the source's own error must come out of Upload";

  if (caps().immediate_listing) {
    EXPECT_EQ(vault().Describe().archive_count, before);
    Inventory inv = TakeInventory();
    ASSERT_EQ(inv.archives.size(), 1u);
    EXPECT_EQ(inv.archives[0].id, first.archive_id);
  }
  EXPECT_TRUE(Retrieve(first.archive_id) == kept);
}

TEST_P(VaultConformanceTest, DescriptionsAreValidated) {
  Bytes data = RandomBytes(10, 5);
  std::string printable;
  for (char c = 0x20; c <= 0x7e; ++c) printable += c;
  std::string longest = printable;
  while (longest.size() < kMaxDescriptionLength) longest += 'x';

  const std::string bad[] = {std::string(kMaxDescriptionLength + 1, 'x'),
                             "line\nbreak",
                             "tab\there",
                             std::string("del\x7f"),
                             "caf\xc3\xa9",
                             std::string("nul\0byte", 8)};
  for (const auto& d : bad) {
    EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { Upload(data, d); })) << d;
  }
  UploadResult a = Upload(data, printable);
  UploadResult b = Upload(data, longest);
  UploadResult c = Upload(data, "");
  if (caps().immediate_listing) {
    Inventory inv = TakeInventory();
    ASSERT_EQ(inv.archives.size(), 3u) << "a refused upload was stored";
    ASSERT_TRUE(FindArchive(inv, a.archive_id));
    EXPECT_EQ(FindArchive(inv, a.archive_id)->description, printable);
    ASSERT_TRUE(FindArchive(inv, b.archive_id));
    EXPECT_EQ(FindArchive(inv, b.archive_id)->description, longest);
    ASSERT_TRUE(FindArchive(inv, c.archive_id));
    EXPECT_EQ(FindArchive(inv, c.archive_id)->description, "");
  }
}

TEST_P(VaultConformanceTest, InventoryListsUploadsWithDescriptions) {
  int64_t start = clock().NowSeconds();
  std::vector<std::pair<UploadResult, std::string>> uploads;
  for (int i = 0; i < 3; ++i) {
    std::string desc = "archive " + std::to_string(i) + " \"quoted\" \\ {json}";
    uploads.emplace_back(Upload(RandomBytes(100 + i, 10 + i), desc), desc);
  }
  std::string job_id = vault().StartInventory();
  JobInfo job = WaitForJob(job_id);
  ASSERT_EQ(job.status, JobStatus::kSucceeded) << job.status_message;
  EXPECT_EQ(job.kind, JobKind::kInventory);
  Bytes doc = ReadOutput(job_id);
  EXPECT_EQ(job.output_size.value_or(doc.size()), doc.size());
  Inventory inv =
      ParseInventory(std::string_view(reinterpret_cast<const char*>(doc.data()), doc.size()));
  if (!caps().immediate_listing) GTEST_SKIP() << "listing lags: only the format was checked";

  const int64_t kSkew = 15 * 60;
  EXPECT_GE(inv.date, start - kSkew);
  EXPECT_LE(inv.date, clock().NowSeconds() + kSkew);
  ASSERT_EQ(inv.archives.size(), uploads.size());
  for (const auto& [up, desc] : uploads) {
    const ArchiveInfo* a = FindArchive(inv, up.archive_id);
    ASSERT_TRUE(a) << "inventory lacks " << up.archive_id;
    EXPECT_EQ(a->description, desc);
    EXPECT_EQ(a->size, up.size);
    EXPECT_EQ(a->tree_hash, up.tree_hash);
    EXPECT_GE(a->created, start - kSkew);
    EXPECT_LE(a->created, clock().NowSeconds() + kSkew);
  }
  VaultInfo info = vault().Describe();
  EXPECT_EQ(info.archive_count, 3u);
  EXPECT_EQ(info.size_bytes, 100u + 101u + 102u);
}

TEST_P(VaultConformanceTest, MissingArchiveIsNotFound) {
  UploadResult up = Upload(RandomBytes(10, 6), "soon gone");
  vault().Delete(up.archive_id);
  try {
    std::string job_id = vault().StartRetrieval(up.archive_id, Tier::kStandard, std::nullopt);
    // Allowed only where listing lags: the job must then fail.
    EXPECT_FALSE(caps().immediate_listing) << "retrieval of a deleted archive started";
    EXPECT_EQ(WaitForJob(job_id).status, JobStatus::kFailed);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kNotFound) << e.what();
  }
}

TEST_P(VaultConformanceTest, MissingJobIsNotFound) {
  const std::string missing = "gb-conformance-no-such-job";
  EXPECT_TRUE(ThrowsCode(Code::kNotFound, [&] { vault().DescribeJob(missing); }));
  BufferSink out;
  EXPECT_TRUE(
      ThrowsCode(Code::kNotFound, [&] { vault().ReadJobOutput(missing, std::nullopt, out); }));
  EXPECT_TRUE(out.bytes.empty());
  for (const auto& j : vault().ListJobs()) EXPECT_NE(j.id, missing);
}

TEST_P(VaultConformanceTest, DeleteIsIdempotent) {
  Bytes kept = RandomBytes(300, 8);
  UploadResult a = Upload(RandomBytes(200, 9), "deleted");
  UploadResult b = Upload(kept, "kept");
  vault().Delete(a.archive_id);
  EXPECT_NO_THROW(vault().Delete(a.archive_id));
  EXPECT_NO_THROW(vault().Delete("gb-conformance-never-uploaded"));
  if (caps().immediate_listing) {
    Inventory inv = TakeInventory();
    ASSERT_EQ(inv.archives.size(), 1u);
    EXPECT_EQ(inv.archives[0].id, b.archive_id);
    EXPECT_EQ(vault().Describe().archive_count, 1u);
  }
  EXPECT_TRUE(Retrieve(b.archive_id) == kept);
}

TEST_P(VaultConformanceTest, JobsMoveFromInProgressToSucceeded) {
  UploadResult up = Upload(RandomBytes(5000, 11), "job");
  int64_t start = clock().NowSeconds();
  std::string job_id = vault().StartRetrieval(up.archive_id, Tier::kBulk, std::nullopt);
  JobInfo first = vault().DescribeJob(job_id);
  EXPECT_EQ(first.id, job_id);
  EXPECT_EQ(first.kind, JobKind::kRetrieval);
  EXPECT_EQ(first.archive_id, up.archive_id);
  EXPECT_EQ(first.tier, Tier::kBulk);
  EXPECT_FALSE(first.range);
  EXPECT_NE(first.status, JobStatus::kFailed) << first.status_message;
  EXPECT_GE(first.created, start - 15 * 60);
  if (first.status == JobStatus::kInProgress) {
    EXPECT_FALSE(first.completed);
    BufferSink out;
    EXPECT_THROW(vault().ReadJobOutput(job_id, std::nullopt, out), JobNotReadyError);
  } else {
    EXPECT_FALSE(caps().jobs_lag) << "a lagging backend finished a job at once";
  }
  JobInfo done = WaitForJob(job_id);
  EXPECT_EQ(done.status, JobStatus::kSucceeded) << done.status_message;
  ASSERT_TRUE(done.completed);
  EXPECT_GE(*done.completed, done.created);
  EXPECT_EQ(done.output_size, 5000u);

  bool listed = false;
  for (const auto& j : vault().ListJobs()) {
    if (j.id != job_id) continue;
    listed = true;
    EXPECT_EQ(j.status, JobStatus::kSucceeded);
    EXPECT_EQ(j.archive_id, up.archive_id);
  }
  EXPECT_TRUE(listed) << "ListJobs lacks " << job_id;
}

TEST_P(VaultConformanceTest, RetrievalRangesReturnExactlyTheRange) {
  Bytes data = RandomBytes(3 * kMiB + 1000, 12);
  UploadResult up = Upload(data, "ranged");
  auto slice = [&](const ByteRange& r) {
    uint64_t end = r.length == ByteRange::kToEnd ? data.size() : r.offset + r.length;
    return Bytes(data.begin() + static_cast<ptrdiff_t>(r.offset),
                 data.begin() + static_cast<ptrdiff_t>(end));
  };
  std::vector<ByteRange> ranges = {{kMiB, kMiB}, {2 * kMiB, ByteRange::kToEnd}, {0, kMiB}};
  if (caps().retrieval_range_alignment == 1) {
    ranges.push_back({12345, 777});
    ranges.push_back({data.size() - 1, 1});
  }
  for (const ByteRange& r : ranges) {
    SCOPED_TRACE("range " + FormatRange(r));
    std::string job_id = vault().StartRetrieval(up.archive_id, Tier::kStandard, r);
    Bytes got = ReadOutput(job_id);
    Bytes want = slice(r);
    EXPECT_TRUE(got == want) << "got " << got.size() << " bytes, want " << want.size();
    JobInfo job = vault().DescribeJob(job_id);
    EXPECT_EQ(job.range, std::optional<ByteRange>(r));
    EXPECT_EQ(job.output_size.value_or(want.size()), want.size());
    if (!job.output_tree_hash.empty()) {
      EXPECT_EQ(job.output_tree_hash, TreeHashHex(want));
    }
  }
  if (caps().retrieval_range_alignment > 1) {
    EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] {
      vault().StartRetrieval(up.archive_id, Tier::kStandard, ByteRange{12345, 777});
    }));
  }
  EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] {
    vault().StartRetrieval(up.archive_id, Tier::kStandard, ByteRange{4 * kMiB, ByteRange::kToEnd});
  }));
}

TEST_P(VaultConformanceTest, OutputRangesReturnExactlyTheRange) {
  Bytes data = RandomBytes(2 * kMiB + 333, 13);
  UploadResult up = Upload(data, "output ranges");
  std::string job_id = vault().StartRetrieval(up.archive_id, Tier::kExpedited, std::nullopt);
  ASSERT_TRUE(ReadOutput(job_id) == data);
  const uint64_t n = data.size();
  const ByteRange good[] = {
      {0, 1}, {n - 1, 1}, {kMiB - 3, 6}, {100, ByteRange::kToEnd}, {0, n}, {n, ByteRange::kToEnd}};
  for (const ByteRange& r : good) {
    SCOPED_TRACE("range " + FormatRange(r));
    BufferSink out;
    vault().ReadJobOutput(job_id, r, out);
    uint64_t end = r.length == ByteRange::kToEnd ? n : r.offset + r.length;
    EXPECT_TRUE(out.bytes == Bytes(data.begin() + static_cast<ptrdiff_t>(r.offset),
                                   data.begin() + static_cast<ptrdiff_t>(end)));
  }
  const ByteRange bad[] = {{n - 1, 2}, {n + 1, ByteRange::kToEnd}, {5, 0}};
  for (const ByteRange& r : bad) {
    BufferSink out;
    EXPECT_TRUE(ThrowsCode(Code::kInvalidArgument, [&] { vault().ReadJobOutput(job_id, r, out); }))
        << FormatRange(r);
  }
}

TEST_P(VaultConformanceTest, ConcurrentUploadsAreAllStored) {
  constexpr int kThreads = 4, kEach = 3;
  std::vector<Bytes> data;
  for (int i = 0; i < kThreads * kEach; ++i) data.push_back(RandomBytes(64 * 1024 + i, 100 + i));
  std::vector<UploadResult> results(data.size());
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int k = 0; k < kEach; ++k) {
          size_t i = static_cast<size_t>(t * kEach + k);
          SpanSource src(data[i]);
          results[i] = vault().Upload(src, "concurrent " + std::to_string(i));
        }
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(t)] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& e : errors) ASSERT_EQ(e, "");
  std::set<std::string> ids;
  for (const auto& r : results) ids.insert(r.archive_id);
  EXPECT_EQ(ids.size(), data.size());
  if (caps().immediate_listing) {
    EXPECT_EQ(TakeInventory().archives.size(), data.size());
  }
  EXPECT_TRUE(Retrieve(results[0].archive_id) == data[0]);
  EXPECT_TRUE(Retrieve(results.back().archive_id) == data.back());
}

}  // namespace
}  // namespace gb::test
