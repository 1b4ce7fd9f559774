#include "engine/recover.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/manifest.h"
#include "archive/ustar.h"
#include "archive/zstd_stream.h"
#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/tree_hash.h"
#include "core/untrusted_json.h"
#include "engine/archive_name.h"
#include "engine/archive_reader.h"
#include "engine/archive_signature.h"
#include "engine/bundle.h"
#include "engine/catalog_copy.h"
#include "engine/delta_backup.h"
#include "engine/encryption.h"
#include "engine/point.h"
#include "engine/prices.h"
#include "engine/recover_from_archives.h"
#include "engine/retrieval.h"
#include "engine/vault_session.h"
#include "vault/inventory_reader.h"

namespace gb {
namespace {

constexpr int64_t kDay = 86400;
constexpr const char* kRecoverHost = "recover_host";
constexpr const char* kRecoverInventoryJob = "recover_inventory_job";
// meta: the vault's creation time of the first inventory job recover started itself.
constexpr const char* kRecoverFirstJob = "recover_first_inventory_job";
// meta: the date of the last inventory read when it may miss the last uploads; "" = it
// lists them all.
constexpr const char* kRecoverOutdated = "recover_inventory_outdated";
constexpr const char* kAdopted = "adopted from the vault";  // JobRecord message

// A single archive retrieved with the signature block after it (see
// PrepareSingle): the signature goes beside it, where the importer checks it.
void SplitSignature(const std::string& path) {
  const uint64_t size = FileSource(path).Size();
  if (size < kMaxSignatureSize) return;  // then it is unsigned: refused by the importer
  WriteFileAtomic(SignaturePath(path), ReadSignatureBlock(path, size - kMaxSignatureSize), 0600);
  if (Fs().Truncate(path.c_str(), static_cast<off_t>(size - kMaxSignatureSize)) != 0)
    ThrowErrno("truncate " + path);
}

// The set id in a catalog copy's head line, read without touching the catalog.
int64_t PeekCatalogCopySet(const Config& cfg, ByteSource& in) {
  std::unique_ptr<ByteSource> plain = NewArchiveDecryptor(cfg, in);
  ZstdSource z(*plain);
  std::string head;
  std::vector<uint8_t> buf(4096);
  while (head.find('\n') == std::string::npos && head.size() < (1 << 20)) {
    size_t n = z.Read(buf);
    if (n == 0) break;
    head.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  try {
    auto j = ParseUntrustedJson(head.substr(0, head.find('\n')));
    if (j.value("format", "") != kCatalogCopyFormat) throw Error(Code::kCorruption, "");
    return j.at("set").at("id").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    throw Error(Code::kCorruption, "catalog copy: malformed head");
  }
}

class Recoverer : VaultSession {
 public:
  Recoverer(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
            const RecoverOptions& opts)
      : VaultSession(ws, vault, progress, clock), opts_(opts) {
    tier_ = opts.tier.value_or(ParseTier(cfg_.retrieval_tier).value_or(Tier::kBulk));
    if (!prices_.tier_available[static_cast<int>(tier_)]) {
      tier_note_ = prices_.storage_class + " offers no " + TierName(tier_) +
                   " retrievals; the plan uses the Standard tier";
      tier_ = Tier::kStandard;
    }
  }

  RecoverResult Run() {
    ClaimCatalog(ws_, opts_, "vault", clock_.NowSeconds());
    int passes = 0;
    for (;;) {
      r_ = RecoverResult{};
      r_.tier = tier_;
      r_.tier_note = tier_note_;
      Pass();
      r_.passes = ++passes;
      r_.complete = !r_.inventory_pending && r_.sets_waiting.empty() && r_.archives_waiting.empty();
      if (r_.complete || !opts_.wait || r_.unstarted) break;
      int64_t every = opts_.poll_seconds > 0      ? opts_.poll_seconds
                      : tier_ == Tier::kExpedited ? 60
                                                  : 900;
      size_t jobs = r_.sets_waiting.size() + r_.archives_waiting.size() + r_.inventory_pending;
      progress_.Phase("waiting for " + std::to_string(jobs) + " vault job(s), next check " +
                          FormatIsoUtc(clock_.NowSeconds() + every),
                      0, 0);
      clock_.SleepNanos(every * 1000000000LL);
    }
    if (r_.complete)
      state_.SetMeta(kRecoverMarker, "vault done " + FormatIsoUtc(clock_.NowSeconds()));
    r_.restorable = AllBackupIds(ws_.catalog());
    return r_;
  }

 private:
  void Problem(const std::string& what, const std::string& msg, bool corrupt = false) {
    ++r_.problems;
    r_.corrupt |= corrupt;
    progress_.Notice(what, msg, true);
  }
  void Note(const std::string& what, const std::string& msg) { progress_.Notice(what, msg, false); }
  int64_t Now() { return clock_.NowSeconds(); }

  void Pass() {
    const bool ready = InventoryReady();
    // While a newer inventory is prepared, what the older one lists is still recovered.
    const bool outdated = !state_.GetMeta(kRecoverOutdated).value_or("").empty();
    if (!ready) {
      r_.inventory_pending = true;
      if (!outdated) return;
    }
    r_.inventory_date = std::stoll(state_.GetMeta("last_inventory_date").value_or("0"));
    const bool covers = ready && !outdated;
    if (ChooseHost(covers)) {
      RecoverBundles();
      RecoverSingles();
      r_.retrieval_cost =
          RetrievalCost(prices_, tier_, r_.retrieval_bytes, static_cast<uint64_t>(r_.retrievals));
      r_.typical_hours = prices_.typical_hours[static_cast<int>(tier_)];
    }
    if (covers) return;
    r_.inventory_outdated = r_.inventory_pending = true;
    if (ready)
      AskForANewerInventory(r_.host.empty() ? "lists none of our archives"
                                            : "may not list the last uploads");
  }

  // Glacier lists an upload in its inventory about a day later. Judged in the vault's
  // clock (ours may differ): an inventory from a job this recovery started, dated about
  // when the job was created, lists every upload of the lost machine; so does one from a
  // job created a day after this recovery's first (the vault was inventoried since).
  // One from an older job (adopted from the vault) may miss the last uploads.
  void JudgeInventory(const JobRecord& job, const JobInfo& info, int64_t date) {
    bool covers = false;
    if (job.message != kAdopted) {
      if (!state_.GetMeta(kRecoverFirstJob))
        state_.SetMeta(kRecoverFirstJob, std::to_string(info.created));
      const int64_t first = std::stoll(state_.GetMeta(kRecoverFirstJob).value_or("0"));
      covers = date + 3600 >= info.created || info.created >= first + kDay;
    }
    state_.SetMeta(kRecoverOutdated, covers ? "" : std::to_string(date));
  }

  // What this pass recovered stays; a newer inventory is requested, and the next pass
  // (a later run, or --wait) adds what it lists.
  void AskForANewerInventory(const std::string& why) {
    Note("vault", "the vault inventory of " + FormatIsoUtc(*r_.inventory_date) + " " + why +
                      " (Glacier lists an upload about a day after it)");
    Record(vault_.StartInventory(), Now(), "requested a newer inventory of the vault");
    state_.SetMeta(kRecoverOutdated, std::to_string(*r_.inventory_date));
    state_.SetMeta("last_inventory_requested", std::to_string(Now()));
  }

  // ---- 1. the inventory: fresh where listing is immediate, by a job otherwise.
  bool InventoryReady() {
    std::optional<JobRecord> job;
    if (auto id = state_.GetMeta(kRecoverInventoryJob)) job = state_.FindJob(*id);
    if (caps_.immediate_listing && (!job || job->status != JobRecordStatus::kInProgress)) {
      std::string id = vault_.StartInventory();
      try {
        Ingest(ReadInventory(vault_, id));
        return true;
      } catch (const JobNotReadyError&) {
        Record(id, Now(), "started an inventory of the vault");
        return false;
      }
    }
    if (job && job->status == JobRecordStatus::kDone) {
      // Read earlier (by recover or by sync); a later run after some days asks again.
      if (Now() - job->started < std::max(1, cfg_.inventory_min_interval_days) * kDay) return true;
      job.reset();
    }
    if (!job || job->status == JobRecordStatus::kFailed ||
        job->status == JobRecordStatus::kExpired) {
      job = StartOrAdoptInventory();
    }
    JobInfo info;
    try {
      info = vault_.DescribeJob(job->job_id);
    } catch (const Error& e) {
      if (e.code() != Code::kNotFound) throw;
      Retire(*job, JobRecordStatus::kExpired, "the vault no longer knows the inventory job");
      StartOrAdoptInventory();
      return false;
    }
    if (info.status == JobStatus::kInProgress) return false;
    if (info.status == JobStatus::kFailed) {
      Retire(*job, JobRecordStatus::kFailed, info.status_message);
      StartOrAdoptInventory();
      return false;
    }
    Inventory inv;
    try {
      inv = ReadInventory(vault_, job->job_id);
    } catch (const JobNotReadyError&) {
      return false;
    } catch (const Error& e) {
      if (e.code() != Code::kNotFound) throw;
      Retire(*job, JobRecordStatus::kExpired, "the inventory's output expired before it was read");
      StartOrAdoptInventory();
      return false;
    }
    if (inv.date == 0 && inv.archives.empty()) {
      // A vault's first inventory comes about a day after its first upload.
      Retire(*job, JobRecordStatus::kExpired, "the vault has no inventory yet");
      Note("vault",
           "the vault has not been inventoried yet (a new vault's first inventory can "
           "take a day); run recover again tomorrow");
      return false;
    }
    Ingest(inv);
    JudgeInventory(*job, info, inv.date ? inv.date : Now());
    job->status = JobRecordStatus::kDone;
    job->completed = info.completed.value_or(Now());
    state_.PutJob(*job);
    return true;
  }

  void Retire(JobRecord j, JobRecordStatus status, const std::string& why) {
    j.status = status;
    j.message = why;
    state_.PutJob(j);
    Note("job " + j.job_id.substr(0, 16), why);
  }

  JobRecord Record(const std::string& id, int64_t started, const std::string& what,
                   bool adopted = false) {
    JobRecord j;
    j.job_id = id;
    if (adopted) j.message = kAdopted;
    j.kind = JobKind::kInventory;
    j.purpose = "recover";
    j.started = started;
    state_.PutJob(j);
    state_.SetMeta(kRecoverInventoryJob, id);
    Note("vault", what + " (job " + id.substr(0, 16) + ")");
    return j;
  }

  // An inventory job the vault already runs or finished within a day is as
  // fresh as a new one (Glacier prepares inventories about daily).
  JobRecord StartOrAdoptInventory() {
    std::optional<JobInfo> best;
    for (const JobInfo& j : vault_.ListJobs())
      if (j.kind == JobKind::kInventory && j.status != JobStatus::kFailed &&
          j.created >= Now() - kDay && !state_.FindJob(j.id) &&
          (!best || j.created > best->created))
        best = j;
    if (best)
      return Record(best->id, best->created, "using the vault's recent inventory job",
                    /*adopted=*/true);
    std::string id = vault_.StartInventory();
    state_.SetMeta("last_inventory_requested", std::to_string(Now()));
    return Record(id, Now(), "requested an inventory of the vault");
  }

  // The listing into the inventory cache; what we recover becomes "here" later.
  void Ingest(const Inventory& inv) {
    const int64_t date = inv.date ? inv.date : Now();
    Transaction t(state_.db());
    for (const ArchiveInfo& a : inv.archives) {
      if (state_.FindArchive(a.id)) {
        state_.MarkSeen(a.id, date);
        continue;
      }
      state_.PutArchive(UpstreamArchive(a, ParseDescription(a.description), date));
    }
    state_.SetMeta("last_inventory_date", std::to_string(date));
    t.Commit();
  }

  // ---- 2. whose archives. False when the inventory lists none of them and may be
  // too old to (`covers` false); throws when even a current one lists none.
  bool ChooseHost(bool covers) {
    std::set<std::string> hosts;
    for (const VaultArchive& a : state_.Archives())
      if (auto d = ParseDescription(a.description)) hosts.insert(d->host);
    r_.hosts.assign(hosts.begin(), hosts.end());
    std::string list;
    for (const auto& h : hosts) list += (list.empty() ? "" : ", ") + h;
    std::string host = opts_.host.empty() ? state_.GetMeta(kRecoverHost).value_or("") : opts_.host;
    if (!covers && (host.empty() ? hosts.empty() : !hosts.count(host))) return false;
    if (!host.empty() && !hosts.count(host))
      throw Error(Code::kNotFound, "the vault inventory of " + FormatIsoUtc(*r_.inventory_date) +
                                       " lists no archives of host " + host +
                                       (hosts.empty() ? "" : "; it holds archives of: " + list));
    if (host.empty() && hosts.size() > 1)
      throw Error(Code::kInvalidArgument, "the vault holds the archives of several hosts (" + list +
                                              "): choose one with --host NAME");
    if (host.empty() && hosts.empty()) {
      if (!caps_.immediate_listing) {
        // Uploads show up in Glacier's inventory a day or so later.
        Note("vault", "the inventory of " + FormatIsoUtc(*r_.inventory_date) +
                          " lists no glacier-backup archives yet");
      }
      throw Error(Code::kNotFound,
                  "the vault inventory of " + FormatIsoUtc(*r_.inventory_date) +
                      " lists no glacier-backup archives: nothing to recover" +
                      (caps_.immediate_listing ? ""
                                               : " (archives uploaded within about a day "
                                                 "before it are not listed yet)"));
    }
    if (host.empty()) host = *hosts.begin();
    r_.host = host;
    state_.SetMeta(kRecoverHost, host);
    return true;
  }

  std::optional<ParsedDescription> Ours(const VaultArchive& a, const char* kind) {
    auto d = ParseDescription(a.description);
    if (!d || d->host != r_.host || d->kind != kind) return std::nullopt;
    return d;
  }

  // Starts or continues one retrieval; on vaults whose jobs do not lag a job
  // started now is finished at once, so it is advanced twice.
  bool Retrieved(const RetrievalRequest& req) {
    r_.retrievals++;
    r_.retrieval_bytes += req.range.length;
    if (!opts_.start_retrievals && !RetrievalRequested(ws_, req)) {
      ++r_.unstarted;
      return false;
    }
    RetrievalState st = AdvanceRetrieval(ws_, vault_, req, progress_, clock_);
    if (st == RetrievalState::kWaiting && !caps_.jobs_lag)
      st = AdvanceRetrieval(ws_, vault_, req, progress_, clock_);
    return st == RetrievalState::kDownloaded;
  }

  // ---- 3. bundles: the catalog part of each.
  void RecoverBundles() {
    std::map<int64_t, std::vector<std::pair<VaultArchive, ParsedDescription>>> by_set;
    for (const VaultArchive& a : state_.Archives())
      if (auto d = Ours(a, "bundle")) by_set[d->set_id].emplace_back(a, *d);
    for (auto& [set_id, copies] : by_set) {
      ++r_.bundles;
      // Prefer the copy already recovered, else the newest.
      std::sort(copies.begin(), copies.end(), [](const auto& x, const auto& y) {
        if ((x.first.origin == "here") != (y.first.origin == "here"))
          return x.first.origin == "here";
        return x.first.created > y.first.created;
      });
      for (size_t i = 1; i < copies.size(); ++i)
        if (copies[i].first.origin != "here")
          Note("archive " + copies[i].first.archive_id,
               "a second copy of set " + std::to_string(set_id) + "; left to sync");
      RecoverBundle(copies.front().first, copies.front().second);
    }
  }

  void RecoverBundle(const VaultArchive& a, const ParsedDescription& d) {
    const std::string where = "set " + std::to_string(d.set_id);
    if (auto set = ws_.catalog().GetSet(d.set_id)) {
      if (a.origin == "here") return;  // recovered earlier
      std::vector<BackupRecord> backups = ws_.catalog().BackupsOfSet(d.set_id);
      if (!set->pruned && !backups.empty() && backups.front().time == d.first_time) {
        RecordBundle(a, d);  // its rows arrived, the record of the archive did not
        return;
      }
      Problem(where, "the vault's set " + std::to_string(d.set_id) + " (from " +
                         FormatIsoUtc(d.first_time) +
                         ") is not the catalog's set of that number; kept the catalog's, the "
                         "vault's was not recovered");
      return;
    }
    if (!d.catalog_offset || !d.catalog_length || *d.catalog_offset + *d.catalog_length > a.size) {
      Problem("archive " + a.archive_id, "its description records no usable catalog part");
      return;
    }
    // A signed bundle's catalog copy is followed by its signature member.
    const bool with_signature = d.format >= kSignedDescriptionFormat;
    const uint64_t signature_bytes =
        with_signature ? UstarPadding(*d.catalog_length) + kSignatureMemberSize : 0;
    if (*d.catalog_offset + *d.catalog_length + signature_bytes > a.size) {
      Problem("archive " + a.archive_id, "its description records no usable catalog part");
      return;
    }
    RetrievalRequest req;
    req.archive_id = a.archive_id;
    req.range = AlignRange(*d.catalog_offset, *d.catalog_length + signature_bytes,
                           caps_.retrieval_range_alignment, a.size);
    req.tier = tier_;
    req.purpose = "recover";
    if (!Retrieved(req)) {
      r_.sets_waiting.push_back(d.set_id);
      return;
    }
    const std::string staged = StagingPath(ws_, req);
    const uint64_t at = *d.catalog_offset - req.range.offset;
    try {
      // Who wrote it, before a byte of it is decrypted or its set number believed.
      std::optional<std::string> signature;
      if (with_signature)
        signature = ReadSignatureBlock(
            staged, at + *d.catalog_length + UstarPadding(*d.catalog_length) + 512);
      CheckSignature(cfg_, SignedThing::CatalogCopy(d.set_id), signature, staged, progress_, at,
                     *d.catalog_length);
      FileSource head(staged, at, *d.catalog_length);
      int64_t copy_set = PeekCatalogCopySet(cfg_, head);
      if (copy_set != d.set_id)
        throw Error(Code::kCorruption, "it holds set " + std::to_string(copy_set) + ", not " +
                                           std::to_string(d.set_id));
      FileSource copy(staged, at, *d.catalog_length);
      ReadCatalogCopy(cfg_, ws_.catalog(), copy);
    } catch (const std::bad_alloc&) {
      Fs().Unlink(staged.c_str());
      Problem(where,
              "the catalog part of archive " + a.archive_id +
                  " asks for more memory than there is (damaged or forged); not recovered",
              true);
      return;
    } catch (const Error& e) {
      if (e.code() == Code::kNoKey)
        throw Error(Code::kNoKey, "the identity " + cfg_.identity_file +
                                      " cannot read the catalog copy of " + where + " (archive " +
                                      a.archive_id + "): " + e.what());
      Fs().Unlink(staged.c_str());
      Problem(where,
              "the catalog part of archive " + a.archive_id + " is damaged (" + e.what() +
                  "); run recover again to retrieve it again",
              e.code() == Code::kCorruption);
      return;
    }
    Fs().Unlink(staged.c_str());
    if (!ws_.catalog().GetSet(d.set_id)->completed) {
      Catalog::Writer w(ws_.catalog());
      w.CompleteSet(d.set_id, d.last_time);
      w.Commit();
    }
    RecordBundle(a, d);
    r_.sets_recovered.push_back(d.set_id);
    Note(where, "recovered from archive " + a.archive_id);
  }

  void RecordUpload(const VaultArchive& a, const ParsedDescription& d) {
    if (auto u = state_.FindUpload(d.set_id, d.backup_name); u && u->state == "done") return;
    for (const UploadRecord& u : state_.Uploads())
      if (u.token == d.token) return;
    UploadRecord u;
    u.set_id = d.set_id;
    u.backup_name = d.backup_name;
    u.token = d.token;
    u.state = "done";
    u.description = a.description;
    u.size = a.size;
    u.tree_hash = a.tree_hash;
    u.attempts = 1;
    u.started = a.created;
    u.archive_id = a.archive_id;
    state_.AddUpload(u);
  }

  void RecordBundle(const VaultArchive& a, const ParsedDescription& d) {
    Transaction t(state_.db());
    VaultArchive v = a;
    v.origin = "here";
    state_.PutArchive(v);
    RecordUpload(a, d);
    state_.MarkSetUploaded(d.set_id, a.created);
    t.Commit();
  }

  // ---- 4. upload = "each": one archive per backup; its rows are inside it.
  void RecoverSingles() {
    std::vector<ArchiveFile> downloaded;
    std::vector<std::string> staged;
    for (const VaultArchive& a : state_.Archives()) {
      auto d = Ours(a, "archive");
      if (!d) continue;
      ++r_.single_archives;
      auto an = ArchiveName::ParseFileName(d->backup_name);
      if (!an || an->set_id != d->set_id) {
        Problem("archive " + a.archive_id, "its description names no valid backup archive");
        continue;
      }
      if (a.origin != "here") {
        Transaction t(state_.db());
        VaultArchive v = a;
        v.origin = "here";
        state_.PutArchive(v);
        RecordUpload(a, *d);
        t.Commit();
      }
      if (ws_.catalog().FindBackupByName(d->backup_name)) continue;
      if (!opts_.include_archives) {
        r_.need_archives.push_back(d->backup_name);
        continue;
      }
      RetrievalRequest req;
      req.archive_id = a.archive_id;
      req.range = AlignRange(0, a.size, caps_.retrieval_range_alignment, a.size);
      req.tier = tier_;
      req.purpose = "recover";
      if (!Retrieved(req)) {
        r_.archives_waiting.push_back(d->backup_name);
        continue;
      }
      std::string path = StagingPath(ws_, req);
      if (Hex(TreeHashOfFile(path)) != a.tree_hash) {
        Fs().Unlink(path.c_str());
        Problem("archive " + a.archive_id,
                "the retrieved bytes of " + d->backup_name +
                    " do not match the vault's tree hash; run recover "
                    "again to retrieve it again",
                true);
        continue;
      }
      if (d->format >= kSignedDescriptionFormat) SplitSignature(path);
      staged.push_back(path);
      downloaded.push_back({path, d->backup_name, *an});
    }
    // A set's rows need all of its archives: import once every one is here.
    if (downloaded.empty() || !r_.archives_waiting.empty()) return;
    RecoverResult imported;
    for (int64_t set_id : ImportArchiveFiles(ws_, downloaded, progress_, imported)) {
      r_.sets_recovered.push_back(set_id);
      std::set<std::string> done;
      for (const UploadRecord& u : state_.Uploads("done")) done.insert(u.backup_name);
      bool all = ws_.catalog().GetSet(set_id)->completed.has_value();
      for (const BackupRecord& b : ws_.catalog().BackupsOfSet(set_id))
        all &= done.count(b.name) > 0;
      if (all) state_.MarkSetUploaded(set_id, Now());
    }
    r_.problems += imported.problems;
    r_.corrupt |= imported.corrupt;
    for (const std::string& p : staged) {
      Fs().Unlink(p.c_str());
      Fs().Unlink(SignaturePath(p).c_str());
    }
  }

  RecoverOptions opts_;
  Tier tier_ = Tier::kBulk;
  std::string tier_note_;
  RecoverResult r_;
};

}  // namespace

RecoverResult RunRecover(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
                         const RecoverOptions& opts) {
  return Recoverer(ws, vault, progress, clock, opts).Run();
}

}  // namespace gb
