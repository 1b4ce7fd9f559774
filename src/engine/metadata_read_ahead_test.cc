#include "engine/metadata_read_ahead.h"

#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/test_temp_dir.h"
#include "engine/engine_test_util.h"

namespace gb {
namespace {

class MetadataReadAheadTest : public ::testing::TestWithParam<int> {
 protected:
  // The path of root_/name as entries spell it: relative to "/".
  std::string Rel(const std::string& name) const { return (root_ + "/" + name).substr(1); }

  test::TempDir dir_{"gb-read-ahead"};
  const std::string root_ = dir_.path();
};

// Entries come back in the order they were added, each with its own xattrs;
// one that vanished comes back with the reason, and the walk goes on.
TEST_P(MetadataReadAheadTest, HandsBackInOrderWithEachEntrysOwnMetadata) {
  const int kFiles = 1000;
  bool xattrs = true;
  for (int i = 0; i < kFiles; ++i) {
    std::string name = "f" + std::to_string(i);
    test::WriteText(root_ + "/" + name, name);
    if (i % 3 == 0 && xattrs &&
        ::setxattr((root_ + "/" + name).c_str(), "user.name", name.data(), name.size(), 0) != 0)
      xattrs = false;  // the file system keeps none: order and problems are still checked
  }
  std::vector<MetadataReadAhead::Walked> back;
  MetadataReadAhead ahead(GetParam(),
                          [&](MetadataReadAhead::Walked& w) { back.push_back(std::move(w)); });
  for (int i = 0; i < kFiles; ++i) {
    Entry e;
    e.path = Rel("f" + std::to_string(i));
    e.type = EntryType::kFile;
    ahead.Add(e, i == 7, i == 9);
    if (i == 500) {
      Entry gone;
      gone.path = Rel("vanished");
      gone.type = EntryType::kFile;
      ahead.Add(gone, false, false);
    }
  }
  ahead.Finish();

  ASSERT_EQ(back.size(), static_cast<size_t>(kFiles) + 1);
  size_t k = 0;
  for (int i = 0; i < kFiles; ++i, ++k) {
    if (i == 501) {
      EXPECT_EQ(back[k].entry.path, Rel("vanished"));
      EXPECT_FALSE(back[k].problem.empty());
      ++k;
    }
    const MetadataReadAhead::Walked& w = back[k];
    std::string name = "f" + std::to_string(i);
    ASSERT_EQ(w.entry.path, Rel(name)) << "entry " << k;
    EXPECT_EQ(w.problem, "") << name;
    EXPECT_EQ(w.subtree_unknown, i == 7) << name;
    EXPECT_EQ(w.above_roots, i == 9) << name;
    if (xattrs && i % 3 == 0) {
      ASSERT_EQ(w.entry.xattrs.size(), 1u) << name;
      EXPECT_EQ(w.entry.xattrs[0].first, "user.name");
      EXPECT_EQ(w.entry.xattrs[0].second, name);
    } else {
      EXPECT_TRUE(w.entry.xattrs.empty()) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, MetadataReadAheadTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace gb
