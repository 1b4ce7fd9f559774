// Six generations of a tree that changes in every way a user's files do,
// each backed up, then every generation restored and compared with a copy of
// the tree taken at the time: bytes, modes, owners, nanosecond mtimes,
// symlink targets, hard links, empty directories, a 4.5 GiB sparse file.
#include <set>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

constexpr uint64_t kGiB = 1ULL << 30;
constexpr uint64_t kMiB = 1ULL << 20;
constexpr uint64_t kSparseSize = 4 * kGiB + kGiB / 2;

struct Variant {
  const char* name;
  int max_incrementals;  // < 0: the default
  int full_at;           // the generation backed up with --full
  bool sparse;           // include the 4.5 GiB sparse file
  // Expected (set, kind) of generations 1..6.
  std::vector<std::pair<int, const char*>> sets;
};

// The tree and its six generations of changes.
class GenerationsBase : public ::testing::Test {
 public:
  std::string S(const std::string& rel = "") const { return rel.empty() ? src_ : src_ + "/" + rel; }

  // A 255-byte file name and a path over 1000 bytes.
  static std::string LongName() { return std::string(251, 'L') + ".txt"; }
  static std::string DeepDir() {
    std::string p = "deep";
    for (int i = 0; i < 9; ++i) p += "/" + std::to_string(i) + std::string(119, 'd');
    return p;
  }

  void Generation1() {
    WriteFile(S("docs/readme.txt"), "hello\n", 0644, 1500000000, 123456789);
    WriteFile(S("docs/report.txt"), Random(200000, 1), 0644, 1500000001, 1);
    WriteFile(S("docs/script.sh"), "#!/bin/sh\necho hi\n", 0755, 1500000002, 999999999);
    WriteFile(S("private/secret.txt"), "s3cret\n", 0600);
    ::chmod(S("private").c_str(), 0700);
    WriteFile(S("caf\u00e9/\u65e5\u672c\u8a9e.txt"), "unicode\n");
    WriteFile(S("emoji \U0001F600\U0001F389/party \U0001F388.txt"), "party\n");
    ASSERT_EQ(LongName().size(), 255u);
    ASSERT_GT(DeepDir().size() + std::string("/leaf.txt").size(), 1000u);
    WriteFile(S("long/" + LongName()), "long name\n");
    WriteFile(S(DeepDir() + "/leaf.txt"), "deep leaf\n");
    WriteFile(S("links/h1"), Random(10000, 2));
    HardLink(S("links/h1"), S("links2/h2"));
    Symlink("../docs/readme.txt", S("sym/to-readme"));
    Symlink("/nonexistent/absolute/target", S("sym/absolute"));
    Symlink("../docs", S("sym/dirlink"));
    SetMtime(S("sym/to-readme"), 1400000000, 42);
    MakeDirs(S("empty"));
    MakeDirs(S("empty-nested/a/b"));
    WriteFile(S("ro-dir/inside.txt"), "read-only dir\n");
    ::chmod(S("ro-dir").c_str(), 0555);
    WriteFile(S("old-name.txt"), "I will move\n", 0640, 1450000000, 5);
    WriteFile(S("to-delete.txt"), "delete me\n");
    WriteFile(S("del-dir/x.txt"), "x\n");
    WriteFile(S("del-dir/sub/y.txt"), "y\n");
    WriteFile(S("type-change"), "a file that becomes a directory\n");
    MakeDirs(S("dir-to-file"));
    WriteFile(S("dir-to-file/child"), "child\n");
    Symlink("docs", S("link-to-file"));
    WriteFile(S("modes/setuid"), "#!/bin/sh\n", 04755);
    WriteFile(S("modes/none"), "mode 0000\n", 0);
    MakeDirs(S("modes/sticky"), 01777);
    WriteFile(S("times/pre-epoch"), "1969\n", 0644, -2, 750000000);  // 1969-12-31T23:59:58.75
    WriteFile(S("times/y2040"), "2040\n", 0644, 2222222222, 1);
  }

  void Generation2() {
    AppendFile(S("docs/readme.txt"), "edited in generation 2\n");
    WriteFile(S("docs/new.txt"), "new in generation 2\n");
    ASSERT_EQ(::unlink(S("to-delete.txt").c_str()), 0);
    MakeDirs(S("moved"));
    ASSERT_EQ(::rename(S("old-name.txt").c_str(), S("moved/new-name.txt").c_str()), 0);
    ::chmod(S("docs/script.sh").c_str(), 0700);             // permission only
    SetMtime(S("docs/report.txt"), 1600000000, 987654321);  // mtime only
    MakeDirs(S("empty2"));
    WriteFile(S("emoji \U0001F600\U0001F389/\U0001F680 rocket.txt"), "rocket\n");
    if (odd_names_) {
      WriteFile(S("odd/latin1-\xe9.txt"), "a name that is not UTF-8\n");
      WriteFile(S("odd/new\nline.txt"), "a newline in the name\n");
      WriteFile(S("odd/back\\slash \"quoted\" *?.txt"), "shell characters\n");
    }
  }

  void Generation3() {
    ASSERT_EQ(::unlink(S("sym/to-readme").c_str()), 0);  // retargeted
    Symlink("../docs/new.txt", S("sym/to-readme"));
    SetMtime(S("sym/to-readme"), 1410000000, 424242);
    HardLink(S("links/h1"), S("links3/h3"));
    Exec({"rm", "-rf", S("del-dir")});
    AppendFile(S(DeepDir() + "/leaf.txt"), "edited deep\n");
    ASSERT_EQ(::rename(S("caf\u00e9").c_str(), S("caf\u00e9-renamed").c_str()), 0);
    SetMtime(S("empty"), 1300000000, 7);  // a directory's mtime only
    // The sparse file lives in generations 3 (an incremental), 4 (a full) and 5
    // (edited): each of its restores hashes 4.5 GiB, so not in all six.
    if (sparse_) {
      WriteFile(S("sparse/big.sparse"), "");
      ASSERT_EQ(::truncate(S("sparse/big.sparse").c_str(), kSparseSize), 0);
      WriteAt(S("sparse/big.sparse"), 0, Random(kMiB, 10));
      WriteAt(S("sparse/big.sparse"), kGiB + 4097, Random(3 * kMiB, 11));
      WriteAt(S("sparse/big.sparse"), 4 * kGiB - kMiB / 2, Random(kMiB, 12));  // across 4 GiB
      WriteAt(S("sparse/big.sparse"), kSparseSize - 100, Random(100, 13));
    }
  }

  void Generation4() {
    ::chmod(S("private/secret.txt").c_str(), 0640);
    WriteFile(S("empty/no-longer-empty.txt"), "filled\n");
    WriteFile(S("long/" + LongName()), "long name, rewritten\n");
    ::chmod(S("ro-dir").c_str(), 0750);
    WriteFile(S("ro-dir/second.txt"), "now writable\n");
  }

  void Generation5() {
    ASSERT_EQ(::unlink(S("links/h1").c_str()), 0);  // the link group's first name goes
    ASSERT_EQ(::rename(S("docs/new.txt").c_str(), S("docs/renamed.txt").c_str()), 0);
    ASSERT_EQ(::unlink(S("type-change").c_str()), 0);
    WriteFile(S("type-change/now-a-dir.txt"), "was a file\n");
    Exec({"rm", "-rf", S("dir-to-file")});
    WriteFile(S("dir-to-file"), "was a directory\n");
    ASSERT_EQ(::unlink(S("link-to-file").c_str()), 0);
    WriteFile(S("link-to-file"), "was a symlink\n");
    if (sparse_) WriteAt(S("sparse/big.sparse"), 2 * kGiB + 5, Random(kMiB, 14));
  }

  void Generation6() {
    AppendFile(S("docs/readme.txt"), "edited in generation 6\n");
    ASSERT_EQ(::rmdir(S("empty2").c_str()), 0);
    std::string name;  // 255 bytes of 2-byte characters and one 'x'
    for (int i = 0; i < 127; ++i) name += "\u00e9";
    WriteFile(S("long/" + name + "x"), "unicode long name\n");
    WriteFile(S("links2/h2"), "rewritten through one link\n");  // h3 sees it too
    if (sparse_) Exec({"rm", "-rf", S("sparse")});
  }

  void SetUp() override {
    src_ = dir_ / "src";
    MakeDirs(src_);
  }

  TempDir dir_;
  std::string src_;
  bool sparse_ = false;
  bool odd_names_ = true;  // names that are not UTF-8 (`ls --json` is tested on them apart)
};

class GenerationsTest : public GenerationsBase, public ::testing::WithParamInterface<Variant> {
 public:
  void SetUp() override {
    GenerationsBase::SetUp();
    sparse_ = GetParam().sparse;
  }
};

class LsGenerationsTest : public GenerationsBase {
 public:
  LsGenerationsTest() { odd_names_ = false; }
};

TEST_P(GenerationsTest, EveryGenerationRestoresExactly) {
  const Variant& v = GetParam();
  Tool tool(dir_ / "gb");
  MakeDirs(tool.dir());
  ASSERT_NO_FATAL_FAILURE(tool.Init(
      {src_},
      v.max_incrementals >= 0 ? "max_incrementals = " + std::to_string(v.max_incrementals) : ""));

  std::vector<void (GenerationsBase::*)()> gens = {
      &GenerationsBase::Generation1, &GenerationsBase::Generation2, &GenerationsBase::Generation3,
      &GenerationsBase::Generation4, &GenerationsBase::Generation5, &GenerationsBase::Generation6};
  std::vector<std::string> ids;
  for (size_t g = 1; g <= gens.size(); ++g) {
    SCOPED_TRACE("generation " + std::to_string(g));
    ASSERT_NO_FATAL_FAILURE((this->*gens[g - 1])());
    ASSERT_NO_FATAL_FAILURE(CopyTree(src_, dir_ / ("snap" + std::to_string(g))));
    std::vector<std::string> args = {"backup"};
    if (static_cast<int>(g) == v.full_at) args.push_back("--full");
    nlohmann::json b = tool.Json(args);
    ASSERT_TRUE(b.is_object());
    EXPECT_EQ(b["skipped"], 0);
    EXPECT_EQ(b["set"], v.sets[g - 1].first);
    EXPECT_EQ(b["kind"], v.sets[g - 1].second);
    ids.push_back(b["id"].get<std::string>());
  }

  nlohmann::json snaps = tool.Snapshots();
  ASSERT_EQ(snaps.size(), gens.size());
  for (size_t g = 0; g < gens.size(); ++g) EXPECT_EQ(snaps[g]["id"], ids[g]);

  for (size_t g = 1; g <= gens.size(); ++g) {
    SCOPED_TRACE("restoring generation " + std::to_string(g) + " (" + ids[g - 1] + ")");
    std::string target = dir_ / ("restore" + std::to_string(g));
    Result r = tool.Run({"restore", "--at", ids[g - 1], "--to", target});
    ASSERT_EQ(r.code, 0) << r.Show();
    std::vector<std::string> diffs =
        CompareTrees(dir_ / ("snap" + std::to_string(g)), Restored(target, src_));
    EXPECT_TRUE(diffs.empty()) << JoinLines(diffs);
    if (v.sparse && g >= 3 && g <= 5) {
      struct stat st;
      ASSERT_EQ(::lstat(Restored(target, S("sparse/big.sparse")).c_str(), &st), 0);
      EXPECT_EQ(static_cast<uint64_t>(st.st_size), kSparseSize);
      EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 64 * kMiB)
          << "the restored sparse file is not sparse";
    }
    Exec({"rm", "-rf", target});  // keep the disk footprint of one restore
  }
}

// What `ls --at` shows: deleted files absent, renamed files under the new name only.
TEST_F(LsGenerationsTest, ShowsEachGenerationsNames) {
  Tool tool(dir_ / "gb");
  MakeDirs(tool.dir());
  ASSERT_NO_FATAL_FAILURE(tool.Init({src_}));
  std::vector<void (GenerationsBase::*)()> gens = {
      &GenerationsBase::Generation1, &GenerationsBase::Generation2, &GenerationsBase::Generation3,
      &GenerationsBase::Generation4, &GenerationsBase::Generation5};
  std::vector<std::set<std::string>> listed;
  std::vector<std::map<std::string, std::string>> types;
  for (auto gen : gens) {
    ASSERT_NO_FATAL_FAILURE((this->*gen)());
    nlohmann::json b = tool.Json({"backup"});
    ASSERT_TRUE(b.is_object());
    nlohmann::json ls = tool.Json({"ls", "--at", b["id"].get<std::string>()});
    ASSERT_TRUE(ls.is_array());
    std::set<std::string> paths;
    std::map<std::string, std::string> t;
    for (const auto& e : ls) {
      paths.insert(e["path"].get<std::string>());
      t[e["path"].get<std::string>()] = e["type"].get<std::string>();
    }
    listed.push_back(paths);
    types.push_back(t);
  }
  auto has = [&](size_t g, const std::string& rel) { return listed[g - 1].count(S(rel)) > 0; };
  EXPECT_TRUE(has(1, "old-name.txt"));
  EXPECT_FALSE(has(1, "moved/new-name.txt"));
  EXPECT_TRUE(has(1, "to-delete.txt"));
  EXPECT_TRUE(has(1, "long/" + LongName()));
  EXPECT_TRUE(has(1, DeepDir() + "/leaf.txt"));
  EXPECT_TRUE(has(1, "caf\u00e9/\u65e5\u672c\u8a9e.txt"));
  EXPECT_TRUE(has(1, "empty"));
  EXPECT_FALSE(has(2, "old-name.txt"));
  EXPECT_TRUE(has(2, "moved/new-name.txt"));
  EXPECT_FALSE(has(2, "to-delete.txt"));
  EXPECT_TRUE(has(2, "del-dir/sub/y.txt"));
  EXPECT_FALSE(has(3, "del-dir"));
  EXPECT_FALSE(has(3, "del-dir/sub/y.txt"));
  EXPECT_FALSE(has(3, "caf\u00e9/\u65e5\u672c\u8a9e.txt"));
  EXPECT_TRUE(has(3, "caf\u00e9-renamed/\u65e5\u672c\u8a9e.txt"));
  EXPECT_TRUE(has(3, "moved/new-name.txt"));
  EXPECT_TRUE(has(4, "caf\u00e9-renamed/\u65e5\u672c\u8a9e.txt"));
  EXPECT_FALSE(has(4, "caf\u00e9/\u65e5\u672c\u8a9e.txt"));
  EXPECT_FALSE(has(5, "docs/new.txt"));
  EXPECT_TRUE(has(5, "docs/renamed.txt"));
  EXPECT_FALSE(has(5, "links/h1"));
  EXPECT_EQ(types[3][S("type-change")], "file");
  EXPECT_EQ(types[4][S("type-change")], "dir");
  EXPECT_EQ(types[4][S("dir-to-file")], "file");
  EXPECT_FALSE(has(5, "dir-to-file/child"));
  for (size_t g = 1; g <= listed.size(); ++g)
    for (const auto& p : listed[g - 1])
      EXPECT_EQ(p.find("/.glacier-backup"), std::string::npos) << p;
}

INSTANTIATE_TEST_SUITE_P(
    Sets, GenerationsTest,
    ::testing::Values(
        // Default max_incrementals: one set until --full starts another at generation 4.
        Variant{"DefaultSetsFullAt4WithSparse",
                -1,
                4,
                true,
                {{1, "full"},
                 {1, "incremental"},
                 {1, "incremental"},
                 {2, "full"},
                 {2, "incremental"},
                 {2, "incremental"}}},
        // max_incrementals = 2: generation 4 starts a set by itself, --full another at 5.
        Variant{"TwoIncrementalsFullAt5",
                2,
                5,
                false,
                {{1, "full"},
                 {1, "incremental"},
                 {1, "incremental"},
                 {2, "full"},
                 {3, "full"},
                 {3, "incremental"}}}),
    [](const ::testing::TestParamInfo<Variant>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gbe2e
