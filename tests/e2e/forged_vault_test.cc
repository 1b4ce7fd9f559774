// A vault written by an attacker who knows the public recipient key (it is in
// every config): a bundle whose encrypted catalog copy names its backup with an
// absolute path. recover, restore --yes and sync refuse it, name the problem,
// and leave every file outside the tool's folders and the target as it was.
#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

// Writes a bundle into a file:// vault the way sync would, with a catalog copy
// that says what the attacker likes. argv: vault, recipient, backup name, payload.
constexpr const char* kForgeScript = R"(
import hashlib, io, json, os, subprocess, sys, tarfile
vault, recipient, name, payload = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].encode()
t = 1767240000
digest = hashlib.sha256(payload).hexdigest()
head = {"format": "glacier-backup-catalog/1", "set": {"id": 1, "created": t, "completed": t},
        "backups": [{"seq": 0, "time": t, "name": name, "archive_size": len(payload),
                     "archive_sha256": digest, "files": 1, "bytes": len(payload), "host": "h"}]}
entry = {"seq": 0, "entry": {"path": "data.txt", "type": "file", "mode": 420, "uid": 0, "gid": 0,
         "mtime": t, "size": len(payload), "sha256": digest}}
plain = (json.dumps(head) + "\n" + json.dumps(entry) + "\n").encode()
packed = subprocess.run(["zstd", "-q", "-c"], input=plain, capture_output=True, check=True).stdout
copy = subprocess.run(["age", "-r", recipient], input=packed, capture_output=True,
                      check=True).stdout
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
    for member, data in (("glacier-backup-s0001/catalog.json.zst.age", copy),
                         ("glacier-backup-s0001/archive", payload)):
        info = tarfile.TarInfo(member)
        info.size, info.mtime = len(data), t
        tar.addfile(info, io.BytesIO(data))
bundle = out.getvalue()
leaves = [hashlib.sha256(bundle[i:i + 1048576]).digest() for i in range(0, len(bundle), 1048576)]
while len(leaves) > 1:
    leaves = [hashlib.sha256(b"".join(leaves[i:i + 2])).digest() if i + 1 < len(leaves)
              else leaves[i] for i in range(0, len(leaves), 2)]
description = json.dumps({"tool": "glacier-backup", "format": 1, "kind": "bundle", "host": "h",
                          "set": 1, "first": "2026-01-01T04:00:00Z",
                          "last": "2026-01-01T04:00:00Z", "backups": 1, "token": "forged",
                          "catalog": [512, len(copy)]})
archive = os.path.join(vault, "archives", "0123456789abcdef0123456789abcdef")
with open(archive, "wb") as f:
    f.write(bundle)
with open(archive + ".meta", "w") as f:
    json.dump({"description": description, "created": t, "size": len(bundle),
               "tree_hash": leaves[0].hex()}, f)
)";

class ForgedVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ / "src";
    vault_ = dir_ / "vault";
    victim_ = dir_ / "victim/precious.txt";
    WriteFile(src_ + "/a.txt", "alpha\n");
    WriteFile(victim_, "precious\n", 0644);
    MakeDirs(tool_.dir());
    ASSERT_NO_FATAL_FAILURE(tool_.Init({src_}));
    WriteFile(tool_.config(),
              tool_.ConfigText({src_}, "", "\n[vault]\nurl = \"file://" + vault_ + "\"\n"), 0600);
    tool_.SetPrefix({"env", "GLACIER_BACKUP_FAKE_NOW=1767250000"});
    Result r = tool_.Run({"vault", "create"});
    ASSERT_EQ(r.code, 0) << r.Show();
    WriteFile(dir_ / "forge.py", kForgeScript);
    r = Exec({"python3", dir_ / "forge.py", vault_, tool_.recipient(), victim_, "attacker bytes"});
    ASSERT_EQ(r.code, 0) << r.Show();
  }

  void ExpectVictimUntouched() {
    EXPECT_EQ(ReadFile(victim_), "precious\n") << "a file outside the tool's folders was changed";
    EXPECT_EQ(ListDir(dir_ / "victim"), std::vector<std::string>{"precious.txt"})
        << "a file was created beside the victim";
  }

  TempDir dir_;
  Tool tool_{dir_ / "gb"};
  std::string src_, vault_, victim_;
};

TEST_F(ForgedVaultTest, RecoverRestoreAndSyncRefuseAnAbsoluteBackupName) {
  // Signed by nobody: refused before any of it is read.
  Result r = tool_.Run({"recover", "--yes"});
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE(r.err.find("not signed"), std::string::npos) << r.Show();
  ExpectVictimUntouched();
  // Accepted unsigned (as from before signatures), the name itself is refused.
  r = tool_.Run({"recover", "--yes", "--allow-unsigned"});
  EXPECT_EQ(r.code, 4) << r.Show();
  EXPECT_NE(r.err.find("not an archive name"), std::string::npos) << r.Show();
  EXPECT_NE(r.err.find(victim_), std::string::npos) << "the message names the forged name\n"
                                                    << r.Show();
  ExpectVictimUntouched();
  nlohmann::json snaps = tool_.Snapshots();
  EXPECT_TRUE(snaps.is_array() && snaps.empty()) << "the forged set reached the catalog\n"
                                                 << snaps.dump(2);

  r = tool_.Run({"restore", "--yes", "--wait", "--allow-unsigned", "--to", dir_ / "target"});
  EXPECT_NE(r.code, 0) << r.Show();
  ExpectVictimUntouched();

  // sync keeps no local sets by default: a forged archive name must not turn into an unlink.
  r = tool_.Run({"sync", "--allow-unsigned"});
  ExpectVictimUntouched();
  EXPECT_EQ(r.err.find(victim_ + ": removed"), std::string::npos) << r.Show();
}

}  // namespace
}  // namespace gbe2e
