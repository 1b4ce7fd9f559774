#include "engine/entry_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/entry_extras.h"
#include "core/error.h"
#include "core/file_system.h"

namespace gb {
namespace {

template <typename T>
void Put(Bytes& b, T v) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
  b.insert(b.end(), p, p + sizeof v);
}

void PutStr(Bytes& b, const std::string& s) {
  Put<uint32_t>(b, static_cast<uint32_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

}  // namespace

EntrySpool::EntrySpool(const std::string& dir) : dir_(dir) {
  fd_ = OpenAnonymousTemp(dir);
  wbuf_.reserve(1 << 20);
}

void EntrySpool::Append(const Entry& e) {
  Bytes& b = wbuf_;
  Put<uint8_t>(b, static_cast<uint8_t>(e.type));
  Put(b, e.mode);
  Put(b, e.uid);
  Put(b, e.gid);
  Put(b, e.size);
  Put(b, e.mtime.sec);
  Put(b, e.mtime.nsec);
  Put(b, e.ctime.sec);
  Put(b, e.ctime.nsec);
  Put(b, e.dev);
  Put(b, e.ino);
  Put(b, e.nlink);
  Put<uint8_t>(b, static_cast<uint8_t>((e.has_hash ? 1 : 0) | (e.sparse ? 2 : 0)));
  if (e.has_hash) b.insert(b.end(), e.hash.begin(), e.hash.end());
  PutStr(b, e.path);
  PutStr(b, e.uname);
  PutStr(b, e.gname);
  PutStr(b, e.target);
  PutStr(b, ExtrasText(e));
  ++count_;
  if (b.size() > (1 << 20) - 8192) FlushWrites();
}

void EntrySpool::FlushWrites() {
  size_t off = 0;
  while (off < wbuf_.size()) {
    ssize_t n = Fs().Write(fd_.get(), wbuf_.data() + off, wbuf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("write spool in " + dir_);
    }
    off += static_cast<size_t>(n);
  }
  wbuf_.clear();
}

void EntrySpool::Rewind() {
  FlushWrites();
  if (::lseek(fd_.get(), 0, SEEK_SET) < 0) ThrowErrno("seek spool");
  rbuf_.clear();
  rpos_ = 0;
  eof_ = false;
}

// Ensures at least `need` unread bytes are buffered (or throws at EOF).
void EntrySpool::Fill(size_t need) {
  if (rbuf_.size() - rpos_ >= need) return;
  rbuf_.erase(rbuf_.begin(), rbuf_.begin() + static_cast<long>(rpos_));
  rpos_ = 0;
  while (rbuf_.size() < need) {
    size_t old = rbuf_.size();
    size_t want = std::max<size_t>(need - old, 1 << 20);
    rbuf_.resize(old + want);
    ssize_t n = ::read(fd_.get(), rbuf_.data() + old, want);
    if (n < 0) {
      rbuf_.resize(old);
      if (errno == EINTR) continue;
      ThrowErrno("read spool");
    }
    rbuf_.resize(old + static_cast<size_t>(n));
    if (n == 0) {
      eof_ = true;
      if (rbuf_.size() < need) throw Error(Code::kInternal, "spool truncated");
    }
  }
}

bool EntrySpool::Next(Entry* e) {
  if (rbuf_.size() == rpos_) {
    if (eof_) return false;
    rbuf_.clear();
    rpos_ = 0;
    rbuf_.resize(1 << 20);
    ssize_t n;
    do n = ::read(fd_.get(), rbuf_.data(), rbuf_.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) ThrowErrno("read spool");
    rbuf_.resize(static_cast<size_t>(n));
    if (n == 0) {
      eof_ = true;
      return false;
    }
  }
  auto get = [&](auto& v) {
    Fill(sizeof v);
    std::memcpy(&v, rbuf_.data() + rpos_, sizeof v);
    rpos_ += sizeof v;
  };
  auto get_str = [&](std::string& s) {
    uint32_t n;
    get(n);
    Fill(n);
    s.assign(reinterpret_cast<const char*>(rbuf_.data() + rpos_), n);
    rpos_ += n;
  };
  uint8_t type, flags;
  get(type);
  e->type = static_cast<EntryType>(type);
  get(e->mode);
  get(e->uid);
  get(e->gid);
  get(e->size);
  get(e->mtime.sec);
  get(e->mtime.nsec);
  get(e->ctime.sec);
  get(e->ctime.nsec);
  get(e->dev);
  get(e->ino);
  get(e->nlink);
  get(flags);
  e->has_hash = flags & 1;
  e->sparse = flags & 2;
  if (e->has_hash) {
    Fill(32);
    std::memcpy(e->hash.data(), rbuf_.data() + rpos_, 32);
    rpos_ += 32;
  }
  get_str(e->path);
  get_str(e->uname);
  get_str(e->gname);
  get_str(e->target);
  std::string extras;
  get_str(extras);
  ExtrasFromText(extras, e);
  return true;
}

}  // namespace gb
