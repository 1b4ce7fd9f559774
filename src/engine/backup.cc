#include "engine/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "archive/disk_metadata_reader.h"
#include "archive/manifest.h"
#include "archive/rsync_delta.h"
#include "archive/tar_writer.h"
#include "archive/zstd_stream.h"
#include "core/crash_point.h"
#include "core/entry_extras.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/human_size.h"
#include "core/sha256.h"
#include "engine/archive_name.h"
#include "engine/archive_signature.h"
#include "engine/backlog_plan.h"
#include "engine/command_source.h"
#include "engine/delta_backup.h"
#include "engine/encryption.h"
#include "engine/entry_spool.h"
#include "engine/file_prefetcher.h"
#include "engine/file_reader.h"
#include "engine/lost_archives.h"
#include "engine/metadata_read_ahead.h"
#include "engine/selector.h"
#include "engine/walker.h"

#ifndef GB_VERSION
#define GB_VERSION "0.1.0"
#endif

namespace gb {
namespace {

constexpr size_t kChunk = 1 << 20;
// File content read ahead of the archive writer, at most.
constexpr uint64_t kPrefetchBytes = 16 << 20;
// Threads reading small files ahead of the writer. They mostly wait on the
// disk, so more of them than cores keeps a cold disk busy; [backup] threads,
// when set, caps them (threads = 1: one read at a time).
constexpr int kPrefetchReaders = 8;
// Threads reading xattrs, ACLs and flags ahead of the walk in a full backup.
constexpr int kMetadataReaders = 3;

bool IsFileLike(EntryType t) { return t == EntryType::kFile || t == EntryType::kHardlink; }

// How a walked entry differs from the catalog's, judged from stat alone.
enum class Difference {
  kNone,
  kContent,   // store it again (a file: its data too)
  kMetadata,  // the owner or mode changed, or only the change time moved: an
              // xattr or ACL may have changed, for a file maybe not its content
};

Difference Compare(const Entry& now, const Entry& before, ChangeDetection mode) {
  bool now_file = IsFileLike(now.type), before_file = IsFileLike(before.type);
  if (now_file != before_file || (!now_file && now.type != before.type))
    return Difference::kContent;
  switch (now.type) {
    case EntryType::kSymlink:
      if (now.target != before.target || now.mtime != before.mtime) return Difference::kContent;
      break;
    case EntryType::kDir:
      if (now.mtime != before.mtime) return Difference::kContent;
      break;
    case EntryType::kFifo:  // its times move whenever data passes through
      break;
    case EntryType::kCharDevice:
    case EntryType::kBlockDevice:
      if (now.rdev != before.rdev) return Difference::kContent;
      break;
    default:
      if (now.size != before.size) return Difference::kContent;
      // With content detection the caller compares hashes.
      if (mode == ChangeDetection::kMetadata &&
          (now.mtime != before.mtime || now.ino != before.ino))
        return Difference::kContent;
      break;
  }
  if (now.mode != before.mode || now.uid != before.uid || now.gid != before.gid ||
      now.ctime != before.ctime)
    return Difference::kMetadata;
  return Difference::kNone;
}

bool SameMetadata(const Entry& a, const Entry& b) {
  return a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && SameExtendedMetadata(a, b);
}

// Re-reading a file that changed while it was read, and the pause before each
// new attempt (a writer often finishes within it).
constexpr int kChangeAttempts = 3;
constexpr auto kChangePause = std::chrono::milliseconds(200);

const std::vector<uint8_t>& Zeros() {
  static const std::vector<uint8_t> zeros(kChunk, 0);
  return zeros;
}

// Writes the archive, member by member, and records what it stored.
class ArchiveBuilder {
 public:
  ArchiveBuilder(TarWriter& tar, Catalog::Writer& cat, int64_t set_id, int seq, ByteSink& checksums,
                 Progress& progress, OnChange on_change, const std::string& temp_dir,
                 DeltaBackup& deltas, const std::map<std::string, CommandCapture>& commands)
      : tar_(tar),
        cat_(cat),
        set_id_(set_id),
        seq_(seq),
        checksums_(checksums),
        progress_(progress),
        on_change_(on_change),
        temp_dir_(temp_dir),
        deltas_(deltas),
        commands_(commands),
        buf_(4 * kChunk) {}

  void Add(PrefetchedEntry&& p) {
    Entry& e = p.entry;
    switch (e.type) {
      case EntryType::kDeleted:
        cat_.AddEntry(set_id_, seq_, e);
        ++deleted;
        return;
      case EntryType::kHardlink:
        if (auto it = link_data_.find(e.target); it != link_data_.end()) {
          e.hash = it->second.first;
          e.has_hash = true;
          e.size = it->second.second;
          tar_.Begin(e);
          tar_.End();
          Record(e);
          return;
        }
        e.type = EntryType::kFile;  // its target could not be stored: store the data here
        e.target.clear();
        [[fallthrough]];
      case EntryType::kFile: {
        if (e.content_unchanged) {  // metadata only: the data is in an earlier archive
          Record(e);
          return;
        }
        std::string problem;
        if (auto command = commands_.find(PathKey(e.path)); command != commands_.end()) {
          StoreCommandOutput(&e, command->second);
        } else if (!StoreFile(&e, std::move(p.read), &problem)) {
          progress_.Notice(Walker::AbsPath(e.path), problem + "; not backed up, retried next run",
                           true);
          failed_.insert(e.path);
          ++skipped;
          return;
        }
        ChecksumMark mark;
        if (e.changed_while_read) {
          progress_.Notice(Walker::AbsPath(e.path),
                           "kept changing while being read; stored as read (" +
                               std::to_string(e.size) + " bytes), marked \"changed while read\"",
                           true);
          ++changing;
          mark = {true, e.size};
        }
        checksums_.Write(AsBytes(ChecksumLine(e.path, e.hash, first_checksum_, mark)));
        first_checksum_ = false;
        bytes += e.size;
        if (e.nlink > 1) link_data_[e.path] = {e.hash, e.size};
        Record(e);
        return;
      }
      case EntryType::kDir:
      case EntryType::kSymlink:
      case EntryType::kFifo:
      case EntryType::kCharDevice:
      case EntryType::kBlockDevice:
        tar_.Begin(e);
        tar_.End();
        Record(e);
        return;
    }
  }

  uint64_t files = 0, bytes = 0, deleted = 0, skipped = 0;
  uint64_t changing = 0;  // stored as read while they kept changing

 private:
  void Record(const Entry& e) {
    cat_.AddEntry(set_id_, seq_, e);
    ++files;
    progress_.Update(files + skipped, bytes);
  }

  // A [[source.command]]'s output, from its spool: as a delta against its
  // previous output when that is clearly smaller (a dump changes little from
  // night to night), else whole, signed for the next night's delta.
  void StoreCommandOutput(Entry* e, const CommandCapture& capture) {
    const std::string what = "output for /" + e->path;
    if (deltas_.TryStoreSpooled(capture.output.get(), what, e, tar_)) return;
    BufferSink signature;
    std::optional<RsyncSignatureSink> sig;
    if (deltas_.Tracks(*e)) sig.emplace(e->size, signature);
    tar_.Begin(*e);
    for (uint64_t pos = 0; pos < capture.size;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(capture.size - pos, buf_.size()));
      size_t n = PreadFull(capture.output.get(), buf_.data(), want, pos, what);
      if (n < want) throw Error(Code::kIOError, "the " + what + " is short");
      std::span<const uint8_t> d(buf_.data(), n);
      if (sig) sig->Write(d);
      tar_.WriteData(d);
      pos += n;
      progress_.Update(files + skipped, bytes + pos);
    }
    tar_.End();
    if (sig) {
      sig->Finish();
      deltas_.StoredWhole(*e, signature.bytes);
    }
  }

  // Stores one regular file, from `read` when it was read ahead; false with a
  // reason if it is not stored. Only the version finally kept reaches the
  // archive, except that a large file which changes only while it is streamed
  // is kept as read (marked).
  bool StoreFile(Entry* e, SmallFileRead read, std::string* problem) {
    std::string abs = Walker::AbsPath(e->path);
    if (read.outcome == SmallFileRead::Outcome::kLarge && e->size <= kSmallFile)
      read = ReadSmallFile(abs, e);
    if (read.outcome == SmallFileRead::Outcome::kRead && deltas_.Tracks(*e)) {
      read = {};  // read again below, with its signature and maybe as a delta
      read.outcome = SmallFileRead::Outcome::kLarge;
    }
    switch (read.outcome) {
      case SmallFileRead::Outcome::kChanging:
        if (on_change_ == OnChange::kSkip) {
          *problem = read.problem;
          return false;
        }
        [[fallthrough]];
      case SmallFileRead::Outcome::kRead:
        tar_.Begin(*e);
        tar_.WriteData(read.data);
        tar_.End();
        return true;
      case SmallFileRead::Outcome::kFailed:
        *problem = read.problem;
        return false;
      case SmallFileRead::Outcome::kLarge:
        break;
    }
    Fd fd = OpenForBackup(abs);
    if (!fd.valid()) {
      *problem = std::string("cannot read: ") + std::strerror(errno);
      return false;
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      *problem = "is no longer a regular file";
      return false;
    }
    // A file that changed since the scan is probably being written: it is read
    // into a temporary file until a read is consistent, so that only the
    // version kept is written to the archive.
    bool quiet = static_cast<uint64_t>(st.st_size) == e->size &&
                 FileTime::Of(st.st_mtim) == e->mtime && FileTime::Of(st.st_ctim) == e->ctime &&
                 st.st_ino == e->ino;
    // A delta only of a file that stayed still since the scan (it reads the
    // file twice). What fails in there is the tool's own files: it fails the backup.
    if (quiet && deltas_.TryStore(fd.get(), abs, st, e, tar_)) return true;
    std::optional<Bytes> signature;
    try {
      if (quiet && on_change_ == OnChange::kStore) {
        StoreLargeFile(fd.get(), abs, st, e, &signature);
      } else if (!StoreThroughTemp(fd.get(), abs, e, problem)) {
        return false;
      }
    } catch (const Error& err) {
      // A problem reading this one file skips it; a failed write of the
      // archive or of a temporary copy fails the backup.
      if (tar_.broken() || temp_write_failed_) throw;
      *problem = err.what();
      return false;
    }
    if (signature) deltas_.StoredWhole(*e, *signature);
    return true;
  }

  // Reads the file into a temporary file until two stats around a read agree
  // (kChangeAttempts at most), then archives what was read last.
  bool StoreThroughTemp(int fd, const std::string& abs, Entry* e, std::string* problem) {
    Fd tmp;
    try {
      tmp = OpenAnonymousTemp(temp_dir_);
    } catch (const Error&) {
      temp_write_failed_ = true;
      throw;
    }
    Sha256 sha;
    struct stat st1, st2;
    uint64_t got = 0;
    bool consistent = false;
    for (int attempt = 0; attempt < kChangeAttempts && !consistent; ++attempt) {
      if (attempt) std::this_thread::sleep_for(kChangePause);
      if (::fstat(fd, &st1) != 0) ThrowErrno("stat " + abs);
      (void)sha.Final();  // resets
      const uint64_t size = static_cast<uint64_t>(st1.st_size);
      got = 0;
      while (got < size) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(size - got, buf_.size()));
        size_t n = PreadFull(fd, buf_.data(), want, got, abs);
        WriteAllAt(tmp.get(), {buf_.data(), n}, got);
        sha.Update(buf_.data(), n);
        got += n;
        progress_.Update(files + skipped, bytes + got);
        if (n < want) break;
      }
      if (::fstat(fd, &st2) != 0) ThrowErrno("stat " + abs);
      consistent = got == size && SameVersion(st1, st2);
    }
    if (!consistent && on_change_ == OnChange::kSkip) {
      *problem = "kept changing while being read";
      return false;
    }
    ApplyStat(st1, e);
    e->size = got;  // a file that only grew: its first st_size bytes
    e->sparse = false;
    e->changed_while_read = !consistent;
    e->hash = sha.Final();
    e->has_hash = true;
    tar_.Begin(*e);
    for (uint64_t pos = 0; pos < got;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(got - pos, buf_.size()));
      size_t n = PreadFull(tmp.get(), buf_.data(), want, pos, "temporary copy of " + abs);
      if (n < want) throw Error(Code::kIOError, "temporary copy of " + abs + " is short");
      tar_.WriteData({buf_.data(), n});
      pos += n;
    }
    tar_.End();
    return true;
  }

  void WriteAllAt(int fd, std::span<const uint8_t> d, uint64_t off) {
    try {
      PwriteFull(fd, d, off, "a temporary copy in " + temp_dir_);
    } catch (const Error&) {
      temp_write_failed_ = true;
      throw;
    }
  }

  // Streams a large file. Its header (and size) is written first, so if the
  // file changes meanwhile the member holds the version read: it is recorded
  // as such (changed_while_read), never left in the archive unrecorded.
  // Sets *signature_out to the file's rsync signature when deltas track it.
  void StoreLargeFile(int fd, const std::string& abs, const struct stat& st1, Entry* e,
                      std::optional<Bytes>* signature_out) {
    ApplyStat(st1, e);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    SparseMap regions;
    bool sparse = static_cast<uint64_t>(st1.st_blocks) * 512 < e->size;
    if (sparse) regions = DataRegions(fd, e->size);
    if (regions.empty()) sparse = false;
    e->sparse = sparse;
    if (!sparse) regions = {{0, e->size}};
    tar_.Begin(*e, sparse ? &regions : nullptr);
    Sha256 sha;
    BufferSink signature;
    std::optional<RsyncSignatureSink> sig;
    if (deltas_.Tracks(*e) && !sparse) sig.emplace(e->size, signature);  // sparse: always whole
    uint64_t pos = 0;
    bool short_read = false;
    auto zeros = [&](uint64_t n) {
      while (n) {
        size_t k = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
        std::span<const uint8_t> z(Zeros().data(), k);
        sha.Update(z);
        if (sig) sig->Write(z);
        tar_.WriteData(z);
        n -= k;
        pos += k;
      }
    };
    // Reading runs ahead of hashing and compressing: the next kReadahead bytes
    // are requested while this chunk is processed (the prefetcher asked for
    // the first ones).
    uint64_t hinted = kReadahead;
    for (auto [off, len] : regions) {
      if (off > pos) zeros(off - pos);
      uint64_t end = off + len;
      while (pos < end) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(end - pos, buf_.size()));
        if (pos + want >= hinted && hinted < e->size) {
          hinted = std::max(hinted, pos + want);
          HintReadahead(fd, hinted, kReadahead);
          hinted += kReadahead;
        }
        size_t n = PreadFull(fd, buf_.data(), want, pos, abs);
        std::span<const uint8_t> d(buf_.data(), n);
        sha.Update(d);
        if (sig) sig->Write(d);
        tar_.WriteData(d);
        pos += n;
        if (n < want) {
          short_read = true;
          zeros(end - pos);
        }
        progress_.Update(files + skipped, bytes + pos);
      }
    }
    if (pos < e->size) zeros(e->size - pos);
    tar_.End();
    struct stat st2;
    if (::fstat(fd, &st2) != 0) ThrowErrno("stat " + abs);
    e->changed_while_read = short_read || !SameVersion(st1, st2);
    e->hash = sha.Final();
    e->has_hash = true;
    if (sig) {
      sig->Finish();
      *signature_out = std::move(signature.bytes);
    }
  }

  TarWriter& tar_;
  Catalog::Writer& cat_;
  int64_t set_id_;
  int seq_;
  ByteSink& checksums_;
  Progress& progress_;
  OnChange on_change_;
  std::string temp_dir_;
  DeltaBackup& deltas_;
  const std::map<std::string, CommandCapture>& commands_;  // by PathKey
  std::vector<uint8_t> buf_;
  std::set<std::string> failed_;
  bool temp_write_failed_ = false;
  std::map<std::string, std::pair<Digest, uint64_t>> link_data_;  // stored files with links
  bool first_checksum_ = true;
};

// Phase 1 result: what the archive will hold, in key order.
struct Plan {
  std::unique_ptr<EntrySpool> spool;
  std::unique_ptr<AtomicFile> manifest;  // entry lines only; head and tail added later
  uint64_t manifest_bytes = 0;
  // At least what the checksums member will take: a line for every file
  // whose data is stored (sizes may still grow while they are read).
  uint64_t checksums_bytes = 0;
};

// An archive whose manifest or checksums member is larger than a reader accepts
// (manifest.h) could not be recovered or verified: refused before it is written.
void CheckMemberFits(const char* member, uint64_t bytes, uint64_t cap) {
  if (bytes <= cap) return;
  throw Error(Code::kInvalidArgument,
              std::string("this backup's ") + member + " would take " + std::to_string(bytes) +
                  " bytes, more than the " + std::to_string(cap) +
                  " an archive may hold to stay recoverable; split [source] includes over "
                  "several configs");
}

// A cache at [backup] cache_limit takes no new archive: sets are waiting for room in
// the vault, and writing on would only fill the disk.
void CheckCacheRoom(Workspace& ws) {
  CacheUse use = MeasureCache(ws);
  if (!use.AtLimit()) return;
  throw Error(Code::kNoSpace,
              "local cache " + ws.config().cache_dir + " holds " + HumanBytes(use.bytes) +
                  ", at its limit [backup] cache_limit = " + HumanBytes(use.limit) +
                  ": backup sets are waiting for room in the vault. Run `glacier-backup sync` "
                  "(status says why nothing goes up), raise [vault] size_limit, or raise "
                  "cache_limit");
}

}  // namespace

BackupResult RunBackup(Workspace& ws, Progress& progress, Clock& clock, const BackupOptions& opts) {
  const Config& cfg = ws.config();
  Catalog& catalog = ws.catalog();
  BackupResult result;
  result.dry_run = opts.dry_run;
  if (!opts.dry_run) {
    ws.CleanCache(progress);
    CheckCacheRoom(ws);
  }
  // Loaded first: a signing key others can read stops the backup before any work.
  const std::optional<ArchiveSigner> signer = ArchiveSigner::Load(cfg);
  if (!signer) progress.Notice(cfg.signing_key_file, NoSigningKeyWarning(cfg), true);

  std::optional<SetRecord> open = catalog.OpenSet();
  int incrementals = open ? open->backups - 1 : 0;
  if (open) result.lost_archives = LostArchives(ws, *open);
  if (!result.lost_archives.empty()) result.lost_set = open->id;
  bool full = opts.force_full || !open || open->backups == 0 ||
              incrementals >= cfg.max_incrementals || !result.lost_archives.empty();
  if (result.lost_set)
    progress.Notice("set " + std::to_string(result.lost_set),
                    LostArchivesAdvice(result.lost_set, result.lost_archives) +
                        "; this backup starts a new set with a full",
                    true);
  result.full = full;
  int64_t now = clock.NowSeconds();

  // Phase 1: walk and merge with the catalog's view of the open set.
  Plan plan;
  plan.spool = std::make_unique<EntrySpool>(cfg.cache_dir);
  std::unique_ptr<EntryCursor> before;
  if (!full) before = catalog.State(open->id, open->backups - 1);
  bool have_before = before && before->Next();
  std::string unknown_prefix;  // keys below an unlistable directory keep their state
  bool first_line = true;
  std::unique_ptr<FdSink> manifest_sink;
  if (!opts.dry_run) {
    plan.manifest = std::make_unique<AtomicFile>(JoinPath(cfg.cache_dir, "manifest"), 0600);
  }
  std::map<std::pair<uint64_t, uint64_t>, std::string> link_groups;
  DeltaBackup deltas(cfg);

  auto plan_entry = [&](Entry& e) {
    if (e.type == EntryType::kFile && e.nlink > 1) {
      auto [it, inserted] = link_groups.try_emplace({e.dev, e.ino}, e.path);
      if (!inserted) {
        e.type = EntryType::kHardlink;
        e.target = it->second;
      }
    }
    if (e.type == EntryType::kDeleted)
      ++result.deleted;
    else {
      ++result.changed;
      if (e.type == EntryType::kFile) result.changed_bytes += e.size;
    }
    plan.spool->Append(e);
    if (plan.manifest) {
      std::string line = ManifestEntryLine(e, first_line);
      first_line = false;
      plan.manifest->sink().Write(AsBytes(line));
      plan.manifest_bytes += line.size();
    }
    if (e.type == EntryType::kFile)
      plan.checksums_bytes += ChecksumLine(e.path, Digest{}, /*first=*/false).size();
  };
  auto deleted_entry = [&](const Entry& gone, int data_seq) {
    deltas.NoteKnown(gone, data_seq);
    if (!unknown_prefix.empty() &&
        PathKey(gone.path).compare(0, unknown_prefix.size(), unknown_prefix) == 0)
      return;
    deltas.NoteGone(gone, data_seq);
    Entry d;
    d.path = gone.path;
    d.type = EntryType::kDeleted;
    plan_entry(d);
  };

  auto metadata_incomplete = [&](const Entry& e, const std::string& problem) {
    progress.Notice(Walker::AbsPath(e.path), problem, true);
    ++result.incomplete;
  };
  DiskMetadataReader metadata;
  auto read_metadata = [&](Entry& e) {
    std::string problem;
    if (!metadata.Read(Walker::AbsPath(e.path), &e, &problem)) metadata_incomplete(e, problem);
  };

  // Command sources run first, each into its own unnamed spool. One that
  // fails is reported and records nothing: its previous output stays the latest.
  std::map<std::string, CommandCapture> commands;  // by PathKey of their path
  uint64_t commands_failed = 0;
  for (const Config::CommandSource& c : cfg.commands) {
    CommandCapture& capture = commands[PathKey(c.path.substr(1))];
    if (opts.dry_run) continue;
    progress.Phase("running " + c.run[0] + " for " + c.path, 0, 0);
    capture = CaptureCommand(c, cfg.cache_dir, clock);
    if (!capture.ok) {
      progress.Notice(c.path, capture.problem + "; not backed up, retried next run", true);
      ++commands_failed;
    } else if (!capture.stderr_tail.empty()) {
      progress.Notice(c.path, "the command wrote on stderr: " + capture.stderr_tail, false);
    }
  }
  auto next_command = commands.begin();
  // Plans the command outputs whose keys sort at or before `key` (all when null).
  auto plan_commands = [&](const std::string* key) {
    for (; next_command != commands.end() && (!key || next_command->first <= *key);
         ++next_command) {
      const std::string& command_key = next_command->first;
      const CommandCapture& capture = next_command->second;
      while (have_before && PathKey(before->entry().path) < command_key) {
        deleted_entry(before->entry(), before->data_seq());
        have_before = before->Next();
      }
      const Config::CommandSource* source = nullptr;
      for (const Config::CommandSource& c : cfg.commands)
        if (PathKey(c.path.substr(1)) == command_key) source = &c;
      std::optional<Entry> old;
      if (have_before && PathKey(before->entry().path) == command_key) {
        old = before->entry();
        deltas.NoteKnown(*old, before->data_seq());
        deltas.NotePrevious(*old, before->data_seq());  // the basis of a new output
        have_before = before->Next();
      }
      if (opts.dry_run) {
        ++result.changed;  // not run: whether it changed is unknown
        continue;
      }
      if (!capture.ok) continue;
      if (old && old->type == EntryType::kFile && old->has_hash && old->hash == capture.hash &&
          old->size == capture.size)
        continue;  // the same output as last time
      Entry e = CommandEntry(*source, capture);
      ++result.files_scanned;
      result.bytes_scanned += e.size;
      plan_entry(e);
    }
  };

  progress.Phase("scanning", 0, 0);
  Selector selector(cfg.includes, cfg.excludes);
  Walker walker(selector, [&](const std::string& path, const std::string& what, bool problem) {
    if (!problem) ++result.ignored;
    progress.Notice(path, what, problem);
  });
  // One walked entry, in walk order. `read` holds its extended metadata's
  // outcome when that was read ahead (null: read it here if it is stored).
  auto walked = [&](Entry& e, bool subtree_unknown, bool above_roots,
                    const MetadataReadAhead::Walked* read) {
    ++result.files_scanned;
    if (e.type == EntryType::kFile) result.bytes_scanned += e.size;
    if ((result.files_scanned & 1023) == 0)
      progress.Update(result.files_scanned, result.bytes_scanned);
    std::string key = PathKey(e.path);
    plan_commands(&key);
    if (commands.count(key)) {
      progress.Notice(Walker::AbsPath(e.path),
                      "is also the path of a [[source.command]]: its output is stored instead",
                      true);
      return;
    }
    while (have_before && PathKey(before->entry().path) < key) {
      deleted_entry(before->entry(), before->data_seq());
      have_before = before->Next();
    }
    bool changed = true, metadata_read = false;
    if (have_before && before->entry().path == e.path) {
      const Entry& old = before->entry();
      if (above_roots && old.type == EntryType::kDir) {
        // Directories above the includes ($HOME, /tmp) change all the time for
        // reasons outside the backup; only their permissions and owner matter.
        changed = e.mode != old.mode || e.uid != old.uid || e.gid != old.gid;
      } else {
        Difference d = Compare(e, old, cfg.change_detection);
        bool comparable = e.type == EntryType::kFile && old.has_hash;
        // Only a file of one name whose data the previous entry holds can
        // become a metadata entry.
        bool plain_file = comparable && old.type == EntryType::kFile && e.nlink == 1;
        bool same_content = false;
        if (d != Difference::kContent &&
            ((d == Difference::kMetadata && plain_file) ||
             (comparable && cfg.change_detection == ChangeDetection::kContent))) {
          try {
            same_content = HashFile(Walker::AbsPath(e.path)) == old.hash;
          } catch (const Error&) {
            // phase 2 reports it
          }
          if (!same_content) d = Difference::kContent;
        }
        if (d == Difference::kMetadata) {
          read_metadata(e);
          metadata_read = true;
          if (same_content && plain_file) {
            // A metadata entry: the data stays in the archive that stored it.
            e.content_unchanged = true;
            e.hash = old.hash;
            e.has_hash = true;
            e.sparse = old.sparse;
          } else if (IsFileLike(e.type)) {
            d = Difference::kContent;  // a file that cannot be compared is stored again
          } else {
            d = SameMetadata(e, old) ? Difference::kNone : Difference::kContent;
          }
        }
        changed = d != Difference::kNone;
      }
      deltas.NoteKnown(old, before->data_seq());
      if (changed) deltas.NotePrevious(old, before->data_seq());
      have_before = before->Next();
    }
    if (changed && !metadata_read) {
      if (!read) {
        read_metadata(e);
      } else if (!read->problem.empty()) {
        metadata_incomplete(e, read->problem);
      }
    }
    if (subtree_unknown) unknown_prefix = key + '\0';
    if (changed) plan_entry(e);
  };
  Entry e;
  bool subtree_unknown = false;
  if (full) {
    // Every entry is stored: its metadata is read ahead, on several threads.
    int readers = cfg.threads > 0 ? std::min(cfg.threads, kMetadataReaders) : kMetadataReaders;
    MetadataReadAhead ahead(readers, [&](MetadataReadAhead::Walked& w) {
      walked(w.entry, w.subtree_unknown, w.above_roots, &w);
    });
    while (walker.Next(&e, &subtree_unknown)) ahead.Add(e, subtree_unknown, walker.AboveRoots());
    ahead.Finish();
  } else {
    while (walker.Next(&e, &subtree_unknown))
      walked(e, subtree_unknown, walker.AboveRoots(), nullptr);
  }
  plan_commands(nullptr);
  while (have_before) {
    deleted_entry(before->entry(), before->data_seq());
    have_before = before->Next();
  }
  before.reset();
  progress.Update(result.files_scanned, result.bytes_scanned);
  if (opts.dry_run) return result;

  // Phase 2: write the archive and the catalog rows; commit after it is durable.
  plan.manifest->sink().Finish();
  Catalog::Writer writer(catalog);
  if (full && open) {
    writer.CompleteSet(open->id, now);
    result.previous_set_completed = true;
  }
  int64_t set_id = full ? writer.CreateSet(now) : open->id;
  int seq = full ? 0 : open->backups;
  ArchiveName an{now, set_id, seq};
  BackupMeta meta;
  meta.id = 0;
  meta.name = an.FileName();
  meta.set_id = set_id;
  meta.seq = seq;
  if (!full) meta.parent = catalog.BackupsOfSet(set_id).back().name;
  meta.time = now;
  meta.host = cfg.host;
  meta.tool = std::string("glacier-backup ") + GB_VERSION;

  std::string path = ws.ArchivePath(meta.name);
  if (PathExists(path))
    throw Error(Code::kInvalidArgument, "archive " + path +
                                            " already exists: two backups in the same second? "
                                            "try again");
  std::string head = ManifestHead(meta), tail = ManifestTail();
  CheckMemberFits("manifest", head.size() + plan.manifest_bytes + tail.size(), kMaxManifestBytes);
  CheckMemberFits("checksums", plan.checksums_bytes, kMaxChecksumsBytes);
  AtomicFile out(path, 0600);
  PrehashingSink prehashed(&out.sink());  // for the signature: the archive is not read back
  HashingSink file_hash(&prehashed);
  std::unique_ptr<ByteSink> enc = NewArchiveEncryptor(cfg, file_hash);
  // zstd workers compress while this thread reads, hashes and encrypts.
  int threads =
      cfg.threads > 0 ? cfg.threads : static_cast<int>(std::thread::hardware_concurrency());
  ZstdSink zstd(*enc, cfg.compression_level, std::max(threads, 1));
  TarWriter tar(zstd);

  tar.BeginBlob(kManifestMember, head.size() + plan.manifest_bytes + tail.size(), FileTime{now, 0});
  tar.WriteData(AsBytes(head));
  {
    FileSource lines(plan.manifest->temp_path());
    std::vector<uint8_t> buf(kChunk);
    while (size_t n = lines.Read(buf)) tar.WriteData({buf.data(), n});
  }
  tar.WriteData(AsBytes(tail));
  tar.End();
  plan.manifest.reset();

  AtomicFile checksums(JoinPath(cfg.cache_dir, "checksums"), 0600);
  HashingSink checksum_bytes(&checksums.sink());
  checksum_bytes.Write(AsBytes(ChecksumsHead()));
  progress.Phase(full ? "full backup" : "incremental backup", result.changed, result.changed_bytes);
  std::vector<std::string> archives;
  if (!full)
    for (const BackupRecord& b : catalog.BackupsOfSet(set_id)) archives.push_back(b.name);
  archives.push_back(meta.name);
  deltas.Start(set_id, seq, std::move(archives));
  ArchiveBuilder builder(tar, writer, set_id, seq, checksum_bytes, progress, cfg.on_change,
                         cfg.cache_dir, deltas, commands);
  plan.spool->Rewind();
  {
    int readers = cfg.threads > 0 ? std::min(cfg.threads, kPrefetchReaders) : kPrefetchReaders;
    FilePrefetcher prefetcher(*plan.spool, kPrefetchBytes, readers);
    PrefetchedEntry p;
    while (prefetcher.Next(&p)) builder.Add(std::move(p));
  }
  plan.spool.reset();
  deltas.Finish(tar, catalog, FileTime{now, 0});
  checksum_bytes.Write(AsBytes(ChecksumsTail()));
  checksums.sink().Finish();
  CheckMemberFits("checksums", checksum_bytes.bytes(), kMaxChecksumsBytes);
  tar.BeginBlob(kChecksumsMember, checksum_bytes.bytes(), FileTime{now, 0});
  {
    FileSource lines(checksums.temp_path());
    std::vector<uint8_t> buf(kChunk);
    while (size_t n = lines.Read(buf)) tar.WriteData({buf.data(), n});
  }
  tar.End();
  tar.Close();  // finishes zstd, age, the hash and the file buffer
  out.Commit();

  BackupRecord& rec = result.record;
  rec.set_id = set_id;
  rec.seq = seq;
  rec.time = now;
  rec.name = meta.name;
  rec.archive_size = file_hash.bytes();
  rec.archive_sha256 = Hex(file_hash.digest());
  rec.files = builder.files;
  rec.bytes = builder.bytes;
  rec.deleted = builder.deleted;
  rec.skipped = builder.skipped + commands_failed;
  rec.host = meta.host;
  // Signed before the catalog commit: a crash between the two leaves an
  // orphan archive and signature, which the next run removes.
  if (signer)
    signer->SignWritten(path, SignedThing::Archive(rec.name, set_id, rec.archive_sha256),
                        prehashed.prehash());
  rec.id = writer.AddBackup(rec);
  result.skipped = builder.skipped + commands_failed;
  result.changed_while_read = builder.changing;
  if (seq >= cfg.max_incrementals) {
    writer.CompleteSet(set_id, now);
    result.set_completed = true;
  }
  CrashPoint("backup-before-commit");
  writer.Commit();
  // Signatures serve only the open set's next incrementals.
  SignatureStore(cfg.state_dir)
      .DropAllBut(result.set_completed ? std::nullopt : std::optional<int64_t>(set_id));
  return result;
}

}  // namespace gb
