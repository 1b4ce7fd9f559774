// Where each backup set stands on its way to the vault: the one answer that
// `status` shows and the metrics count.
#pragma once

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "engine/workspace.h"

namespace gb {

// In order of precedence (the first that holds):
//   kInVault    an archive this host uploaded holds it
//   kBroken     it lost an archive (lost_archives.h): it can never go up whole
//   kUploading  an upload of it is in flight
//   kComplete   complete and ready to upload
//   kOpen       still taking incrementals
enum class SetState { kOpen, kComplete, kUploading, kInVault, kBroken };

// "open", "complete", "uploading", "in_vault", "broken".
const char* SetStateName(SetState state);

struct SetStanding {
  SetRecord set;
  SetState state = SetState::kOpen;
  // The set's archives neither cached nor uploaded (LostArchives); a set in
  // the vault with archives uploaded one by one (upload = "each") may have
  // some too.
  std::vector<std::string> lost_archives;
};

// Every set still in the catalog (pruned and dropped sets left out), oldest
// first.
std::vector<SetStanding> SetStandings(Workspace& ws);

}  // namespace gb
