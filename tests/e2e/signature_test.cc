// Signed archives through the binary: what `init` sets up, what the stock
// `minisign` tool says about our signatures, and what restore, verify and
// recover refuse (exit 4): archives signed by nobody or by an untrusted key,
// and archives altered after signing; a second trusted host's sets are
// accepted. Also the modes of keys, config and state (issue 8, sections 3-4).
#include <sys/stat.h>

#include <string>
#include <vector>

#include "e2e_util.h"

namespace gbe2e {
namespace {

void Replace(std::string& text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos) << from << " not in\n" << text;
  text.replace(at, from.size(), to);
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

class SignatureE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_ / "src";
    MakeDirs(src_);
    MakeDirs(a_.dir());
    MakeDirs(b_.dir());
    ASSERT_NO_FATAL_FAILURE(a_.Init({src_}, "max_incrementals = 1"));
    ASSERT_NO_FATAL_FAILURE(b_.Init({src_}, "max_incrementals = 1"));
    WriteFile(src_ + "/a.txt", "genuine\n");
    WriteFile(src_ + "/b.bin", Random(200000, 4));
  }

  // `tool`'s config encrypting to host A's recipient (B is a second backup
  // host of the same owner, or a forger who knows the public key), trusting
  // `signers`, with the vault at `vault`.
  void Configure(Tool& tool, const std::vector<std::string>& signers, const std::string& vault) {
    std::string text = tool.ConfigText(
        {src_}, "max_incrementals = 1",
        "identity_file = \"" + a_.identity() + "\"\n\n[vault]\nurl = \"file://" + vault + "\"\n");
    std::string list;
    for (const auto& s : signers) list += (list.empty() ? "\"" : ", \"") + s + "\"";
    if (tool.recipient() != a_.recipient()) Replace(text, tool.recipient(), a_.recipient());
    Replace(text, "trusted_signers = [\"" + tool.signer() + "\"]",
            "trusted_signers = [" + list + "]");
    WriteFile(tool.config(), text, 0600);
  }

  void Tick(Tool& tool) {
    now_ += 3600;
    tool.SetPrefix({"env", "GLACIER_BACKUP_FAKE_NOW=" + std::to_string(now_)});
  }

  std::string Backup(Tool& tool) {
    Tick(tool);
    nlohmann::json b = tool.Json({"backup"});
    return b.is_object() ? b["id"].get<std::string>() : "";
  }

  std::string ArchiveOf(const Tool& tool, const std::string& id) {
    return tool.cache() + "/" + id + ".tar.zst.age";
  }

  std::vector<std::string> Snapshots(Tool& tool) {
    std::vector<std::string> ids;
    nlohmann::json s = tool.Snapshots();
    if (s.is_array())
      for (const auto& b : s) ids.push_back(b["id"].get<std::string>());
    return ids;
  }

  void ExpectRefused(const Result& r, const std::vector<std::string>& mentions) {
    EXPECT_EQ(r.code, 4) << r.Show();
    for (const auto& m : mentions)
      EXPECT_NE(r.err.find(m), std::string::npos) << m << "\n" << r.Show();
  }

  TempDir dir_;
  std::string src_;
  Tool a_{dir_ / "host-a"}, b_{dir_ / "host-b"};
  int64_t now_ = 1767225600;  // 2026-01-01
};

TEST_F(SignatureE2e, InitMakesASigningKeyAndMinisignVerifiesEveryArchive) {
  EXPECT_EQ(ModeOf(a_.signing_key()), 0600u);
  EXPECT_EQ(a_.signer().substr(0, 2), "RW");
  std::string id = Backup(a_);
  ASSERT_FALSE(id.empty());
  std::string archive = ArchiveOf(a_, id);
  ASSERT_TRUE(Exists(archive + ".minisig"));
  Result v = Exec({"minisign", "-Vm", archive, "-P", a_.signer()});
  EXPECT_EQ(v.code, 0) << v.Show();
  EXPECT_NE(v.out.find("backup=" + id), std::string::npos) << v.Show();
  EXPECT_NE(v.out.find("sha256="), std::string::npos) << v.Show();
  // The other host's key does not verify it.
  EXPECT_NE(Exec({"minisign", "-Vm", archive, "-P", b_.signer()}).code, 0);
}

TEST_F(SignatureE2e, UnsignedArchiveIsRefusedUnlessAllowUnsigned) {
  std::string id = Backup(a_);
  ASSERT_FALSE(id.empty());
  std::string sig = ArchiveOf(a_, id) + ".minisig";
  ASSERT_EQ(::unlink(sig.c_str()), 0);
  std::string target = dir_ / "restored";
  ExpectRefused(a_.Run({"restore", "--to", target}),
                {id + ".tar.zst.age", a_.signer(), "not signed", "--allow-unsigned"});
  EXPECT_FALSE(Exists(target)) << "nothing is restored from an unsigned archive";
  ExpectRefused(a_.Run({"verify"}), {id, a_.signer()});
  Result ok = a_.Run({"restore", "--allow-unsigned", "--to", target});
  ASSERT_EQ(ok.code, 0) << ok.Show();
  EXPECT_NE(ok.err.find("accepted unsigned because of --allow-unsigned"), std::string::npos)
      << ok.Show();
  EXPECT_EQ(ReadFile(Restored(target, src_) + "/a.txt"), "genuine\n");
}

TEST_F(SignatureE2e, ArchiveAlteredByOneByteAfterSigningIsRefused) {
  std::string id = Backup(a_);
  ASSERT_FALSE(id.empty());
  std::string archive = ArchiveOf(a_, id);
  std::string bytes = ReadFile(archive);
  WriteAt(archive, bytes.size() / 2,
          std::string(1, static_cast<char>(bytes[bytes.size() / 2] ^ 1)));
  std::string target = dir_ / "restored";
  ExpectRefused(a_.Run({"restore", "--to", target}), {id, "tampered", a_.signer()});
  EXPECT_FALSE(Exists(target));
  ExpectRefused(a_.Run({"verify"}), {id});
  // --allow-unsigned does not excuse a bad signature.
  ExpectRefused(a_.Run({"restore", "--allow-unsigned", "--to", target}), {id});
}

TEST_F(SignatureE2e, AGenuineArchiveUnderAnotherNameIsRefused) {
  std::string full = Backup(a_);
  WriteFile(src_ + "/a.txt", "changed\n");
  std::string inc = Backup(a_);
  ASSERT_FALSE(inc.empty());
  // The full backup and its genuine signature, put in the incremental's place.
  Exec({"cp", ArchiveOf(a_, full), ArchiveOf(a_, inc)});
  Exec({"cp", ArchiveOf(a_, full) + ".minisig", ArchiveOf(a_, inc) + ".minisig"});
  ExpectRefused(a_.Run({"restore", "--at", inc, "--to", dir_ / "restored"}),
                {inc, "for another archive", "backup=" + full});
}

TEST_F(SignatureE2e, ForgedArchivesAreRefusedAndASecondTrustedHostsAreAccepted) {
  // Host B writes archives that host A's identity can decrypt, signed with B's key.
  ASSERT_NO_FATAL_FAILURE(Configure(b_, {b_.signer()}, dir_ / "vault-b"));
  WriteFile(src_ + "/a.txt", "written by host b\n");
  std::string id = Backup(b_);
  ASSERT_FALSE(id.empty());
  std::string incoming = dir_ / "incoming";
  MakeDirs(incoming);
  Exec({"cp", ArchiveOf(b_, id), ArchiveOf(b_, id) + ".minisig", incoming});

  // A trusts only itself: B's signature is refused, and no set is added.
  ASSERT_NO_FATAL_FAILURE(Configure(a_, {a_.signer()}, dir_ / "vault-a"));
  ExpectRefused(a_.Run({"recover", "--from-archives", incoming}),
                {id + ".tar.zst.age", "not a trusted signer", a_.signer()});
  EXPECT_TRUE(Snapshots(a_).empty());
  // Signed by nobody: refused too.
  Exec({"mv", incoming + "/" + id + ".tar.zst.age.minisig", dir_ / "saved.minisig"});
  ExpectRefused(a_.Run({"recover", "--from-archives", incoming}),
                {id + ".tar.zst.age", "not signed", a_.signer()});
  EXPECT_TRUE(Snapshots(a_).empty());

  // A trusting B too: B's genuine archive is accepted and restores.
  Exec({"mv", dir_ / "saved.minisig", incoming + "/" + id + ".tar.zst.age.minisig"});
  ASSERT_NO_FATAL_FAILURE(Configure(a_, {a_.signer(), b_.signer()}, dir_ / "vault-a"));
  Result r = a_.Run({"recover", "--from-archives", incoming});
  ASSERT_EQ(r.code, 0) << r.Show();
  EXPECT_EQ(Snapshots(a_), std::vector<std::string>{id});
  std::string target = dir_ / "restored";
  Result rr = a_.Run({"restore", "--to", target});
  ASSERT_EQ(rr.code, 0) << rr.Show();
  EXPECT_EQ(ReadFile(Restored(target, src_) + "/a.txt"), "written by host b\n");
}

TEST_F(SignatureE2e, RecoverFromAVaultChecksTheBundlesSigner) {
  // Host B uploads a complete set (a full and one incremental) to its vault.
  ASSERT_NO_FATAL_FAILURE(Configure(b_, {b_.signer()}, dir_ / "vault-b"));
  Tick(b_);
  ASSERT_EQ(b_.Run({"vault", "create"}).code, 0);
  ASSERT_FALSE(Backup(b_).empty());
  WriteFile(src_ + "/c.txt", "second\n");
  std::string last = Backup(b_);
  ASSERT_FALSE(last.empty());
  Tick(b_);
  Result s = b_.Run({"sync"});
  ASSERT_EQ(s.code, 0) << s.Show();
  // The bundle carries a signature after each file (catalog copy and archives).
  std::string bundle;
  for (const auto& n : ListDir(dir_ / "vault-b/archives"))
    if (n.find('.') == std::string::npos) bundle = dir_ / ("vault-b/archives/" + n);
  ASSERT_FALSE(bundle.empty());
  Result listing = Exec({"tar", "-tf", bundle});
  EXPECT_NE(listing.out.find("catalog.json.zst.age.minisig"), std::string::npos) << listing.Show();
  EXPECT_NE(listing.out.find(last + ".tar.zst.age.minisig"), std::string::npos) << listing.Show();

  // A new machine trusting only A: the catalog copy's signer is refused.
  ASSERT_NO_FATAL_FAILURE(Configure(a_, {a_.signer()}, dir_ / "vault-b"));
  Tick(a_);
  ExpectRefused(a_.Run({"recover", "--yes"}),
                {"catalog copy of set", "not a trusted signer", a_.signer()});
  EXPECT_TRUE(Snapshots(a_).empty()) << "the set is not added to the catalog";

  // Trusting B as well: recovered, and restored from the vault.
  ASSERT_NO_FATAL_FAILURE(Configure(a_, {a_.signer(), b_.signer()}, dir_ / "vault-b"));
  Tick(a_);
  Result r = a_.Run({"recover", "--yes"});
  ASSERT_EQ(r.code, 0) << r.Show();
  ASSERT_EQ(Snapshots(a_).size(), 2u);
  std::string target = dir_ / "restored";
  Tick(a_);
  Result rr = a_.Run({"restore", "--yes", "--wait", "--to", target});
  ASSERT_EQ(rr.code, 0) << rr.Show();
  EXPECT_EQ(ReadFile(Restored(target, src_) + "/c.txt"), "second\n");
}

// ---------------------------------------------------------------- modes

TEST_F(SignatureE2e, LooseIdentityAndSigningKeyAreRefusedWithTheChmod) {
  ASSERT_FALSE(Backup(a_).empty());
  ASSERT_EQ(::chmod(a_.identity().c_str(), 0644), 0);
  Result r = a_.Run({"restore", "--to", dir_ / "restored"});
  EXPECT_EQ(r.code, 2) << r.Show();
  EXPECT_NE(r.err.find("chmod 600 '" + a_.identity() + "'"), std::string::npos) << r.Show();
  EXPECT_FALSE(Exists(Restored(dir_ / "restored", src_) + "/a.txt"));

  ASSERT_EQ(::chmod(a_.signing_key().c_str(), 0640), 0);
  Tick(a_);
  Result b = a_.Run({"backup"});
  EXPECT_EQ(b.code, 2) << b.Show();
  EXPECT_NE(b.err.find("chmod 600 '" + a_.signing_key() + "'"), std::string::npos) << b.Show();
}

TEST_F(SignatureE2e, ConfigWritableByOthersIsRefused) {
  ASSERT_EQ(::chmod(a_.config().c_str(), 0666), 0);
  Result r = a_.Run({"snapshots"});
  EXPECT_EQ(r.code, 2) << r.Show();
  EXPECT_NE(r.err.find("chmod go-w '" + a_.config() + "'"), std::string::npos) << r.Show();
}

TEST_F(SignatureE2e, EverythingCreatedInStateAndCacheIsPrivate) {
  ASSERT_NO_FATAL_FAILURE(Configure(a_, {a_.signer()}, dir_ / "vault-a"));
  Tick(a_);
  ASSERT_EQ(a_.Run({"vault", "create"}).code, 0);
  ASSERT_FALSE(Backup(a_).empty());
  ASSERT_FALSE(Backup(a_).empty());  // completes the set
  for (const std::string& dir : {a_.state(), a_.cache()}) {
    EXPECT_EQ(ModeOf(dir), 0700u) << dir;
    Result find = Exec({"find", dir, "-perm", "/077"});
    EXPECT_EQ(find.out, "") << "open to group or others:\n" << find.out;
  }
  EXPECT_EQ(ModeOf(a_.state() + "/catalog.db"), 0600u);
  // A folder made loose by someone else is warned about.
  ASSERT_EQ(::chmod(a_.cache().c_str(), 0755), 0);
  Result s = a_.Run({"snapshots"});
  EXPECT_EQ(s.code, 0) << s.Show();
  EXPECT_NE(s.err.find("chmod 700 '" + a_.cache() + "'"), std::string::npos) << s.Show();
}

TEST_F(SignatureE2e, InitAddsTheSigningKeyToAConfigFromBeforeSignatures) {
  // A config and a host from before signatures: no key, no trusted_signers.
  std::string text = ReadFile(a_.config());
  Replace(text, "trusted_signers = [\"" + a_.signer() + "\"]\n", "");
  WriteFile(a_.config(), text, 0600);
  ASSERT_EQ(::unlink(a_.signing_key().c_str()), 0);
  Tick(a_);
  Result old = a_.Run({"backup"});
  ASSERT_EQ(old.code, 0) << old.Show();
  EXPECT_NE(old.err.find("no signing key"), std::string::npos) << old.Show();

  Result init = a_.Run({"init"});
  ASSERT_EQ(init.code, 0) << init.Show();
  EXPECT_EQ(ModeOf(a_.signing_key()), 0600u);
  std::string now = ReadFile(a_.config());
  EXPECT_NE(now.find("trusted_signers = [\"RW"), std::string::npos) << now;
  // The old backup needs --allow-unsigned; a new one is signed and verifies.
  std::string id = Backup(a_);
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(Exists(ArchiveOf(a_, id) + ".minisig"));
  ExpectRefused(a_.Run({"verify"}), {"not signed"});
  Result v = a_.Run({"verify", "--allow-unsigned"});
  EXPECT_EQ(v.code, 0) << v.Show();
}

}  // namespace
}  // namespace gbe2e
