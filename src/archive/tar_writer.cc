#include "archive/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include "archive/entry_metadata.h"
#include "core/error.h"

namespace gb {
namespace {

struct EntryHolder {
  archive_entry* e = archive_entry_new();
  ~EntryHolder() { archive_entry_free(e); }
};

}  // namespace

ssize_t TarWriteCallback(struct archive*, void* self, const void* buf, size_t n) {
  auto* w = static_cast<TarWriter*>(self);
  if (w->abandoned_) return static_cast<ssize_t>(n);  // the stream is given up: nothing goes out
  try {
    w->out_.Write(buf, n);
  } catch (...) {
    w->sink_error_ = std::current_exception();
    return -1;
  }
  return static_cast<ssize_t>(n);
}

TarWriter::TarWriter(ByteSink& out) : out_(out), a_(archive_write_new()) {
  if (!a_) throw Error(Code::kInternal, "libarchive: out of memory");
  Check(archive_write_set_format_pax(a_), "tar format");
  // Unbuffered: every libarchive write goes straight to the sink (which buffers).
  Check(archive_write_set_bytes_per_block(a_, 0), "tar blocking");
  Check(archive_write_open2(a_, this, nullptr, TarWriteCallback, nullptr, nullptr), "tar open");
}

TarWriter::~TarWriter() {
  // Without Close() the stream is abandoned: its trailer goes nowhere. (It
  // is still closed: archive_write_fail() would leak the writer's state.)
  if (!closed_) {
    abandoned_ = true;
    archive_write_close(a_);
  }
  archive_write_free(a_);
}

void TarWriter::Check(int rc, const std::string& what) {
  if (sink_error_) std::rethrow_exception(sink_error_);
  if (rc < ARCHIVE_WARN) {
    const char* msg = archive_error_string(a_);
    throw Error(Code::kIOError, "writing archive (" + what + "): " + (msg ? msg : "unknown error"));
  }
}

void TarWriter::Begin(const Entry& e, const SparseMap* sparse) {
  EntryHolder h;
  archive_entry_copy_pathname(h.e, e.path.c_str());
  archive_entry_set_perm(h.e, e.mode & 07777);
  archive_entry_set_uid(h.e, e.uid);
  archive_entry_set_gid(h.e, e.gid);
  if (!e.uname.empty()) archive_entry_copy_uname(h.e, e.uname.c_str());
  if (!e.gname.empty()) archive_entry_copy_gname(h.e, e.gname.c_str());
  archive_entry_set_mtime(h.e, e.mtime.sec, e.mtime.nsec);
  if (e.type == EntryType::kDeleted)
    throw Error(Code::kInternal, "deleted entries have no tar member: " + e.path);
  PutMetadata(e, h.e);
  archive_entry_set_size(h.e, 0);
  switch (e.type) {
    case EntryType::kFile:
      archive_entry_set_size(h.e, static_cast<la_int64_t>(e.size));
      if (sparse) {
        for (auto& [off, len] : *sparse)
          archive_entry_sparse_add_entry(h.e, static_cast<la_int64_t>(off),
                                         static_cast<la_int64_t>(len));
      }
      break;
    case EntryType::kSymlink:
      archive_entry_copy_symlink(h.e, e.target.c_str());
      break;
    case EntryType::kHardlink:
      archive_entry_copy_hardlink(h.e, e.target.c_str());
      break;
    default:
      break;
  }
  Check(archive_write_header(a_, h.e), e.path);
}

void TarWriter::WriteData(std::span<const uint8_t> data) {
  size_t off = 0;
  while (off < data.size()) {
    la_ssize_t n = archive_write_data(a_, data.data() + off, data.size() - off);
    if (n < 0) Check(static_cast<int>(n), "data");
    if (n == 0) break;  // more data than the header announced: libarchive drops the rest
    off += static_cast<size_t>(n);
  }
}

void TarWriter::End() { Check(archive_write_finish_entry(a_), "finish entry"); }

void TarWriter::BeginBlob(const std::string& path, uint64_t size, FileTime mtime) {
  EntryHolder h;
  archive_entry_copy_pathname(h.e, path.c_str());
  archive_entry_set_filetype(h.e, AE_IFREG);
  archive_entry_set_perm(h.e, 0600);
  archive_entry_set_size(h.e, static_cast<la_int64_t>(size));
  archive_entry_set_mtime(h.e, mtime.sec, mtime.nsec);
  Check(archive_write_header(a_, h.e), path);
}

void TarWriter::AddBlob(const std::string& path, std::span<const uint8_t> data, FileTime mtime) {
  BeginBlob(path, data.size(), mtime);
  WriteData(data);
  End();
}

void TarWriter::Close() {
  Check(archive_write_close(a_), "close");
  closed_ = true;
  out_.Finish();
}

}  // namespace gb
