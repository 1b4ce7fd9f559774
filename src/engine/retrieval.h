// Getting bytes back out of cold storage: one retrieval job per (archive,
// range), recorded in the catalog so it is never started twice; its output
// downloaded into a staging file that resumes where it stopped, so no byte is
// fetched twice; a job whose output expired before the download finished is
// started again and the download continues.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "catalog/vault_state.h"
#include "core/clock.h"
#include "engine/progress.h"
#include "engine/workspace.h"
#include "vault/vault.h"

namespace gb {

struct RetrievalRequest {
  std::string archive_id;
  ByteRange range;  // concrete: offset and length within the vault archive
  Tier tier = Tier::kBulk;
  std::string purpose;  // "restore <id>", "recover", "verify"
};

enum class RetrievalState { kWaiting, kDownloaded };

// Staging files live in state_dir/staging.
std::string StagingDir(const Workspace& ws);
std::string StagingPath(const Workspace& ws, const RetrievalRequest& r);

// Starts the job if none is recorded (or the recorded one failed or expired),
// polls it, and downloads whatever output is ready into StagingPath(). Returns
// kDownloaded once the whole range is on disk (fsynced). Vault errors other
// than "not ready" and "expired" propagate.
RetrievalState AdvanceRetrieval(Workspace& ws, Vault& vault, const RetrievalRequest& r,
                                Progress& progress, Clock& clock);

// Whether a job for this request was already started (and is not failed/expired).
std::optional<JobRecord> RecordedJob(Workspace& ws, const RetrievalRequest& r);
// The same, or the vault was asked by a run that was killed before it recorded the job.
bool RetrievalRequested(Workspace& ws, const RetrievalRequest& r);

// Rounds a range out to what the vault accepts (Glacier: whole MiBs, or the archive's end).
ByteRange AlignRange(uint64_t offset, uint64_t length, uint64_t alignment, uint64_t archive_size);

}  // namespace gb
