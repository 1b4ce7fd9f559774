#include "archive/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include "archive/entry_metadata.h"
#include "core/error.h"

namespace gb {

long TarReader::ReadCallback(struct archive*, void* self, const void** buf) {
  auto* r = static_cast<TarReader*>(self);
  try {
    std::span<const uint8_t> got = r->in_.ReadView(r->buf_);  // kept until the next call
    *buf = got.data();
    return static_cast<long>(got.size());
  } catch (...) {
    r->source_error_ = std::current_exception();
    return -1;
  }
}

TarReader::TarReader(ByteSource& in) : in_(in), a_(archive_read_new()), buf_(1 << 20) {
  if (!a_) throw Error(Code::kInternal, "libarchive: out of memory");
  archive_read_support_format_tar(a_);
  if (archive_read_open(a_, this, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    try {
      Fail(ARCHIVE_FATAL, "open");
    } catch (...) {
      archive_read_free(a_);  // no destructor runs for a constructor that throws
      throw;
    }
  }
}

TarReader::~TarReader() { archive_read_free(a_); }

void TarReader::Fail(int, const char* what) {
  if (source_error_) std::rethrow_exception(source_error_);
  const char* msg = archive_error_string(a_);
  throw Error(Code::kCorruption, std::string("archive is not a valid tar stream (") + what +
                                     "): " + (msg ? msg : "unexpected end of data"));
}

bool TarReader::Next(TarMember* m) {
  archive_entry* ae = nullptr;
  int rc = archive_read_next_header(a_, &ae);
  if (rc == ARCHIVE_EOF) return false;
  if (rc < ARCHIVE_WARN) Fail(rc, "header");
  Entry& e = m->entry;
  e = Entry{};
  m->other = false;
  m->raw = ae;
  const char* p = archive_entry_pathname(ae);
  e.path = p ? p : "";
  while (e.path.size() > 1 && e.path.back() == '/') e.path.pop_back();
  e.mode = archive_entry_perm(ae);
  e.uid = static_cast<uint32_t>(archive_entry_uid(ae));
  e.gid = static_cast<uint32_t>(archive_entry_gid(ae));
  if (const char* u = archive_entry_uname(ae)) e.uname = u;
  if (const char* g = archive_entry_gname(ae)) e.gname = g;
  e.mtime = {static_cast<int64_t>(archive_entry_mtime(ae)),
             static_cast<uint32_t>(archive_entry_mtime_nsec(ae))};
  e.size = static_cast<uint64_t>(archive_entry_size(ae));
  GetMetadata(ae, &e);
  current_path_ = e.path;
  current_size_ = e.size;
  if (const char* h = archive_entry_hardlink(ae)) {
    e.type = EntryType::kHardlink;
    e.target = h;
    return true;
  }
  switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
      e.type = EntryType::kFile;
      break;
    case AE_IFDIR:
      e.type = EntryType::kDir;
      break;
    case AE_IFLNK:
      e.type = EntryType::kSymlink;
      if (const char* s = archive_entry_symlink(ae)) e.target = s;
      break;
    case AE_IFIFO:
      e.type = EntryType::kFifo;
      break;
    case AE_IFCHR:
      e.type = EntryType::kCharDevice;
      break;
    case AE_IFBLK:
      e.type = EntryType::kBlockDevice;
      break;
    default:
      m->other = true;
      break;
  }
  return true;
}

void TarReader::ReadData(const std::function<void(uint64_t, std::span<const uint8_t>)>& block) {
  for (;;) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = archive_read_data_block(a_, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) return;
    if (rc < ARCHIVE_WARN) Fail(rc, "data");
    if (size) block(static_cast<uint64_t>(offset), {static_cast<const uint8_t*>(buf), size});
  }
}

std::string TarReader::ReadAll(uint64_t max_bytes) {
  auto too_big = [&](const std::string& why) {
    return Error(Code::kCorruption, "archive member " + current_path_ + " " + why + " (at most " +
                                        std::to_string(max_bytes) +
                                        " bytes are read into memory); the archive is damaged "
                                        "or forged");
  };
  if (current_size_ > max_bytes)
    throw too_big("claims " + std::to_string(current_size_) + " bytes");
  std::string out;
  ReadData([&](uint64_t off, std::span<const uint8_t> d) {
    if (off != out.size()) throw too_big("has holes");
    if (d.size() > max_bytes - out.size()) throw too_big("holds more");
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
  });
  return out;
}

}  // namespace gb
