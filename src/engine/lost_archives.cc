#include "engine/lost_archives.h"

#include <unistd.h>

#include <optional>
#include <set>

#include "catalog/vault_state.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"
#include "engine/bundle.h"

namespace gb {

std::vector<std::string> LostArchives(Workspace& ws, const SetRecord& set) {
  std::vector<std::string> lost;
  if (set.uploaded || set.pruned) return lost;
  std::set<std::string> uploaded_alone;
  for (const UploadRecord& u : VaultState(ws.catalog()).Uploads("done"))
    if (u.set_id == set.id && !u.backup_name.empty()) uploaded_alone.insert(u.backup_name);
  for (const BackupRecord& b : ws.catalog().BackupsOfSet(set.id))
    if (!uploaded_alone.count(b.name) && !PathExists(ws.ArchivePath(b.name)))
      lost.push_back(b.name);
  return lost;
}

int DropSet(Workspace& ws, int64_t set_id, int64_t now) {
  std::optional<SetRecord> set = ws.catalog().GetSet(set_id);
  std::string name = "set " + std::to_string(set_id);
  if (!set || set->pruned)
    throw Error(Code::kNotFound, "there is no " + name + " to drop (see `glacier-backup status`)");
  if (set->uploaded)
    throw Error(Code::kInvalidArgument,
                name + " is in the vault; only a set that cannot be uploaded can be dropped");
  if (LostArchives(ws, *set).empty())
    throw Error(Code::kInvalidArgument, name +
                                            " has all its archives and will be uploaded by "
                                            "`glacier-backup sync`; it was not dropped");
  std::vector<BackupRecord> backups = ws.catalog().BackupsOfSet(set_id);
  {
    Catalog::Writer w(ws.catalog());
    w.CompleteSet(set_id, now);  // no later backup may add to it
    VaultState state(ws.catalog());
    state.MarkSetPruned(set_id, now);
    state.SetMeta(SetFateKey(set_id), "dropped: archives lost from the cache");
    w.Commit();
  }
  // The catalog no longer references them: what is left in the cache goes.
  for (const BackupRecord& b : backups) Fs().Unlink(ws.ArchivePath(b.name).c_str());
  Fs().Unlink(CatalogCopyPath(ws, set_id).c_str());
  return static_cast<int>(backups.size());
}

std::string LostArchivesAdvice(int64_t set_id, const std::vector<std::string>& lost) {
  std::string s = std::to_string(set_id);
  std::string what = lost.size() == 1 ? "its archive " + lost.front() + " is"
                                      : std::to_string(lost.size()) + " of its archives (" +
                                            lost.front() + ", ...) are";
  return what + " missing from the cache and never went to the vault, so set " + s +
         " cannot be uploaded; discard it with `glacier-backup sync --drop-set " + s + "`";
}

}  // namespace gb
