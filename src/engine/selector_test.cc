#include "engine/selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace gb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Case {
  const char* path;
  bool excluded;
};

// Checks every case against a selector built from `patterns` alone.
void ExpectExcluded(const std::vector<std::string>& patterns, const std::vector<Case>& cases) {
  Selector selector({}, patterns);
  for (const Case& c : cases) {
    EXPECT_EQ(selector.Excluded(c.path), c.excluded)
        << "patterns {" << testing::PrintToString(patterns) << "} path " << c.path;
  }
}

TEST(GlobMatchTest, Table) {
  struct GlobCase {
    const char* glob;
    const char* name;
    bool match;
  };
  const GlobCase cases[] = {
      {"*", "", true},
      {"*", "abc", true},
      {"a*c", "abc", true},
      {"a*c", "ac", true},
      {"a*c", "abd", false},
      {"*a*b", "xaab", true},
      {"*a*b", "xaba", false},
      {"?", "", false},
      {"?", "x", true},
      {"??", "x", false},
      {"[a-c]x", "bx", true},
      {"[a-c]x", "dx", false},
      {"[!a-c]x", "dx", true},
      {"[^a-c]x", "ax", false},
      {"[]]", "]", true},
      {"[!]]", "a", true},
      {"[!]]", "]", false},
      {"a[", "a[", true},
      {"a[b", "a[b", true},
      {"\\?", "?", true},
      {"\\?", "a", false},
      {"\\*x", "*x", true},
      {"\\*x", "ax", false},
      {"[\\]]", "]", true},
      {"**", "x", true},
      {"*.tar.gz", "a.tar.gz", true},
      {"*.tar.gz", "a.tar.bz", false},
      {"cache-?", "cache-1", true},
      {"cache-?", "cache-12", false},
      {"[ab]*.log", "b-x.log", true},
      {"[ab]*.log", "c.log", false},
      {"*x*y*z*", "__x__y__z__", true},
      {"*x*y*z*", "__x__z__y__", false},
      {"[a-]", "-", true},
  };
  for (const GlobCase& c : cases) {
    EXPECT_EQ(GlobMatch(c.glob, c.name), c.match) << c.glob << " vs " << c.name;
  }
}

TEST(NormalizePathTest, Table) {
  const std::pair<const char*, const char*> cases[] = {
      {"/", "/"},        {"//", "/"},        {"/a/b/", "/a/b"},
      {"/a//b", "/a/b"}, {"/a/./b", "/a/b"}, {"/a/b/..", "/a"},
      {"/a/../..", "/"}, {"/..", "/"},       {"/a/b/../c", "/a/c"},
      {"a/b", "a/b"},    {"a/..", "."},      {"../a", "../a"},
      {"", "."},         {"./a/", "a"},      {"/a/.hidden", "/a/.hidden"},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(NormalizePath(in), out) << in;
}

TEST(SelectorTest, SuffixPatternMatchesFileAndDirectoryNames) {
  ExpectExcluded({"*.tmp"}, {
                                {"/a/b.tmp", true},
                                {"/a/dir.tmp", true},
                                {"/a/.tmp", true},
                                {"/b.tmp", true},
                                {"/a/b.tmpx", false},
                                {"/a/btmp", false},
                                {"/a/b.TMP", false},
                                {"/a.tmp/b", false},  // only the entry itself; walkers prune
                            });
  // The original tool's trick: a "suffix" that is a whole file name.
  ExpectExcluded({"*exclude.this.file.txt"}, {
                                                 {"/d/exclude.this.file.txt", true},
                                                 {"/d/please-exclude.this.file.txt", true},
                                                 {"/d/exclude.this.file.txt.bak", false},
                                             });
}

TEST(SelectorTest, BareNameMatchesAnywhere) {
  ExpectExcluded({".git", "node_modules"}, {
                                               {"/r/.git", true},
                                               {"/r/deep/er/.git", true},
                                               {"/.git", true},
                                               {"/r/node_modules", true},
                                               {"/r/.gitignore", false},
                                               {"/r/a.git", false},
                                               {"/r/git", false},
                                               {"/r/.git2", false},
                                           });
  // A trailing slash is ignored.
  ExpectExcluded({"build/"}, {{"/p/build", true}, {"/p/builds", false}});
}

TEST(SelectorTest, AbsolutePathExcludesItselfAndBelow) {
  ExpectExcluded({"/etc/passwd"}, {
                                      {"/etc/passwd", true},
                                      {"/etc/passwd/x", true},
                                      {"/etc/passwd/x/y", true},
                                      {"/etc/passwd-", false},
                                      {"/etc/passwdx", false},
                                      {"/etc", false},
                                      {"/home/etc/passwd", false},
                                  });
  ExpectExcluded({"/var/cache/", "//srv//./tmp"}, {
                                                      {"/var/cache", true},
                                                      {"/var/cache/apt", true},
                                                      {"/srv/tmp", true},
                                                      {"/srv/tmp/x", true},
                                                      {"/var/cached", false},
                                                  });
  ExpectExcluded({"/"}, {{"/", true}, {"/anything/at/all", true}});
}

TEST(SelectorTest, NameGlobs) {
  ExpectExcluded({"cache-?", "[ab]*.log", "*.t?p", "\\*star"}, {
                                                                   {"/x/cache-1", true},
                                                                   {"/x/cache-12", false},
                                                                   {"/x/cache-", false},
                                                                   {"/x/a.log", true},
                                                                   {"/x/b-2024.log", true},
                                                                   {"/x/c.log", false},
                                                                   {"/x/file.tmp", true},
                                                                   {"/x/file.tap", true},
                                                                   {"/x/file.tp", false},
                                                                   {"/x/*star", true},
                                                                   {"/x/astar", false},
                                                               });
  ExpectExcluded({"*.o"}, {{"/p/main.o", true}, {"/p/main.oo", false}, {"/p/main.c", false}});
}

TEST(SelectorTest, RelativePathGlobsMatchThePathTail) {
  ExpectExcluded({"**/node_modules"}, {
                                          {"/p/node_modules", true},
                                          {"/node_modules", true},
                                          {"/a/b/c/node_modules", true},
                                          {"/p/node_modulesx", false},
                                      });
  ExpectExcluded({"build/*.o"}, {
                                    {"/p/build/x.o", true},
                                    {"/build/x.o", true},
                                    {"/p/build/sub/x.o", false},  // '*' does not cross '/'
                                    {"/p/xbuild/x.o", false},
                                    {"/p/build/x.c", false},
                                    {"/p/build", false},
                                });
  ExpectExcluded({"a/**/b"}, {
                                 {"/r/a/b", true},  // ** matches zero components
                                 {"/r/a/x/b", true},
                                 {"/r/a/x/y/z/b", true},
                                 {"/r/b", false},
                                 {"/r/a/b/c", false},
                                 {"/r/xa/b", false},
                             });
  ExpectExcluded({"src/*/gen", "*/tmp"}, {
                                             {"/r/src/x/gen", true},
                                             {"/r/src/x/y/gen", false},
                                             {"/x/tmp", true},
                                             {"/tmp", false},  // '*' needs one component
                                         });
  ExpectExcluded({"logs/**"}, {
                                  {"/srv/logs", true},
                                  {"/srv/logs/a", true},
                                  {"/srv/logs/a/b.txt", true},
                                  {"/srv/log", false},
                              });
  ExpectExcluded({"./build/out"}, {{"/p/build/out", true}, {"/p/build/outs", false}});
}

TEST(SelectorTest, AbsoluteGlobsMatchFromTheRootAndExcludeBelow) {
  ExpectExcluded({"/home/*/tmp"}, {
                                      {"/home/u/tmp", true},
                                      {"/home/u/tmp/f", true},
                                      {"/home/u/x/tmp", false},
                                      {"/home/tmp", false},
                                      {"/srv/home/u/tmp", false},
                                  });
  ExpectExcluded({"/home/**/tmp"}, {
                                       {"/home/tmp", true},
                                       {"/home/a/b/tmp", true},
                                       {"/home/a/b/tmp/c", true},
                                       {"/home/a/b/tmpx", false},
                                   });
  ExpectExcluded({"/data/*.iso", "/v[0-9]"}, {
                                                 {"/data/x.iso", true},
                                                 {"/data/sub/x.iso", false},
                                                 {"/v1", true},
                                                 {"/v1/deep", true},
                                                 {"/vx", false},
                                             });
}

TEST(SelectorTest, OriginalToolSpecExample) {
  // The JSON spec from the original tool's write-up, verbatim.
  Selector selector({"/path/to/first/dir", "/path/to/second/dir", "/this/specific/file.txt"},
                    {"*.tmp", ".git", "/etc/passwd"});
  EXPECT_THAT(selector.Roots(),
              ElementsAre("/path/to/first/dir", "/path/to/second/dir", "/this/specific/file.txt"));
  EXPECT_TRUE(selector.Excluded("/path/to/first/dir/scratch.tmp"));
  EXPECT_TRUE(selector.Excluded("/path/to/first/dir/project/.git"));
  EXPECT_TRUE(selector.Excluded("/etc/passwd"));
  EXPECT_FALSE(selector.Excluded("/path/to/first/dir/notes.txt"));
  EXPECT_FALSE(selector.Excluded("/path/to/second/dir/.gitignore"));
  EXPECT_FALSE(selector.Excluded("/this/specific/file.txt"));
}

// Every name pattern kind (suffix, bare name, name glob with its fast pre-checks)
// must agree with plain glob matching of the name.
TEST(SelectorTest, NamePatternKindsAgreeWithGlobMatch) {
  const std::vector<std::string> globs = {
      "*.tmp", ".git", "*",   "?",     "??*",   "a*",     "*a",  "*a*",   "[ab]", "[ab]*x",   "x[",
      "x[a",   "\\*",  "a\\", "\\[x]", "[!a]?", "*[a-c]", "a?c", "*.t?p", "[]]*", "ab*cd*ef",
  };
  const std::vector<std::string> names = {
      "a",     "b",    "x",      "ab",       "ba",      "abc", "a.tmp", ".tmp",
      "x.tmp", ".git", "*",      "a\\",      "[x]",     "x[",  "x[a",   "bx",
      "abx",   "]z",   "abcdef", "ab-cd-ef", "abcdxef", "c",   "tap",   "a.tap",
  };
  for (const std::string& glob : globs) {
    Selector selector({}, {glob});
    for (const std::string& name : names) {
      EXPECT_EQ(selector.Excluded("/dir/" + name), GlobMatch(glob, name))
          << "pattern " << glob << " name " << name;
    }
  }
}

TEST(SelectorTest, MixedPatternsTogether) {
  Selector selector({"/"}, {"*.tmp", ".git", "/etc/passwd", "cache-?", "build/*.o", "/home/*/tmp"});
  const Case cases[] = {
      {"/a.tmp", true},
      {"/x/.git", true},
      {"/etc/passwd", true},
      {"/x/cache-9", true},
      {"/x/build/m.o", true},
      {"/home/u/tmp/z", true},
      {"/etc/group", false},
      {"/x/build/m.c", false},
      {"/home/u/docs", false},
      {"/x/cache-10", false},
      {"/", false},
  };
  for (const Case& c : cases) EXPECT_EQ(selector.Excluded(c.path), c.excluded) << c.path;
}

TEST(SelectorTest, RootsAreSortedDeduplicatedAndOutermost) {
  Selector selector({"/a/b", "/ab", "/a", "/a-b", "/a/b/c", "/a/", "/z/./y/", "/ab"}, {});
  EXPECT_THAT(selector.Roots(), ElementsAre("/a", "/a-b", "/ab", "/z/y"));

  Selector everything({"/home", "/", "/etc"}, {});
  EXPECT_THAT(everything.Roots(), ElementsAre("/"));

  EXPECT_THAT(Selector({}, {}).Roots(), ElementsAre());
}

TEST(SelectorTest, RootsDropExcludedIncludes) {
  Selector selector({"/p/.cache", "/p/docs", "/etc/passwd", "/q/x.tmp", "/etc/passwd/sub"},
                    {".cache", "*.tmp", "/etc/passwd"});
  EXPECT_THAT(selector.Roots(), ElementsAre("/p/docs"));
  // An excluded include does not hide a separate, non-excluded one below it...
  Selector nested({"/p/.cache", "/p/.cache/keep"}, {".cache"});
  EXPECT_THAT(nested.Roots(), ElementsAre("/p/.cache/keep"));
  // ...but an absolute exclude covers everything below it.
  Selector below({"/srv/data/keep"}, {"/srv/data"});
  EXPECT_THAT(below.Roots(), ElementsAre());
}

TEST(SelectorTest, RejectsBadIncludesAndPatterns) {
  auto message = [](const std::vector<std::string>& inc, const std::vector<std::string>& exc) {
    try {
      Selector s(inc, exc);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Code::kInvalidArgument);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message({"relative/dir"}, {}), HasSubstr("\"relative/dir\" is not an absolute path"));
  EXPECT_THAT(message({""}, {}), HasSubstr("not an absolute path"));
  EXPECT_THAT(message({}, {""}), HasSubstr("empty exclude pattern"));
  EXPECT_THAT(message({}, {"a/../b"}), HasSubstr("\"a/../b\" may not contain \"..\""));
  EXPECT_THAT(message({}, {".."}), HasSubstr("may not contain"));
  EXPECT_THAT(message({}, {"."}), HasSubstr("matches nothing"));
}

TEST(SelectorTest, ManyNamesAndDeepPaths) {
  std::vector<std::string> patterns;
  for (int i = 0; i < 200; ++i) patterns.push_back("name" + std::to_string(i));
  Selector selector({"/"}, patterns);
  EXPECT_TRUE(selector.Excluded("/x/y/name199"));
  EXPECT_FALSE(selector.Excluded("/x/y/name200"));
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += "/d";
  Selector globs({"/"}, {"**/d/**/e", "/d/**/f"});
  EXPECT_FALSE(globs.Excluded(deep));
  EXPECT_TRUE(globs.Excluded(deep + "/e"));
  EXPECT_TRUE(globs.Excluded(deep + "/f"));
}

}  // namespace
}  // namespace gb
