#include "core/subprocess.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "core/file.h"

namespace gb {
namespace {

SubprocessResult Spawn(std::vector<std::string> argv, std::string* out = nullptr,
                       int64_t timeout_ms = 0, std::vector<std::string> env = {}) {
  SubprocessOptions o;
  o.argv = std::move(argv);
  o.timeout_ms = timeout_ms;
  o.env = std::move(env);
  if (out)
    o.on_stdout = [out](std::span<const uint8_t> d) {
      out->append(reinterpret_cast<const char*>(d.data()), d.size());
    };
  return RunSubprocess(o);
}

TEST(SubprocessTest, OutputAndExitStatus) {
  std::string out;
  SubprocessResult r = Spawn({"sh", "-c", "printf 'a\\0b'; echo err >&2; exit 3"}, &out);
  EXPECT_TRUE(r.started);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_EQ(out, std::string("a\0b", 3));
  EXPECT_EQ(r.stderr_tail, "err");
  EXPECT_EQ(r.Describe(0), "exited with status 3");
  EXPECT_TRUE(Spawn({"true"}).ok());
}

TEST(SubprocessTest, StdinIsEmptyAndEnvironmentIsAdded) {
  std::string out;
  SubprocessResult r =
      Spawn({"sh", "-c", "cat; echo \"$GB_TEST_VALUE\""}, &out, 0, {"GB_TEST_VALUE=x y"});
  EXPECT_TRUE(r.ok()) << r.Describe(0);
  EXPECT_EQ(out, "x y\n");
}

TEST(SubprocessTest, StderrTailKeepsTheLastTenLines) {
  SubprocessResult r =
      Spawn({"sh", "-c", "for i in $(seq 1 50); do echo line $i >&2; done; exit 1"});
  EXPECT_EQ(r.stderr_tail.substr(0, 8), "line 41\n");
  EXPECT_EQ(r.stderr_tail.substr(r.stderr_tail.size() - 7), "line 50");
}

TEST(SubprocessTest, MissingProgramIsAResultNotAnException) {
  SubprocessResult r = Spawn({"no-such-program-gb"});
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.Describe(0), "cannot run no-such-program-gb: not found in PATH");
  r = Spawn({"/nonexistent/prog"});
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.start_error, "cannot run /nonexistent/prog: No such file or directory");
}

TEST(SubprocessTest, TimeoutKillsTheWholeGroup) {
  std::string dir = (std::filesystem::temp_directory_path() / "gb-subprocess-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::string late = dir + "/late";
  auto start = std::chrono::steady_clock::now();
  // The background child would outlive a kill of its parent alone.
  SubprocessResult r =
      Spawn({"sh", "-c", "(sleep 1; touch " + late + ") & sleep 30"}, nullptr, 200);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.Describe(200), "timed out after 1 s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ::usleep(1500000);
  EXPECT_FALSE(PathExists(late)) << "the background child survived the timeout";
  std::filesystem::remove_all(dir);
}

TEST(SubprocessTest, DescribeArgvQuotesWhatNeedsIt) {
  EXPECT_EQ(DescribeArgv({"pg_dump", "--format=plain", "my db", "it's", ""}),
            "pg_dump --format=plain 'my db' 'it'\\''s' ''");
}

}  // namespace
}  // namespace gb
