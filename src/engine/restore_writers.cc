#include "engine/restore_writers.h"

namespace gb {

void RestoredFile::Hold(uint64_t offset, std::span<const uint8_t> data) {
  if (!runs.empty() && runs.back().first + runs.back().second == offset)
    runs.back().second += data.size();
  else
    runs.emplace_back(offset, data.size());
  bytes.insert(bytes.end(), data.begin(), data.end());
}

void RestoredFile::Write(const DiskWriter& disk, DiskWriter::ParentCache* parent) {
  const Entry& e = dests[0];
  if (!disk.OpenFile(e, &file, &err, parent)) return;
  Sha256 sha;
  uint64_t pos = 0;
  try {
    size_t at = 0;
    for (const auto& [offset, length] : runs) {
      std::span<const uint8_t> data(bytes.data() + at, length);
      disk.WriteBlock(file, offset, data);
      if (offset > pos) sha.UpdateZeros(offset - pos);
      sha.Update(data);
      at += length;
      pos = offset + length;
    }
  } catch (...) {
    file.fd.Reset();
    disk.RemoveFile(e.path);  // no half-written file
    throw;
  }
  std::vector<uint8_t>().swap(bytes);
  if (pos < e.size) sha.UpdateZeros(e.size - pos);
  if (!disk.FinishFile(file, &err)) return;
  if (!expected || sha.Final() != *expected) {
    hash_mismatch = true;
    disk.RemoveFile(e.path);
    return;
  }
  written = true;
  for (size_t k = 1; k < dests.size(); ++k) {
    EntryError link_err;
    if (disk.HardLink(dests[k], e.path, &link_err))
      link_errors.emplace_back();
    else
      link_errors.emplace_back(std::move(link_err));
  }
}

void RestoreWriters::AddFile(std::shared_ptr<RestoredFile> file, FileDone done) {
  if (!batch_->symlinks.empty()) Flush();
  batch_->bytes += file->bytes.size();
  batch_->files.emplace_back(std::move(file), std::move(done));
  if (batch_->files.size() >= kBatchFiles || batch_->bytes >= kBatchBytes) Flush();
}

void RestoreWriters::AddSymlink(const Entry& e, EntryDone done) {
  if (!batch_->files.empty()) Flush();
  batch_->symlinks.emplace_back(e, std::move(done));
  if (batch_->symlinks.size() >= kBatchFiles) Flush();
}

void RestoreWriters::Drain() {
  Flush();
  pool_.Drain();
}

void RestoreWriters::Flush() {
  if (batch_->files.empty() && batch_->symlinks.empty()) return;
  std::shared_ptr<Batch> b = std::move(batch_);
  batch_ = std::make_shared<Batch>();
  pool_.Submit(
      b->bytes,
      [b, &disk = disk_] {
        DiskWriter::ParentCache parent;  // for this batch only
        try {
          for (auto& [file, done] : b->files) {
            file->Write(disk, &parent);
            ++b->done;
          }
          for (auto& [e, done] : b->symlinks) {
            EntryError err;
            if (disk.Symlink(e, &err))
              b->errors.emplace_back();
            else
              b->errors.emplace_back(std::move(err));
            ++b->done;
          }
        } catch (...) {
          b->failure = std::current_exception();
        }
      },
      [b] {
        for (size_t k = 0; k < b->done; ++k) {
          if (!b->files.empty())
            b->files[k].second(*b->files[k].first);
          else
            b->symlinks[k].second(b->symlinks[k].first, b->errors[k] ? &*b->errors[k] : nullptr);
        }
        if (b->failure) std::rethrow_exception(b->failure);
      });
}

}  // namespace gb
