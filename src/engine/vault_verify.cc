#include "engine/vault_verify.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <random>
#include <set>

#include "archive/tar_reader.h"
#include "archive/zstd_stream.h"
#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "core/tree_hash.h"
#include "engine/archive_reader.h"
#include "engine/archive_signature.h"
#include "engine/bundle.h"
#include "engine/encryption.h"
#include "engine/prices.h"
#include "engine/retrieval.h"
#include "engine/vault_session.h"
#include "vault/inventory_reader.h"

namespace gb {
namespace {

constexpr int64_t kDay = 86400;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class VaultVerifier : VaultSession {
 public:
  VaultVerifier(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
                const VaultVerifyOptions& opts)
      : VaultSession(ws, vault, progress, clock), opts_(opts) {}

  VaultVerifyResult Run() {
    std::vector<VaultArchive> present = Reconcile();
    if (opts_.sample > 0) Sample(present);
    return r_;
  }

 private:
  void Problem(const std::string& what, const std::string& msg, bool corrupt) {
    ++r_.problems;
    r_.corrupt |= corrupt;
    progress_.Notice(what, msg, true);
  }

  // The listing to compare with: fresh where the backend lists at once, else
  // the last inventory read (its output while the vault keeps it).
  std::optional<Inventory> Listing() {
    if (caps_.immediate_listing) {
      std::string id = vault_.StartInventory();
      try {
        Inventory inv = ReadInventory(vault_, id);
        r_.fresh_listing = true;
        return inv;
      } catch (const JobNotReadyError&) {
        // Falls back to the last inventory below.
      }
    }
    std::optional<JobRecord> last;
    for (const JobRecord& j : state_.Jobs(JobRecordStatus::kDone))
      if (j.kind == JobKind::kInventory &&
          (!last || j.completed.value_or(j.started) >= last->completed.value_or(last->started)))
        last = j;
    if (last) {
      try {
        return ReadInventory(vault_, last->job_id);
      } catch (const Error& e) {
        if (e.code() != Code::kNotFound && e.code() != Code::kPermanent) throw;
      }
    }
    r_.from_cache = true;
    return std::nullopt;
  }

  // Returns the archives found as recorded (or not yet expected in the listing).
  std::vector<VaultArchive> Reconcile() {
    std::optional<Inventory> inv = Listing();
    int64_t date = 0;
    std::map<std::string, ArchiveInfo> listed;
    if (inv) {
      date = inv->date ? inv->date : clock_.NowSeconds();
      for (const ArchiveInfo& a : inv->archives) listed[a.id] = a;
    } else {
      date = std::stoll(state_.GetMeta("last_inventory_date").value_or("0"));
    }
    if (date > 0) r_.inventory_date = date;
    std::vector<VaultArchive> present;
    std::set<int64_t> sets_in_vault;
    for (const VaultArchive& a : state_.Archives()) {
      if (a.origin != "here") continue;
      ++r_.archives;
      if (a.set_id) sets_in_vault.insert(*a.set_id);
      const std::string what = "archive " + a.archive_id;
      const std::string label =
          a.backup_name.empty() ? "set " + std::to_string(a.set_id.value_or(0)) : a.backup_name;
      bool is_listed = false;
      if (inv) {
        auto it = listed.find(a.archive_id);
        if (it != listed.end()) {
          is_listed = true;
          if (it->second.size != a.size || Lower(it->second.tree_hash) != Lower(a.tree_hash)) {
            ++r_.mismatched;
            Problem(what,
                    "(" + label + ") is listed with " + std::to_string(it->second.size) +
                        " bytes and tree hash " + it->second.tree_hash + ", but " +
                        std::to_string(a.size) + " bytes and " + a.tree_hash + " were uploaded",
                    true);
            continue;
          }
        }
      } else {
        is_listed = a.last_seen_upstream && date > 0 && *a.last_seen_upstream >= date;
      }
      if (is_listed) {
        ++r_.listed;
        present.push_back(a);
        continue;
      }
      // A lagging inventory misses what was uploaded after (or shortly before) its date.
      if (!r_.fresh_listing && (date == 0 || a.created + kDay >= date)) {
        ++r_.not_yet_listed;
        present.push_back(a);
        continue;
      }
      ++r_.missing;
      Problem(
          what,
          "(" + label + ") is missing from the vault " +
              (r_.fresh_listing ? std::string("listing") : "inventory of " + FormatIsoUtc(date)),
          false);
    }
    // Sets the catalog calls uploaded must have their archives recorded.
    for (const SetRecord& s : ws_.catalog().Sets()) {
      if (!s.uploaded || s.pruned || sets_in_vault.count(s.id)) continue;
      ++r_.missing;
      Problem("set " + std::to_string(s.id),
              "is marked uploaded but the catalog records no archive of it in the vault", false);
    }
    return present;
  }

  Tier SampleTier() const {
    if (opts_.tier) return *opts_.tier;
    return prices_.tier_available[static_cast<int>(Tier::kBulk)] ? Tier::kBulk : Tier::kStandard;
  }

  // The sample: retrievals a previous run started first (so a lagging vault
  // finishes the same archives), then random others.
  void Sample(const std::vector<VaultArchive>& present) {
    r_.tier = SampleTier();
    std::map<std::string, VaultArchive> by_id;
    for (const VaultArchive& a : present) by_id[a.archive_id] = a;
    std::vector<VaultArchive> chosen;
    std::set<std::string> taken;
    for (const JobRecord& j : state_.Jobs())
      if (j.kind == JobKind::kRetrieval && j.purpose == "verify" &&
          (j.status == JobRecordStatus::kInProgress || j.status == JobRecordStatus::kSucceeded) &&
          by_id.count(j.archive_id) && !taken.count(j.archive_id) &&
          static_cast<int>(chosen.size()) < opts_.sample) {
        chosen.push_back(by_id[j.archive_id]);
        taken.insert(j.archive_id);
      }
    std::vector<VaultArchive> rest;
    for (const VaultArchive& a : present)
      if (!taken.count(a.archive_id)) rest.push_back(a);
    std::mt19937_64 rng(opts_.seed ? opts_.seed : std::random_device{}());
    std::shuffle(rest.begin(), rest.end(), rng);
    for (const VaultArchive& a : rest) {
      if (static_cast<int>(chosen.size()) >= opts_.sample) break;
      chosen.push_back(a);
    }
    if (static_cast<int>(chosen.size()) < opts_.sample)
      progress_.Notice(
          "vault", "only " + std::to_string(chosen.size()) + " archive(s) can be sampled", false);
    progress_.Phase("retrieving a sample", chosen.size(), 0);
    for (const VaultArchive& a : chosen) {
      RetrievalRequest req;
      req.archive_id = a.archive_id;
      req.range = AlignRange(0, a.size, caps_.retrieval_range_alignment, a.size);
      req.tier = r_.tier;
      req.purpose = "verify";
      r_.sample_bytes += req.range.length;
      RetrievalState st = AdvanceRetrieval(ws_, vault_, req, progress_, clock_);
      if (st == RetrievalState::kWaiting && !caps_.jobs_lag)
        st = AdvanceRetrieval(ws_, vault_, req, progress_, clock_);
      if (st == RetrievalState::kWaiting) {
        r_.sample_waiting.push_back(a.archive_id);
        continue;
      }
      const std::string staged = StagingPath(ws_, req);
      try {
        if (CheckSample(a, staged)) r_.sampled.push_back(a.archive_id);
      } catch (const Error& e) {
        if (e.code() == Code::kNoKey) {
          Fs().Unlink(staged.c_str());
          throw;
        }
        Problem("archive " + a.archive_id, e.what(), e.code() == Code::kCorruption);
      }
      Fs().Unlink(staged.c_str());
    }
    r_.sample_cost = RetrievalCost(prices_, r_.tier, r_.sample_bytes, chosen.size());
  }

  // One retrieved vault archive, checked fully. False (reported) when it fails.
  bool CheckSample(const VaultArchive& a, const std::string& staged) {
    const std::string what = "archive " + a.archive_id;
    {
      std::string got = Hex(TreeHashOfFile(staged));
      if (got != Lower(a.tree_hash)) {
        Problem(what,
                "the retrieved bytes have tree hash " + got + ", not the " + a.tree_hash +
                    " uploaded: the stored archive is damaged",
                true);
        return false;
      }
    }
    if (!a.backup_name.empty()) {
      // A single archive: its signature block after it (see PrepareSingle), checked first.
      std::optional<std::string> signature;
      auto d = ParseDescription(a.description);
      const uint64_t size = FileSource(staged).Size();
      if (d && d->format >= kSignedDescriptionFormat && size >= kMaxSignatureSize) {
        signature = ReadSignatureBlock(staged, size - kMaxSignatureSize);
        if (Fs().Truncate(staged.c_str(), static_cast<off_t>(size - kMaxSignatureSize)) != 0)
          ThrowErrno("truncate " + staged);
      }
      std::optional<BackupRecord> b = ws_.catalog().FindBackupByName(a.backup_name);
      CheckSignature(
          cfg_,
          SignedThing::Archive(a.backup_name, a.set_id.value_or(0), b ? b->archive_sha256 : ""),
          signature, staged, progress_);
      return CheckBackupArchive(what, staged, a.backup_name);
    }
    return CheckBundle(what, staged, a.set_id.value_or(0));
  }

  // A backup archive file: the catalog's SHA-256, then decrypted and read through.
  bool CheckBackupArchive(const std::string& what, const std::string& path,
                          const std::string& name) {
    std::optional<BackupRecord> b = ws_.catalog().FindBackupByName(name);
    if (!b) {
      progress_.Notice(what, name + " is not in the catalog; its bytes were checked only", false);
      return true;
    }
    FileSource src(path);
    HashingSink sha(nullptr);
    Pump(src, sha);
    sha.Finish();
    if (sha.bytes() != b->archive_size || Hex(sha.digest()) != b->archive_sha256) {
      Problem(what, name + " differs from the archive the catalog recorded (SHA-256)", true);
      return false;
    }
    ArchiveContents c = ReadArchiveContents(cfg_, path);
    if (c.meta.name != name) {
      Problem(what, name + " holds the manifest of " + c.meta.name, true);
      return false;
    }
    return true;
  }

  // A bundle: its catalog part decrypts, and each contained archive checks out;
  // each member is checked against the signature member after it first.
  bool CheckBundle(const std::string& what, const std::string& path, int64_t set_id) {
    std::map<std::string, BackupRecord> expected;
    for (const BackupRecord& b : ws_.catalog().BackupsOfSet(set_id)) expected[b.name] = b;
    bool ok = true;
    FileSource src(path);
    TarReader tar(src);
    TarMember m;
    bool first = true;
    const std::string extracted = JoinPath(StagingDir(ws_), "verify-extract.tar.zst.age");
    const std::string catalog_copy = JoinPath(StagingDir(ws_), "verify-extract.catalog.zst.age");
    struct Pending {
      std::string name, file;
      SignedThing thing;
    };
    std::optional<Pending> pending;
    // Checks the pending member with its signature (nullopt: it had none), then its contents.
    auto finish = [&](const std::optional<std::string>& signature) {
      Pending p = *pending;
      pending.reset();
      try {
        CheckSignature(cfg_, p.thing, signature, p.file, progress_);
        if (p.file == catalog_copy) {
          FileSource in(catalog_copy);
          std::unique_ptr<ByteSource> plain = NewArchiveDecryptor(cfg_, in);
          ZstdSource z(*plain);
          HashingSink discard(nullptr);
          Pump(z, discard);
        } else {
          ok &= CheckBackupArchive(what, p.file, p.name);
        }
      } catch (const Error& e) {
        Fs().Unlink(p.file.c_str());
        if (e.code() != Code::kCorruption) throw;
        Problem(what, e.what(), true);
        ok = false;
        return;
      }
      Fs().Unlink(p.file.c_str());
    };
    auto extract = [&](const std::string& to) {
      AtomicFile out(to, 0600);
      uint64_t pos = 0;
      static const std::vector<uint8_t> zeros(1 << 20, 0);
      tar.ReadData([&](uint64_t off, std::span<const uint8_t> d) {
        while (pos < off) {
          size_t k = static_cast<size_t>(std::min<uint64_t>(off - pos, zeros.size()));
          out.sink().Write({zeros.data(), k});
          pos += k;
        }
        out.sink().Write(d);
        pos = off + d.size();
      });
      out.Commit();
    };
    while (tar.Next(&m)) {
      std::string name = Basename(m.entry.path);
      if (pending && name == pending->name + kSignatureSuffix) {
        std::string signature = tar.ReadAll(kSignatureMemberSize);
        finish(signature);
        continue;
      }
      if (pending) finish(std::nullopt);
      if (first) {
        first = false;
        if (name != "catalog.json.zst.age") {
          Problem(what, "the bundle does not start with its catalog copy", true);
          return false;
        }
        extract(catalog_copy);
        pending = Pending{name, catalog_copy, SignedThing::CatalogCopy(set_id)};
        continue;
      }
      auto it = expected.find(name);
      if (it == expected.end()) {
        Problem(what,
                "the bundle holds " + name + ", which is not a backup of set " +
                    std::to_string(set_id) + " in the catalog",
                true);
        ok = false;
        continue;
      }
      SignedThing thing = SignedThing::Archive(name, set_id, it->second.archive_sha256);
      expected.erase(it);
      extract(extracted);
      pending = Pending{name, extracted, thing};
    }
    if (pending) finish(std::nullopt);
    if (first) {
      Problem(what, "the retrieved bundle holds no members", true);
      return false;
    }
    for (const auto& [name, b] : expected) {
      Problem(what, "the bundle lacks " + name + ", a backup of set " + std::to_string(set_id),
              true);
      ok = false;
    }
    return ok;
  }

  VaultVerifyOptions opts_;
  VaultVerifyResult r_;
};

}  // namespace

VaultVerifyResult RunVaultVerify(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
                                 const VaultVerifyOptions& opts) {
  return VaultVerifier(ws, vault, progress, clock, opts).Run();
}

}  // namespace gb
