#include "engine/delta_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "archive/rsync_delta.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "core/untrusted_json.h"
#include "engine/file_reader.h"

namespace gb {
namespace {

// How much of a file is read before a same-size basis that gives no small
// delta is given up.
constexpr uint64_t kCopyProbe = 4 << 20;

bool IsJsonString(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// A scratch file for one delta, removed when done.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& dir)
      : path_(JoinPath(
            dir, std::string(AtomicFile::kTempPrefix) + "delta-" + std::to_string(::getpid()))) {
    fd_ = Fd(Fs().Open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd_.valid()) ThrowErrno("create " + path_);
  }
  ~ScratchFile() { Fs().Unlink(path_.c_str()); }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Fd fd_;
};

Digest DigestOf(const nlohmann::json& hex) {
  auto b = Unhex(hex.get<std::string>());
  if (!b || b->size() != 32)
    throw Error(Code::kCorruption, std::string(kDeltasMember) + ": bad hash");
  Digest d;
  std::copy(b->begin(), b->end(), d.begin());
  return d;
}

}  // namespace

std::vector<DeltaMemberRow> ParseDeltasMember(const std::string& text) {
  std::vector<DeltaMemberRow> rows;
  try {
    size_t pos = text.find('\n');
    if (pos == std::string::npos ||
        ParseUntrustedJson(text.substr(0, pos) + "]}").value("format", "") != kDeltasFormat)
      throw Error(Code::kCorruption, std::string(kDeltasMember) + ": unknown format");
    while (++pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(pos, end - pos);
      pos = end;
      if (line.empty() || line[0] == ']') break;
      if (line[0] == ',') line.erase(0, 1);
      auto j = ParseUntrustedJson(line);
      DeltaMemberRow row;
      row.size = j.at("size");
      row.record.path = j.at("path");
      row.record.basis_seq = j.at("basis_seq");
      if (j.contains("basis_path")) row.record.basis_path = j.at("basis_path");
      if (row.record.basis_path == row.record.path) row.record.basis_path.clear();
      row.record.basis_hash = DigestOf(j.at("basis_sha256"));
      row.record.hash = DigestOf(j.at("sha256"));
      if (!IsSafeRelativePath(row.record.path) || !IsSafeRelativePath(row.record.BasisPath()) ||
          row.record.basis_seq < 0)
        throw Error(Code::kCorruption, std::string(kDeltasMember) + ": bad entry " + line);
      rows.push_back(std::move(row));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(Code::kCorruption, std::string(kDeltasMember) + ": malformed JSON: " + e.what());
  }
  return rows;
}

DeltaBackup::DeltaBackup(const Config& cfg)
    : cfg_(cfg), store_(cfg.state_dir), buf_(1 << 20), side_buf_(1 << 20) {}

void DeltaBackup::Start(int64_t set_id, int seq, std::vector<std::string> archives) {
  set_id_ = set_id;
  seq_ = seq;
  archives_ = std::move(archives);
  if (seq == 0) {  // a full: nothing earlier to refer to
    previous_.clear();
    gone_.clear();
    by_size_.clear();
  }
}

void DeltaBackup::Known(const std::string& path, int seq, const Entry& e) {
  by_size_.emplace(e.size, Version{path, seq, e.hash});
}

void DeltaBackup::NoteKnown(const Entry& before, int data_seq) {
  if (before.type != EntryType::kFile || !before.has_hash || !Tracks(before)) return;
  Known(before.path, data_seq, before);
}

void DeltaBackup::NotePrevious(const Entry& before, int data_seq) {
  if (before.type != EntryType::kFile || !before.has_hash || !Tracks(before)) return;
  previous_[before.path] = {before.path, data_seq, before.hash};
}

void DeltaBackup::NoteGone(const Entry& before, int data_seq) {
  if (before.type != EntryType::kFile || !before.has_hash || !Tracks(before)) return;
  gone_[{before.dev, before.ino}] = {
      {before.path, data_seq, before.hash}, before.size, before.mtime};
}

bool DeltaBackup::Tracks(const Entry& e) const {
  return cfg_.delta_min_size > 0 && e.type == EntryType::kFile && e.nlink <= 1 &&
         e.size >= cfg_.delta_min_size;
}

std::optional<Bytes> DeltaBackup::FindBasis(const Entry& e, Version* basis, bool* speculative) {
  // Most likely first: the same path, a rename (the inode of a path gone in
  // this walk, with its size and mtime), then guesses.
  std::vector<std::pair<const Version*, bool>> candidates;
  if (auto it = previous_.find(e.path); it != previous_.end())
    candidates.emplace_back(&it->second, false);
  const Gone* moved = nullptr;
  if (auto it = gone_.find({e.dev, e.ino}); it != gone_.end()) moved = &it->second;
  const bool renamed = moved && moved->size == e.size && moved->mtime == e.mtime;
  if (renamed) candidates.emplace_back(&moved->version, false);
  auto [lo, hi] = by_size_.equal_range(e.size);
  for (auto it = lo; it != hi; ++it) candidates.emplace_back(&it->second, true);
  // The inode alone may be a reused one, or a file moved and then edited.
  if (moved && !renamed) candidates.emplace_back(&moved->version, true);
  const std::string key = PathKey(e.path);
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Version* v = candidates[i].first;
    const bool guess = candidates[i].second;
    // A basis precedes its delta: an earlier backup, or this one and an earlier path.
    bool precedes = v->seq < seq_ || (v->seq == seq_ && PathKey(v->path) < key);
    if (!precedes || static_cast<size_t>(v->seq) >= archives_.size() || !IsJsonString(v->path))
      continue;
    // One version can be several candidates (the same path and a same-size one).
    auto same = [&](const auto& c) { return c.first->seq == v->seq && c.first->path == v->path; };
    if (std::any_of(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(i), same))
      continue;
    if (std::optional<Bytes> sig = store_.Find(set_id_, v->seq, v->path, v->hash)) {
      *basis = *v;
      *speculative = guess;
      return sig;
    }
  }
  return std::nullopt;
}

bool DeltaBackup::TryStore(int fd, const std::string& abs, const struct stat& st, Entry* e,
                           TarWriter& tar) {
  if (!IsJsonString(e->path)) return false;
  Entry now = *e;
  ApplyStat(st, &now);
  if (!Tracks(now) || static_cast<uint64_t>(st.st_blocks) * 512 < now.size)
    return false;  // sparse files are stored whole (with their holes)
  return StoreAsDelta(fd, abs, now, e, tar, [&] {
    struct stat st2;
    return ::fstat(fd, &st2) == 0 && SameVersion(st, st2);
  });
}

bool DeltaBackup::TryStoreSpooled(int fd, const std::string& what, Entry* e, TarWriter& tar) {
  if (!IsJsonString(e->path) || !Tracks(*e)) return false;
  return StoreAsDelta(fd, what, *e, e, tar, [] { return true; });
}

bool DeltaBackup::StoreAsDelta(int fd, const std::string& abs, const Entry& now, Entry* e,
                               TarWriter& tar, const std::function<bool()>& unchanged) {
  Version base;
  bool speculative = false;
  std::optional<Bytes> basis = FindBasis(now, &base, &speculative);
  if (!basis) return false;

  ScratchFile scratch(cfg_.cache_dir);
  FdSink delta_out(scratch.fd(), scratch.path());
  BufferSink signature;
  Sha256 sha;
  try {
    RsyncDeltaSink delta(*basis, delta_out);
    RsyncSignatureSink sig(now.size, signature);
    // The delta is computed here while another thread hashes the same chunk
    // and signs it, in order, into the next version's basis: each costs about
    // as much as the other. Chunks alternate between two buffers; a chunk's
    // buffer is read into again only after both are done with it.
    std::vector<uint8_t>* bufs[2] = {&buf_, &side_buf_};
    std::future<void> side;
    uint64_t pos = 0;
    for (int k = 0; pos < now.size; k ^= 1) {
      std::vector<uint8_t>& buf = *bufs[k];
      size_t want = static_cast<size_t>(std::min<uint64_t>(now.size - pos, buf.size()));
      size_t n = 0;
      try {
        n = PreadFull(fd, buf.data(), want, pos, abs);
      } catch (const Error&) {
        return false;  // unreadable: the whole-file path reads it again and reports it
      }
      if (n < want) return false;  // shrank while read: the whole-file path reports it
      std::span<const uint8_t> d(buf.data(), n);
      if (side.valid()) side.get();
      side = std::async(std::launch::async, [&sha, &sig, d] {
        sha.Update(d);
        sig.Write(d);
      });
      delta.Write(d);
      pos += n;
      // A guessed basis is kept only if the delta stays small: a file that
      // does not is stored whole after reading a few MiB, not all of it.
      if (speculative && pos >= kCopyProbe && delta_out.bytes() > pos / 2) {
        side.get();
        return false;
      }
    }
    if (side.valid()) side.get();
    delta.Finish();
    sig.Finish();
  } catch (const Error& err) {
    if (err.code() != Code::kCorruption) throw;
    return false;  // a damaged signature: store the file whole
  }
  if (!unchanged()) return false;
  uint64_t delta_size = delta_out.bytes();
  if (delta_size >= now.size / 2) return false;  // not clearly smaller

  DeltaMemberRow row;
  row.size = now.size;
  DeltaRecord& r = row.record;
  r.set_id = set_id_;
  r.seq = seq_;
  r.path = e->path;
  r.basis_seq = base.seq;
  if (base.path != e->path) r.basis_path = base.path;
  r.basis_hash = base.hash;
  r.hash = sha.Final();
  const uint64_t line = MemberLine(row, records_.empty()).size();
  if (member_bytes_ + line > kMaxDeltasBytes) return false;  // readers would refuse the member

  tar.BeginBlob(kDeltaMemberPrefix + e->path, delta_size, now.mtime);
  for (uint64_t pos = 0; pos < delta_size;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(delta_size - pos, buf_.size()));
    size_t n = PreadFull(scratch.fd(), buf_.data(), want, pos, scratch.path());
    if (n != want) throw Error(Code::kIOError, "delta scratch file " + scratch.path() + " shrank");
    tar.WriteData({buf_.data(), n});
    pos += n;
  }
  tar.End();

  *e = now;
  e->sparse = false;
  e->hash = r.hash;
  e->has_hash = true;
  member_bytes_ += line;
  records_.push_back(row);
  store_.Put(set_id_, seq_, e->path, e->hash, signature.bytes);
  Known(e->path, seq_, *e);
  return true;
}

void DeltaBackup::StoredWhole(const Entry& e, std::span<const uint8_t> signature) {
  store_.Put(set_id_, seq_, e.path, e.hash, signature);
  Known(e.path, seq_, e);
}

std::string DeltaBackup::MemberLine(const DeltaMemberRow& row, bool first) const {
  const DeltaRecord& r = row.record;
  nlohmann::json j{{"path", r.path},
                   {"size", row.size},
                   {"member", kDeltaMemberPrefix + r.path},
                   {"basis_archive", archives_[static_cast<size_t>(r.basis_seq)]},
                   {"basis_seq", r.basis_seq},
                   {"basis_path", r.BasisPath()},
                   {"basis_sha256", Hex(r.basis_hash)},
                   {"sha256", Hex(r.hash)}};
  return (first ? "" : ",") + j.dump() + "\n";
}

void DeltaBackup::Finish(TarWriter& tar, Catalog& catalog, FileTime now) {
  if (records_.empty()) return;
  std::string text = "{\"format\":\"" + std::string(kDeltasFormat) + "\",\"deltas\":[\n";
  for (size_t i = 0; i < records_.size(); ++i) {
    text += MemberLine(records_[i], i == 0);
    AddDelta(catalog.db(), records_[i].record);
  }
  text += "]}\n";
  tar.AddBlob(kDeltasMember, AsBytes(text), now);
}

}  // namespace gb
