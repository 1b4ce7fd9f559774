// Backup never writes an archive that its own readers would refuse: a
// checksums member past kMaxChecksumsBytes could be neither verified nor
// recovered from, so the backup stops with a clear error and leaves nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "archive/manifest.h"
#include "core/error.h"
#include "core/file.h"
#include "crypto/identity_file.h"
#include "crypto/x25519.h"
#include "engine/backup.h"
#include "engine/config.h"
#include "engine/engine_test_util.h"
#include "engine/workspace.h"
#include "vault/vault_test_doubles.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

TEST(BackupLimitsTest, ChecksumsMemberPastItsCapIsRefusedBeforeAnythingIsWritten) {
  fs::path tmp = access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
  std::string root = (tmp / "gb-limits-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(root.data()), nullptr);
  test::FakeClock clock;
  auto id = age::X25519Identity::Generate();
  age::WriteIdentityFile(root + "/identity.txt", id, clock);

  // Empty files with paths near PATH_MAX: each takes a checksums line of about
  // 4 KB, so some 66,000 of them pass the cap while the manifest stays under its own.
  std::string deep = root + "/src";
  while (deep.size() < 3800) deep += "/" + std::string(200, 'd');
  fs::create_directories(deep);
  const std::string name_tail(100, 'f');
  const uint64_t line = deep.size() + name_tail.size() + 100;
  const uint64_t files = kMaxChecksumsBytes / line + 1000;
  for (uint64_t i = 0; i < files; ++i) std::ofstream(deep + "/" + std::to_string(i) + name_tail);

  WriteFileAtomic(root + "/config.toml",
                  "[source]\nincludes = [\"" + root + "/src\"]\n[backup]\ncache_dir = \"" + root +
                      "/cache\"\nstate_dir = \"" + root + "/state\"\n[encryption]\n" +
                      test::TrustedSigningKey(root) + "recipients = [\"" +
                      id.Recipient().ToString() + "\"]\n[vault]\nurl = \"file://" + root +
                      "/vault\"\n");
  Config cfg = LoadConfig(root + "/config.toml");
  Workspace ws(cfg);
  test::RecordingProgress progress;
  try {
    RunBackup(ws, progress, clock, BackupOptions{});
    ADD_FAILURE() << "a backup with " << files << " long paths was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Code::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("checksums"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("split [source] includes"), std::string::npos);
  }
  EXPECT_TRUE(ws.catalog().Backups().empty());
  for (const auto& f : fs::directory_iterator(cfg.cache_dir))
    EXPECT_EQ(f.path().filename().string().find(".age"), std::string::npos) << f.path();
  fs::remove_all(root);
}

}  // namespace
}  // namespace gb
