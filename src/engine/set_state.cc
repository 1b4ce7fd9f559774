#include "engine/set_state.h"

#include <set>

#include "catalog/vault_state.h"
#include "engine/lost_archives.h"

namespace gb {

const char* SetStateName(SetState state) {
  switch (state) {
    case SetState::kOpen:
      return "open";
    case SetState::kComplete:
      return "complete";
    case SetState::kUploading:
      return "uploading";
    case SetState::kInVault:
      return "in_vault";
    case SetState::kBroken:
      return "broken";
  }
  return "open";
}

std::vector<SetStanding> SetStandings(Workspace& ws) {
  VaultState vs(ws.catalog());
  std::set<int64_t> in_vault, uploading;
  for (const VaultArchive& a : vs.Archives())
    if (a.set_id && a.origin == "here") in_vault.insert(*a.set_id);
  for (const UploadRecord& u : vs.Uploads("uploading")) uploading.insert(u.set_id);
  std::vector<SetStanding> out;
  for (const SetRecord& s : ws.catalog().Sets()) {
    if (s.pruned) continue;
    SetStanding st{.set = s, .lost_archives = LostArchives(ws, s)};
    if (in_vault.count(s.id)) {
      st.state = SetState::kInVault;
    } else if (!st.lost_archives.empty()) {
      st.state = SetState::kBroken;
    } else if (uploading.count(s.id)) {
      st.state = SetState::kUploading;
    } else {
      st.state = s.completed ? SetState::kComplete : SetState::kOpen;
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace gb
