// Checks the cached archives against the catalog: present, right size and
// SHA-256; with read_data also decrypted, decompressed and every file's
// content hash compared with what the catalog recorded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/progress.h"
#include "engine/workspace.h"

namespace gb {

struct VerifyOptions {
  bool read_data = false;
};

struct VerifyResult {
  uint64_t archives = 0;       // archives checked
  uint64_t in_vault_only = 0;  // uploaded and no longer cached: not checked here
  uint64_t files = 0;          // file contents checked (read_data)
  uint64_t bytes = 0;          // archive bytes read
  uint64_t problems = 0;       // each reported through Progress
  bool corrupt = false;        // some data failed a hash/MAC check
};

VerifyResult RunVerify(Workspace& ws, Progress& progress, const VerifyOptions& opts);

}  // namespace gb
