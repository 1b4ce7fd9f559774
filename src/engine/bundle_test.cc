// What a listing says about an archive is believed only as far as it is
// plausible: a lying or broken server cannot make sets look old enough to
// prune early.
#include "engine/bundle.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace gb {
namespace {

TEST(UpstreamArchiveTest, ImplausibleCreationTimesReadAsTheListingDate) {
  const int64_t date = *ParseUtc("2026-12-01T00:00:00Z");
  ArchiveInfo listed;
  listed.id = "a1";
  listed.size = 10;
  for (int64_t claimed : {int64_t{0}, int64_t{-5}, *ParseUtc("1999-01-01"), *ParseUtc("2300-01-01"),
                          date + 3 * 86400}) {
    listed.created = claimed;
    EXPECT_EQ(UpstreamArchive(listed, std::nullopt, date).created, date) << claimed;
  }
  for (int64_t claimed : {*ParseUtc("2012-08-21"), date - 90 * 86400, date, date + 3600}) {
    listed.created = claimed;
    EXPECT_EQ(UpstreamArchive(listed, std::nullopt, date).created, claimed) << claimed;
  }
}

}  // namespace
}  // namespace gb
