#include "engine/workspace.h"

#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/file_system.h"
#include "engine/archive_name.h"
#include "engine/archive_signature.h"

namespace gb {

Workspace::Workspace(const Config& config) : config_(config) {
  MakeDirs(config_.state_dir, 0700);
  MakeDirs(config_.cache_dir, 0700);
  catalog_ = std::make_unique<Catalog>(JoinPath(config_.state_dir, Catalog::kFileName));
}

std::string Workspace::ArchivePath(const std::string& name) const {
  return ChildPath(config_.cache_dir, name);
}

void Workspace::CleanCache(Progress& progress) {
  int temps = RemoveStaleTemps(config_.cache_dir);
  if (temps)
    progress.Notice(config_.cache_dir,
                    "removed " + std::to_string(temps) + " temporary file(s) of an interrupted run",
                    false);
  if (!PathExists(config_.cache_dir)) return;
  std::vector<std::string> orphans;
  for (const std::string& name : ListDirNames(config_.cache_dir)) {
    // NAME.minisig goes with NAME.
    std::string archive = name;
    if (archive.ends_with(kSignatureSuffix))
      archive.resize(archive.size() - std::string_view(kSignatureSuffix).size());
    if (!ArchiveName::Parse(archive) || archive.find(kArchiveSuffix) == std::string::npos) continue;
    if (!catalog_->FindBackupByName(archive)) orphans.push_back(name);
  }
  for (const auto& name : orphans) {
    std::string path = ArchivePath(name);
    if (Fs().Unlink(path.c_str()) == 0)
      progress.Notice(path, "removed archive of an interrupted backup (never committed)", false);
  }
}

uint64_t Workspace::CachedArchiveBytes() {
  uint64_t bytes = 0;
  for (const BackupRecord& b : catalog_->Backups()) {
    struct stat st {};
    if (::stat(ArchivePath(b.name).c_str(), &st) == 0) bytes += static_cast<uint64_t>(st.st_size);
  }
  return bytes;
}

}  // namespace gb
