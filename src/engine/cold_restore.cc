#include "engine/cold_restore.h"

#include <map>

#include "archive/ustar.h"
#include "catalog/vault_state.h"
#include "core/crash_point.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "engine/archive_signature.h"
#include "engine/bundle.h"
#include "engine/point.h"
#include "engine/prices.h"

namespace gb {
namespace {

// Whether each file in the vault archive is followed by its signature.
bool HasSignatures(const VaultArchive& a) {
  auto d = ParseDescription(a.description);
  return d && d->format >= kSignedDescriptionFormat;
}

// Bytes between the end of an archive of `size` bytes and its signature's
// text, and the bytes its signature takes in all (see PrepareBundle and PrepareSingle).
uint64_t SignatureGap(bool bundle, uint64_t size) { return bundle ? UstarPadding(size) + 512 : 0; }
uint64_t SignatureSpan(bool bundle, uint64_t size) {
  return bundle ? UstarPadding(size) + kSignatureMemberSize : kMaxSignatureSize;
}

// Where each backup of a set sits inside its bundle (see PrepareBundle).
std::map<std::string, uint64_t> BundleOffsets(Catalog& catalog, const VaultArchive& bundle) {
  std::map<std::string, uint64_t> out;
  const uint64_t signature = HasSignatures(bundle) ? kSignatureMemberSize : 0;  // per file
  uint64_t off = bundle.catalog_offset.value_or(512) + bundle.catalog_length.value_or(0);
  off += UstarPadding(bundle.catalog_length.value_or(0)) + signature;
  for (const BackupRecord& b : catalog.BackupsOfSet(*bundle.set_id)) {
    off += 512;
    out[b.name] = off;
    off += b.archive_size + UstarPadding(b.archive_size) + signature;
  }
  return out;
}

std::string StagedArchive(Workspace& ws, const std::string& name) {
  return ChildPath(StagingDir(ws), name);
}

}  // namespace

ColdRestorePlan PlanColdRestore(Workspace& ws, Vault& vault, const RestoreOptions& opts,
                                Tier tier) {
  ColdRestorePlan plan;
  Catalog& catalog = ws.catalog();
  plan.point = ResolvePoint(catalog, opts.at);
  plan.needed = NeededArchives(catalog, opts);
  plan.tier = tier;
  PriceTable prices = PricesFor(ws.config());
  plan.storage_class = prices.storage_class;
  plan.typical_hours = prices.typical_hours[static_cast<int>(tier)];
  VaultCapabilities caps = vault.Capabilities();
  VaultState vs(catalog);
  std::vector<VaultArchive> archives = vs.Archives();
  std::map<std::string, ColdRestorePlan::Piece> pieces;  // by vault archive id
  // Archives already staged stay in their piece: a run killed between staging
  // two archives of one download must ask for the same range again (its job and
  // its download are found by the range), not a new, narrower one.
  for (const BackupRecord& b : plan.needed) {
    if (PathExists(ws.ArchivePath(b.name))) {
      plan.available.push_back(b.name);
      continue;
    }
    const VaultArchive* holder = nullptr;
    uint64_t offset = 0;
    bool with_signature = false;
    for (const VaultArchive& a : archives) {
      if (a.origin != "here" || !a.set_id || *a.set_id != b.set_id) continue;
      if (a.backup_name == b.name) {
        holder = &a;
        offset = 0;
        with_signature = HasSignatures(a);
        break;
      }
      if (a.backup_name.empty()) {
        auto offs = BundleOffsets(catalog, a);
        if (offs.count(b.name)) {
          holder = &a;
          offset = offs[b.name];
          with_signature = HasSignatures(a);
        }
      }
    }
    if (!holder)
      throw Error(Code::kNotFound, "archive " + b.name +
                                       " is neither in the local cache nor recorded in the vault "
                                       "(run `glacier-backup sync` or `glacier-backup recover`)");
    auto& piece = pieces[holder->archive_id];
    piece.request.archive_id = holder->archive_id;
    piece.archives.emplace_back(b, offset);
    piece.signed_archives = with_signature;
    piece.bundle = holder->backup_name.empty();
    // Grow the covering range (signatures included); aligned below.
    uint64_t lo = piece.archives.front().second, hi = 0;
    for (auto& [rec, off] : piece.archives) {
      lo = std::min(lo, off);
      hi = std::max(hi, off + rec.archive_size +
                            (with_signature ? SignatureSpan(piece.bundle, rec.archive_size) : 0));
    }
    piece.request.range = AlignRange(lo, hi - lo, caps.retrieval_range_alignment, holder->size);
  }
  // A retrieval started by an earlier run goes on at the tier it was started with,
  // whatever this run asks for: the plan shows that one.
  std::optional<Tier> started_tier;
  bool to_start = false, mixed = false;
  for (auto& [id, piece] : pieces) {
    bool staged = true;
    for (const auto& [b, off] : piece.archives) staged &= PathExists(StagedArchive(ws, b.name));
    if (staged) {
      for (const auto& [b, off] : piece.archives) plan.available.push_back(b.name);
      Fs().Unlink(StagingPath(ws, piece.request).c_str());  // left by a run killed after staging
      continue;
    }
    piece.request.tier = tier;
    piece.request.purpose = "restore " + BackupId(plan.point);
    const std::string part = StagingPath(ws, piece.request);
    std::optional<JobRecord> job = RecordedJob(ws, piece.request);
    if (job) {
      if (std::optional<Tier> t = ParseTier(job->tier)) piece.request.tier = *t;
      mixed |= started_tier && *started_tier != piece.request.tier;
      started_tier = piece.request.tier;
    }
    if (PathExists(part) && FileSource(part).Size() == piece.request.range.length) {
      piece.state = "downloaded";
    } else if (job || RetrievalRequested(ws, piece.request)) {
      piece.state = "in progress";
    } else {
      piece.state = "to start";
      to_start = true;
    }
    plan.retrieve_bytes += piece.request.range.length;
    plan.cost_usd += RetrievalCost(prices, piece.request.tier, piece.request.range.length, 1);
    plan.retrievals.push_back(std::move(piece));
  }
  if (started_tier && !to_start && !mixed) {
    plan.tier = *started_tier;
    plan.typical_hours = prices.typical_hours[static_cast<int>(plan.tier)];
  }
  return plan;
}

bool AdvanceColdRestore(Workspace& ws, Vault& vault, ColdRestorePlan& plan, Progress& progress,
                        Clock& clock) {
  bool all = true;
  for (auto& piece : plan.retrievals) {
    bool staged = true;
    for (auto& [b, off] : piece.archives) staged &= PathExists(StagedArchive(ws, b.name));
    if (staged) {
      piece.state = "staged";
      continue;
    }
    RetrievalState st = AdvanceRetrieval(ws, vault, piece.request, progress, clock);
    if (st != RetrievalState::kDownloaded) {
      piece.state = "in progress";
      all = false;
      continue;
    }
    // Cut the needed archives out of the download and check each one.
    const std::string part = StagingPath(ws, piece.request);
    for (auto& [b, off] : piece.archives) {
      std::string dest = StagedArchive(ws, b.name);
      if (PathExists(dest)) continue;
      FileSource src(part, off - piece.request.range.offset, b.archive_size);
      AtomicFile out(dest, 0600);
      HashingSink hs(&out.sink());
      Pump(src, hs);
      hs.Finish();
      if (hs.bytes() != b.archive_size || Hex(hs.digest()) != b.archive_sha256) {
        Fs().Unlink(part.c_str());
        throw Error(Code::kCorruption,
                    "the copy of " + b.name +
                        " retrieved from the vault does not match the "
                        "SHA-256 recorded when it was written (damaged or tampered); the download "
                        "was discarded and is fetched again on the next run");
      }
      // Its signature goes beside it; RunRestore checks it before reading it.
      if (piece.signed_archives)
        WriteFileAtomic(SignaturePath(dest),
                        ReadSignatureBlock(part, off - piece.request.range.offset + b.archive_size +
                                                     SignatureGap(piece.bundle, b.archive_size)),
                        0600);
      out.Commit();
      CrashPoint("restore-after-stage");
    }
    Fs().Unlink(part.c_str());
    piece.state = "staged";
  }
  return all;
}

void CleanStaging(Workspace& ws, const ColdRestorePlan& plan) {
  for (const auto& piece : plan.retrievals) Fs().Unlink(StagingPath(ws, piece.request).c_str());
  for (const BackupRecord& b : plan.needed) {
    Fs().Unlink(StagedArchive(ws, b.name).c_str());
    Fs().Unlink(SignaturePath(StagedArchive(ws, b.name)).c_str());
  }
}

}  // namespace gb
