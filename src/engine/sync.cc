#include "engine/sync.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "catalog/vault_state.h"
#include "core/crash_point.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/human_size.h"
#include "core/tree_hash.h"
#include "engine/archive_signature.h"
#include "engine/backlog_plan.h"
#include "engine/bundle.h"
#include "engine/lost_archives.h"
#include "engine/point.h"
#include "engine/prices.h"
#include "engine/vault_session.h"
#include "vault/inventory_reader.h"

namespace gb {
namespace {

constexpr int64_t kDay = 86400;

std::string NewToken() {
  std::random_device rd;
  Bytes b(12);
  for (auto& c : b) c = static_cast<uint8_t>(rd());
  return Hex(b);
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// Sizes in messages: two decimals, readable at any scale.
std::string Human(uint64_t b) { return HumanBytes(b, 2); }

class Syncer : VaultSession {
 public:
  Syncer(Workspace& ws, Vault& vault, Progress& progress, Clock& clock, const SyncOptions& opts)
      : VaultSession(ws, vault, progress, clock),
        opts_(opts),
        fleet_(cfg_, opts.fleet, clock, vault.Capabilities().per_archive_overhead_bytes) {
    min_days_ = cfg_.min_storage_days.value_or(caps_.min_storage_days);
    overhead_ = caps_.per_archive_overhead_bytes;
    now_ = clock_.NowSeconds();
    r_.dry_run = opts.dry_run;
    r_.size_limit = cfg_.size_limit;
  }

  ~Syncer() {
    for (const std::string& p : dry_run_copies_) {
      Fs().Unlink(p.c_str());
      Fs().Unlink(SignaturePath(p).c_str());
    }
  }

  // What the run did so far (all of it once Run returned).
  const SyncResult& result() const { return r_; }

  SyncResult Run() {
    // A dry run changes nothing, so nothing else would notice a vault that is not there.
    if (opts_.dry_run) vault_.Describe();
    PollJobs();
    RefreshInventory();
    FinishInterruptedPrunes();
    FinishInterruptedSupersede();
    in_vault_ = SetsInVault();
    used_ = VaultBilledBytes(ws_, overhead_);
    steady_ = EstimateSteadyState(ws_.catalog(), cfg_, min_days_, overhead_, prices_);
    r_.steady_state = DescribeSteadyState(steady_, cfg_.backlog);
    r_.cache_limit = EffectiveCacheLimit(cfg_, steady_);
    if (cfg_.backlog == "newest" && cfg_.upload == "bundle") {
      Supersede();  // what an earlier upload (or backlog = "all") made obsolete
      std::vector<UploadItem> ready = ReadyItems();
      // Sets kept by keep_local_sets though superseded stay cached, never uploaded.
      const int64_t newest = NewestSetInVault();
      std::erase_if(ready, [&](const UploadItem& i) { return i.set_id < newest; });
      // A cap that takes every set (or none): every ready set, oldest first, as "all".
      BeginFleet(ready);
      if (steady_.too_small)
        UploadNewest(ready);
      else
        UploadWhatFits(ready, /*quiet=*/true);
      fleet_.End();
      Supersede();
      FreeLocalCache();
      Summarize();
      CheckCacheLimit(ready);
      CheckStaleness();
      return r_;
    }
    std::vector<UploadItem> ready = ReadyItems();
    try {
      BeginFleet(ready);
      UploadWhatFits(ready);
      fleet_.End();
    } catch (const Error& e) {
      if (e.code() != Code::kNoSpace) throw;
      FreeLocalCache();  // what did go up leaves the cache all the same
      Summarize();
      CheckCacheLimit(ready);
      throw;
    }
    FreeLocalCache();
    Summarize();
    CheckCacheLimit(ready);
    return r_;
  }

 private:
  void Warn(const std::string& what, const std::string& msg) {
    ++r_.warnings;
    progress_.Notice(what, msg, true);
  }
  void Note(const std::string& what, const std::string& msg) { progress_.Notice(what, msg, false); }

  // 1. Jobs.
  void PollJobs() {
    for (JobRecord j : state_.Jobs(JobRecordStatus::kInProgress)) {
      ++r_.jobs_checked;
      JobInfo info;
      try {
        info = vault_.DescribeJob(j.job_id);
      } catch (const Error& e) {
        if (e.code() != Code::kNotFound) throw;
        j.status = JobRecordStatus::kExpired;
        j.message = "the vault no longer knows this job";
        Save(j);
        Warn("job " + j.job_id, "expired before its output was read; it will be requested again");
        continue;
      }
      if (info.status == JobStatus::kInProgress) continue;
      j.completed = info.completed.value_or(now_);
      if (info.status == JobStatus::kFailed) {
        j.status = JobRecordStatus::kFailed;
        j.message = info.status_message;
        Save(j);
        Warn("job " + j.job_id, "failed: " + info.status_message + "; it will be retried");
        continue;
      }
      if (j.kind != JobKind::kInventory) {
        j.status = JobRecordStatus::kSucceeded;  // a restore reads retrieval output
        Save(j);
        continue;
      }
      Inventory inv;
      try {
        inv = ReadInventory(vault_, j.job_id);
      } catch (const Error& e) {
        if (e.code() != Code::kNotFound) throw;
        j.status = JobRecordStatus::kExpired;
        Save(j);
        Warn("job " + j.job_id, "inventory output expired before it was read; requesting again");
        continue;
      }
      Reconcile(inv);
      j.status = JobRecordStatus::kDone;
      Save(j);
    }
  }

  void Save(const JobRecord& j) {
    if (!opts_.dry_run) state_.PutJob(j);
  }

  // 2. Inventory.
  void RefreshInventory() {
    if (!caps_.jobs_lag && caps_.immediate_listing) {
      std::string id = vault_.StartInventory();
      if (opts_.dry_run && id.rfind("dry-run", 0) == 0) return;
      Reconcile(ReadInventory(vault_, id));
      return;
    }
    int64_t last_date = std::stoll(state_.GetMeta("last_inventory_date").value_or("0"));
    int64_t last_req = std::stoll(state_.GetMeta("last_inventory_requested").value_or("0"));
    bool pending = false;
    for (const auto& j : state_.Jobs(JobRecordStatus::kInProgress))
      pending |= j.kind == JobKind::kInventory;
    if (pending || now_ - last_date < cfg_.inventory_max_age_days * kDay ||
        now_ - last_req < cfg_.inventory_min_interval_days * kDay)
      return;
    r_.inventory_requested = true;
    if (opts_.dry_run) return;
    JobRecord j;
    j.job_id = vault_.StartInventory();
    j.kind = JobKind::kInventory;
    j.purpose = "sync";
    j.started = now_;
    state_.PutJob(j);
    state_.SetMeta("last_inventory_requested", std::to_string(now_));
    Note("vault", "requested a new inventory (job " + j.job_id + ")");
  }

  void Reconcile(const Inventory& inv) {
    ++r_.inventories_reconciled;
    const int64_t date = inv.date ? inv.date : now_;
    const bool immediate = caps_.immediate_listing;
    std::set<std::string> listed;
    std::map<std::string, UploadRecord> by_token;
    for (const auto& u : state_.Uploads()) by_token[u.token] = u;
    Transaction t(state_.db());
    for (const ArchiveInfo& a : inv.archives) {
      listed.insert(a.id);
      if (auto known = state_.FindArchive(a.id)) {
        state_.MarkSeen(a.id, date);
        if (known->deleted_here && *known->deleted_here < date) {
          Warn("archive " + a.id, "still listed after it was deleted; deleting again");
          if (!opts_.dry_run) vault_.Delete(a.id);
        }
        continue;
      }
      const std::optional<ParsedDescription> desc = ParseDescription(a.description);
      VaultArchive v = UpstreamArchive(a, desc, date);
      auto up = desc ? by_token.find(desc->token) : by_token.end();
      // Only our own upload's very description: never another host's archive (or
      // an unknown one) taken for a copy of ours.
      if (up != by_token.end() && up->second.description == a.description) {
        UploadRecord& u = up->second;
        if (u.state != "done" && a.size == u.size && a.tree_hash == u.tree_hash) {
          // An upload whose confirmation was lost: adopt it instead of uploading again.
          u.state = "done";
          u.archive_id = a.id;
          v.origin = "here";
          if (!opts_.dry_run) {
            state_.UpdateUpload(u);
            state_.PutArchive(v);
            if (u.backup_name.empty()) state_.MarkSetUploaded(u.set_id, now_);
          }
          Note("archive " + a.id, "adopted the interrupted upload of set " +
                                      std::to_string(u.set_id) + " found in the vault");
          continue;
        }
        // A second copy left by a retried upload: account for it and remove it.
        Warn("archive " + a.id, "duplicate of set " + std::to_string(u.set_id) +
                                    " left by an interrupted upload; deleting it");
        if (!opts_.dry_run) {
          vault_.Delete(a.id);
          v.deleted_here = now_;
          state_.PutArchive(v);
        }
        continue;
      }
      if (!opts_.dry_run) state_.PutArchive(v);
      if (desc)
        Warn("archive " + a.id, "set " + std::to_string(desc->set_id) + " from host " + desc->host +
                                    " is in the vault but not in this catalog");
      else
        Warn("archive " + a.id,
             "in the vault but not written by glacier-backup; counted in the vault size");
    }
    for (const VaultArchive& a : state_.Archives()) {
      if (listed.count(a.archive_id)) continue;
      // Lagging inventories miss what was uploaded after (or shortly before) their date.
      bool expected = immediate ? true : a.created + kDay < date;
      if (expected)
        Warn("archive " + a.archive_id,
             (a.set_id ? "of set " + std::to_string(*a.set_id) + " " : std::string()) +
                 "is missing from the vault inventory of " + FormatIsoUtc(date));
    }
    if (!opts_.dry_run) {
      state_.SetMeta("last_inventory_date", std::to_string(date));
      t.Commit();
    }
  }

  // 3. Space.
  std::vector<UploadItem> ReadyItems() {
    std::vector<UploadItem> items;
    if (cfg_.upload == "each") {
      std::set<std::string> done;
      for (const auto& u : state_.Uploads("done")) done.insert(u.backup_name);
      for (const BackupRecord& b : ws_.catalog().Backups())
        if (!done.count(b.name) && PathExists(ws_.ArchivePath(b.name)))
          items.push_back(PrepareSingle(ws_, b));
      return items;
    }
    for (const SetRecord& s : ws_.catalog().Sets()) {
      if (!s.completed || s.uploaded || s.pruned || s.backups == 0) continue;
      if (std::vector<std::string> lost = LostArchives(ws_, s); !lost.empty()) {
        std::string advice = LostArchivesAdvice(s.id, lost);
        Warn("set " + std::to_string(s.id), advice);
        r_.unuploadable_sets.push_back(s.id);
        r_.unuploadable.push_back("set " + std::to_string(s.id) + ": " + advice);
        continue;
      }
      // A dry run needs the bundle's size, hence its catalog copy, but leaves no trace.
      std::string copy = CatalogCopyPath(ws_, s.id);
      if (opts_.dry_run && !PathExists(copy)) dry_run_copies_.push_back(copy);
      items.push_back(PrepareBundle(ws_, s.id));
    }
    return items;
  }

  // A run killed inside Prune() leaves a set with archives deleted from the vault but
  // not marked pruned, so its backups still look restorable (and the set "ready to
  // upload"). Deleting one of our archives happens only in Prune(): finish the job.
  void FinishInterruptedPrunes() {
    std::set<int64_t> started;
    for (const VaultArchive& a : state_.Archives(/*include_deleted=*/true))
      if (a.set_id && a.origin == "here" && a.deleted_here) started.insert(*a.set_id);
    for (int64_t id : started) {
      std::optional<SetRecord> set = ws_.catalog().GetSet(id);
      if (!set || set->pruned) continue;
      VaultSet rest{id, {}, 0, 0};
      for (const VaultArchive& a : state_.Archives())
        if (a.set_id == id && a.origin == "here") rest.archives.push_back(a);
      Note("set " + std::to_string(id),
           "its deletion from the vault was interrupted; finishing it");
      Prune(rest);
    }
  }

  struct VaultSet {
    int64_t set_id;
    std::vector<VaultArchive> archives;
    int64_t newest_created = 0;
    uint64_t bytes = 0;
  };

  std::vector<VaultSet> SetsInVault() {
    std::map<int64_t, VaultSet> sets;
    for (const VaultArchive& a : state_.Archives()) {
      if (!a.set_id || a.origin != "here") continue;
      VaultSet& s = sets[*a.set_id];
      s.set_id = *a.set_id;
      s.archives.push_back(a);
      s.newest_created = std::max(s.newest_created, a.created);
      s.bytes += a.size + overhead_;
    }
    std::vector<VaultSet> out;
    for (auto& [id, s] : sets) out.push_back(std::move(s));
    return out;
  }

  // Makes room for `need` more bytes under the cap by deleting whole sets, oldest first,
  // never the newest set in the vault, only those past the minimum storage duration.
  // Planned before anything is deleted: when the room cannot be made, nothing is deleted
  // (the sets would be lost for an upload that does not happen) and the reason is returned.
  std::optional<std::string> MakeRoom(uint64_t need) {
    // Both caps: this host's own, and (once read) the fleet's.
    auto fits = [&](uint64_t own) {
      return (cfg_.size_limit == 0 || own + need <= cfg_.size_limit) &&
             (!fleet_begun_ || fleet_.Fits(own, need));
    };
    if (fits(used_)) return std::nullopt;
    size_t victims = 0;
    uint64_t after = used_;
    for (; victims + 1 < in_vault_.size() && !fits(after); ++victims) {
      const VaultSet& s = in_vault_[victims];
      if (now_ - s.newest_created < min_days_ * kDay) break;
      after -= std::min(after, s.bytes);
    }
    if (fits(after)) {
      std::vector<VaultSet> doomed(in_vault_.begin(), in_vault_.begin() + victims);
      for (const VaultSet& s : doomed) Prune(s);
      return std::nullopt;
    }
    const bool own_cap = cfg_.size_limit != 0 && after + need > cfg_.size_limit;
    const uint64_t cap = own_cap ? cfg_.size_limit : cfg_.fleet_size_limit;
    std::string when =
        need > cap ? "it is larger than the whole cap"
        : victims + 1 < in_vault_.size()
            ? "set " + std::to_string(in_vault_[victims].set_id) + " becomes deletable on " +
                  FormatIsoUtc(in_vault_[victims].newest_created + min_days_ * kDay).substr(0, 10) +
                  " (minimum storage " + std::to_string(min_days_) + " days)"
            : "no older set of this host can be deleted (the newest set is always kept)";
    if (!own_cap) {
      refused_by_fleet_ = true;
      return fleet_.Refusal(after, need) + "; " + when;
    }
    uint64_t free = cfg_.size_limit > after ? cfg_.size_limit - after : 0;
    return "vault size cap " + Human(cfg_.size_limit) + ": need " + Human(need) + " but only " +
           Human(free) + " can be made free (" + Human(after + need - cfg_.size_limit) +
           " missing); " + when;
  }

  // Before uploads that count against [fleet] size_limit: the lease, then the other
  // hosts' total (nothing when every ready item is already in the vault).
  void BeginFleet(const std::vector<UploadItem>& ready) {
    if (!fleet_.active()) return;
    if (std::none_of(ready.begin(), ready.end(),
                     [&](const UploadItem& i) { return !AlreadyUploaded(i); }))
      return;
    fleet_.Begin(state_.Archives(), opts_.dry_run);
    fleet_begun_ = true;
  }

  // With nothing to upload, room for the next set (the last one's size + 10%) is made
  // ahead of time, so the next run's upload does not wait on deletions.
  void MakeRoomAhead() {
    if (in_vault_.empty()) return;
    if (std::optional<std::string> why = MakeRoom(in_vault_.back().bytes * 11 / 10))
      Warn("vault", *why + "; there is nothing to upload yet");
  }

  // Uploads every ready item that fits, oldest first; one that cannot fit does not keep
  // later ones out. Throws kNoSpace naming what was left behind; `quiet` (backlog =
  // "newest"): says so in one line instead and leaves the verdict to CheckStaleness.
  void UploadWhatFits(std::vector<UploadItem>& ready, bool quiet = false) {
    if (ready.empty()) return MakeRoomAhead();
    std::vector<std::string> refused;
    size_t uploaded = 0;
    for (UploadItem& item : ready) {
      std::string label = Label(item);
      if (!AlreadyUploaded(item)) {
        if (std::optional<std::string> why = MakeRoom(item.source->Size() + overhead_)) {
          if (quiet) {
            waiting_ = true;
            if (r_.backlog_line.empty()) r_.backlog_line = label + " waits in the cache: " + *why;
            refused.push_back(label);
            continue;
          }
          Warn(label, "not uploaded: " + *why);
          refused.push_back(label + " (" + *why + ")");
          continue;
        }
      }
      Upload(item, label);
      ++uploaded;
    }
    if (refused.empty()) return;
    if (quiet) return Note("backlog", r_.backlog_line);
    std::string msg = uploaded == 0 ? "nothing was uploaded"
                                    : std::to_string(uploaded) + " of " +
                                          std::to_string(ready.size()) + " were uploaded";
    throw Error(Code::kNoSpace, CapName() + ": " + msg +
                                    "; left in the local cache: " + Join(refused, ", ") + ". " +
                                    RaiseAdvice() + " or wait for older sets to become deletable");
  }

  // backlog = "newest": the newest ready set goes up when the cap's pacing and room
  // allow; otherwise one line says what waits and why.
  void UploadNewest(std::vector<UploadItem>& ready) {
    // Paced uploads find their room when they need it: deleting ahead would only drop
    // a restorable set early (and warn every run).
    if (ready.empty()) return steady_.too_small ? void() : MakeRoomAhead();
    UploadItem& item = ready.back();
    std::string label = Label(item);
    std::optional<std::string> why;
    if (!AlreadyUploaded(item)) {
      if (UploadMustWait(steady_, LastUpload(), now_)) {
        why = "under the cap the vault takes one set every " +
              std::to_string(steady_.upload_interval_days) + " days, the next on " +
              FormatIsoUtc(*LastUpload() + steady_.upload_interval_days * kDay).substr(0, 10);
      } else {
        why = MakeRoom(item.source->Size() + overhead_);
      }
    }
    if (why) {
      waiting_ = true;
      r_.backlog_line = std::to_string(ready.size()) +
                        " complete set(s) wait in the cache (newest " + label + "): " + *why;
      Note("backlog", r_.backlog_line);
      return;
    }
    Upload(item, label);
  }

  std::optional<int64_t> LastUpload() const {
    std::optional<int64_t> last;
    for (const VaultSet& v : in_vault_) last = std::max(last.value_or(0), v.newest_created);
    return last;
  }

  // The newest set recorded uploaded and not pruned (in a dry run: counted in the vault).
  int64_t NewestSetInVault() {
    int64_t newest = -1;
    if (opts_.dry_run) {
      for (const VaultSet& v : in_vault_) newest = std::max(newest, v.set_id);
    } else {
      for (const SetRecord& s : ws_.catalog().Sets())
        if (s.uploaded && !s.pruned) newest = std::max(newest, s.id);
    }
    return newest;
  }

  // backlog = "newest": complete sets older than the newest set safely in the vault are
  // superseded: never uploaded, and dropped from the cache and the catalog once outside
  // the newest keep_local_sets sets. Only a set recorded uploaded supersedes, and the
  // sets being dropped are recorded first, so a run killed in between is finished by the
  // next (FinishInterruptedSupersede) and nothing a newer vault copy does not replace is
  // lost.
  void Supersede() {
    const int64_t newest = NewestSetInVault();
    std::vector<SetRecord> sets = ws_.catalog().Sets();
    std::set<int64_t> keep;
    for (auto it = sets.rbegin();
         it != sets.rend() && static_cast<int>(keep.size()) < cfg_.keep_local_sets; ++it)
      keep.insert(it->id);
    std::vector<int64_t> doomed;
    for (const SetRecord& s : sets)
      if (s.completed && !s.uploaded && !s.pruned && s.id < newest && !keep.count(s.id) &&
          std::find(r_.superseded_sets.begin(), r_.superseded_sets.end(), s.id) ==
              r_.superseded_sets.end() &&  // a dry run's second pass
          LostArchives(ws_, s).empty())    // a broken set waits for `sync --drop-set`
        doomed.push_back(s.id);
    if (doomed.empty()) return;
    std::vector<std::string> names;
    for (int64_t id : doomed) names.push_back(std::to_string(id));
    if (!opts_.dry_run) {
      state_.SetMeta("superseding", Join(names, ","));
      DropSupersededSets(doomed);
    }
    r_.superseded_sets.insert(r_.superseded_sets.end(), doomed.begin(), doomed.end());
    Note("backlog", std::string(names.size() == 1 ? "set " : "sets ") + Join(names, ", ") +
                        (opts_.dry_run ? " would be" : "") + " superseded by set " +
                        std::to_string(newest) +
                        " (in the vault): dropped from the upload queue and the cache");
  }

  // REQUIRES: the ids are recorded in meta "superseding". Idempotent.
  void DropSupersededSets(const std::vector<int64_t>& ids) {
    for (int64_t id : ids) {
      for (const BackupRecord& b : ws_.catalog().BackupsOfSet(id))
        Fs().Unlink(ws_.ArchivePath(b.name).c_str());
      Fs().Unlink(CatalogCopyPath(ws_, id).c_str());
    }
    CrashPoint("sync-mid-supersede");
    Transaction t(state_.db());
    for (int64_t id : ids) {
      state_.MarkSetPruned(id, now_);
      state_.SetMeta(SetFateKey(id), "superseded by a newer set");
    }
    state_.SetMeta("superseding", "");
    t.Commit();
  }

  // A run killed while dropping superseded sets left them recorded: finish the job,
  // whatever backlog is now (their archives may already be gone from the cache).
  void FinishInterruptedSupersede() {
    std::string ids = state_.GetMeta("superseding").value_or("");
    if (ids.empty() || opts_.dry_run) return;
    std::vector<int64_t> doomed;
    for (size_t at = 0; at < ids.size();) {
      size_t comma = std::min(ids.find(',', at), ids.size());
      doomed.push_back(std::stoll(ids.substr(at, comma - at)));
      at = comma + 1;
    }
    Note("backlog", "dropping superseded set(s) " + ids + " was interrupted; finishing it");
    DropSupersededSets(doomed);
    r_.superseded_sets.insert(r_.superseded_sets.end(), doomed.begin(), doomed.end());
  }

  // Fills in what the vault's newest backup is and how full the cache is.
  void Summarize() {
    r_.vault_bytes = used_;
    r_.monthly_storage_cost = StorageCostPerMonth(prices_, r_.vault_bytes);
    int64_t newest = -1;
    for (const VaultSet& v : in_vault_) newest = std::max(newest, v.set_id);
    if (newest >= 0) {
      std::vector<BackupRecord> bs = ws_.catalog().BackupsOfSet(newest);
      if (!bs.empty()) r_.newest_vault_backup = bs.back().time;
    }
    r_.cache_bytes = ws_.CachedArchiveBytes();
  }

  // Nothing went up and the cache is full: stop before the disk fills.
  void CheckCacheLimit(const std::vector<UploadItem>& ready) {
    if (r_.cache_limit == 0 || r_.cache_bytes < r_.cache_limit || ready.empty() ||
        !r_.uploaded.empty())
      return;
    throw Error(Code::kNoSpace,
                "local cache " + cfg_.cache_dir + " holds " + Human(r_.cache_bytes) +
                    ", at its limit [backup] cache_limit = " + Human(r_.cache_limit) +
                    ", and nothing was uploaded: the vault size cap is too small for the backup "
                    "cadence. " +
                    (r_.steady_state.empty() ? std::string() : r_.steady_state + " ") +
                    "Raise [vault] size_limit, back up less often, or raise cache_limit");
  }

  // Which cap kept a set out, and what to raise.
  std::string CapName() const { return refused_by_fleet_ ? "fleet size cap" : "vault size cap"; }
  std::string RaiseAdvice() const {
    return refused_by_fleet_ ? "Raise [fleet] size_limit, or make room on the hosts holding the "
                               "most (status --fleet)"
                             : "Raise [vault] size_limit";
  }

  // backlog = "newest": a run that uploads nothing fails only once the vault's newest
  // backup is older than max_staleness_days (or the vault has none).
  void CheckStaleness() {
    if (!waiting_ || !r_.uploaded.empty()) return;
    std::string age;
    if (r_.newest_vault_backup) {
      int64_t days = (now_ - *r_.newest_vault_backup) / kDay;
      if (days <= cfg_.max_staleness_days) return;
      age = "the newest backup in the vault is from " +
            FormatIsoUtc(*r_.newest_vault_backup).substr(0, 10) + ", " + std::to_string(days) +
            " days old ([vault] max_staleness_days = " + std::to_string(cfg_.max_staleness_days) +
            ")";
    } else {
      age = "the vault holds no backup yet";
    }
    throw Error(Code::kNoSpace, CapName() + ": nothing was uploaded and " + age + "; " +
                                    r_.backlog_line + ". " + RaiseAdvice() +
                                    (refused_by_fleet_ ? "" : " (status shows what would do)"));
  }

  void Prune(const VaultSet& s) {
    for (const VaultArchive& a : s.archives) {
      double stored_days = static_cast<double>(now_ - a.created) / kDay;
      r_.early_deletion_cost += EarlyDeletionCost(prices_, a.size + overhead_, stored_days);
      r_.pruned_bytes += a.size + overhead_;
      if (opts_.dry_run) continue;
      CrashPoint("sync-before-prune-delete");
      vault_.Delete(a.archive_id);
      state_.MarkDeleted(a.archive_id, now_);
      CrashPoint("sync-after-prune-delete");
    }
    r_.pruned_sets.push_back(s.set_id);
    used_ -= std::min(used_, s.bytes);
    std::erase_if(in_vault_, [&](const VaultSet& v) { return v.set_id == s.set_id; });
    Note("set " + std::to_string(s.set_id),
         opts_.dry_run ? "would be deleted from the vault" : "deleted from the vault to make room");
    if (opts_.dry_run) return;
    for (const BackupRecord& b : ws_.catalog().BackupsOfSet(s.set_id)) {
      Fs().Unlink(ws_.ArchivePath(b.name).c_str());
      Fs().Unlink(SignaturePath(ws_.ArchivePath(b.name)).c_str());
    }
    state_.MarkSetPruned(s.set_id, now_);
  }

  // 4. Upload.
  std::string Label(const UploadItem& item) {
    return item.backup_name.empty() ? "set " + std::to_string(item.set_id)
                                    : BackupId(*ws_.catalog().FindBackupByName(item.backup_name));
  }

  // Adopted during reconcile: an earlier run's upload the vault turned out to hold.
  bool AlreadyUploaded(const UploadItem& item) {
    std::optional<UploadRecord> rec = state_.FindUpload(item.set_id, item.backup_name);
    return rec && rec->state == "done";
  }

  // Counts an upload (real or dry) in the vault's size and its set list.
  void Account(int64_t set_id, uint64_t size) {
    used_ += size + overhead_;
    auto it = std::find_if(in_vault_.begin(), in_vault_.end(),
                           [&](const VaultSet& v) { return v.set_id == set_id; });
    if (it == in_vault_.end()) it = in_vault_.insert(in_vault_.end(), VaultSet{set_id, {}, 0, 0});
    it->newest_created = now_;
    it->bytes += size + overhead_;
  }

  void Upload(UploadItem& item, const std::string& label) {
    if (AlreadyUploaded(item)) return;
    uint64_t size = item.source->Size();
    r_.upload_cost += prices_.put_per_1000 / 1000.0;
    if (opts_.dry_run) {
      r_.uploaded.push_back(label);
      r_.uploaded_bytes += size;
      Account(item.set_id, size);
      return;
    }
    std::optional<UploadRecord> rec = state_.FindUpload(item.set_id, item.backup_name);
    progress_.Phase("uploading " + label, 1, size);
    // Every byte is hashed once more before upload: the tree hash we expect back.
    item.source->Rewind();
    std::string tree = Hex(TreeHashOfSource(*item.source));
    item.source->Rewind();
    if (!rec || rec->tree_hash != tree || rec->size != size) {
      UploadRecord u;
      u.set_id = item.set_id;
      u.backup_name = item.backup_name;
      u.token = NewToken();
      u.description = DescribeUpload(item, cfg_.host, u.token);
      u.size = size;
      u.tree_hash = tree;
      u.started = now_;
      u.id = state_.AddUpload(u);
      rec = u;
    }
    rec->attempts++;
    state_.UpdateUpload(*rec);
    fleet_.Renew();
    CrashPoint("sync-before-upload");
    UploadResult res = vault_.Upload(*item.source, rec->description);
    CrashPoint("sync-after-upload");
    if (res.tree_hash != tree || res.size != size) {
      vault_.Delete(res.archive_id);
      throw Error(Code::kCorruption, "the vault stored " + label +
                                         " with a different tree hash than was sent; the copy "
                                         "was deleted and will be uploaded again next run");
    }
    {
      Transaction t(state_.db());
      rec->state = "done";
      rec->archive_id = res.archive_id;
      state_.UpdateUpload(*rec);
      VaultArchive a;
      a.archive_id = res.archive_id;
      a.set_id = item.set_id;
      a.backup_name = item.backup_name;
      a.description = rec->description;
      a.size = size;
      a.tree_hash = tree;
      a.created = now_;
      a.origin = "here";
      if (item.backup_name.empty()) {
        a.catalog_offset = item.catalog_offset;
        a.catalog_length = item.catalog_length;
        state_.MarkSetUploaded(item.set_id, now_);
      }
      state_.PutArchive(a);
      if (!item.backup_name.empty()) MarkSetUploadedIfAllDone(item.set_id);
      t.Commit();
    }
    CrashPoint("sync-after-record");
    Account(item.set_id, size);
    r_.uploaded.push_back(label);
    r_.uploaded_bytes += size;
    Note(label, "uploaded (" + Human(size) + ", archive " + res.archive_id + ")");
  }

  void MarkSetUploadedIfAllDone(int64_t set_id) {
    auto s = ws_.catalog().GetSet(set_id);
    if (!s || !s->completed) return;
    std::set<std::string> done;
    for (const auto& u : state_.Uploads("done")) done.insert(u.backup_name);
    for (const auto& b : ws_.catalog().BackupsOfSet(set_id))
      if (!done.count(b.name)) return;
    state_.MarkSetUploaded(set_id, now_);
  }

  // Local archives of sets safely in the vault go, except the newest keep_local_sets sets.
  void FreeLocalCache() {
    if (opts_.dry_run) return;
    std::vector<SetRecord> sets = ws_.catalog().Sets();
    std::set<int64_t> keep;
    for (auto it = sets.rbegin();
         it != sets.rend() && static_cast<int>(keep.size()) < cfg_.keep_local_sets; ++it)
      keep.insert(it->id);
    std::set<std::string> uploaded_names;
    for (const auto& u : state_.Uploads("done"))
      if (!u.backup_name.empty()) uploaded_names.insert(u.backup_name);
    for (const SetRecord& s : sets) {
      if (keep.count(s.id)) continue;
      for (const BackupRecord& b : ws_.catalog().BackupsOfSet(s.id)) {
        if (!s.uploaded && !uploaded_names.count(b.name)) continue;
        std::string p = ws_.ArchivePath(b.name);
        if (Fs().Unlink(p.c_str()) == 0) Note(p, "removed from the cache (safely in the vault)");
        Fs().Unlink(SignaturePath(p).c_str());
      }
      if (s.uploaded) {
        Fs().Unlink(CatalogCopyPath(ws_, s.id).c_str());
        Fs().Unlink(SignaturePath(CatalogCopyPath(ws_, s.id)).c_str());
      }
    }
    CrashPoint("sync-after-local-delete");
  }

  SyncOptions opts_;
  int min_days_ = 0;
  uint64_t overhead_ = 0;
  int64_t now_ = 0;
  SyncResult r_;
  std::vector<VaultSet> in_vault_;  // our sets in the vault, oldest first, as this run changes it
  uint64_t used_ = 0;               // billed bytes of in_vault_
  std::vector<std::string> dry_run_copies_;  // catalog copies made for a dry run's sizes
  SteadyState steady_;                       // what the cap allows at this cadence
  bool waiting_ = false;                     // backlog = "newest": a ready set could not go up
  FleetCap fleet_;                           // [fleet] size_limit
  bool fleet_begun_ = false;                 // fleet_ knows the other hosts' total
  bool refused_by_fleet_ = false;            // the fleet's cap kept a set out
};

}  // namespace

uint64_t VaultBilledBytes(Workspace& ws, uint64_t overhead) {
  uint64_t total = 0;
  for (const VaultArchive& a : VaultState(ws.catalog()).Archives()) total += a.size + overhead;
  return total;
}

SyncResult RunSync(Workspace& ws, Vault& vault, Progress& progress, Clock& clock,
                   const SyncOptions& opts) {
  Syncer syncer(ws, vault, progress, clock, opts);
  try {
    return syncer.Run();
  } catch (const Error& e) {
    if (e.code() != Code::kNoSpace) throw;
    throw SyncNoSpaceError(e.what(), syncer.result());
  }
}

}  // namespace gb
