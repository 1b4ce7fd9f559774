// Vault jobs (inventories and retrievals) as the catalog records them: what a
// job fetches and where our record of it stands. Code compares these enums;
// the text spelling exists only in the catalog's rows and in what the CLI shows.
#pragma once

#include <optional>
#include <string_view>

namespace gb {

// What a job fetches: a listing of the vault, or (a range of) one archive.
// The vault layer reports its jobs with this same kind (vault.h JobInfo).
enum class JobKind { kInventory, kRetrieval };

// Where our record of a job stands:
//   kStarting    asked for; the vault's job id is not known yet
//   kInProgress  the vault is preparing the output
//   kSucceeded   a retrieval's output is ready (a restore reads it)
//   kFailed      the vault gave up on it
//   kExpired     the vault no longer knows it, or its output expired unread
//   kDone        its output was read and used
// The vault's JobStatus (vault.h) is what a vault says of a job right now; its
// three values are the three of the same name here.
enum class JobRecordStatus { kStarting, kInProgress, kSucceeded, kFailed, kExpired, kDone };

// "inventory", "retrieval": the catalog's spelling, also shown by `status`.
const char* JobKindText(JobKind kind);
// "Starting", "InProgress", "Succeeded", "Failed", "Expired", "Done".
const char* JobRecordStatusText(JobRecordStatus status);
// The inverses; nullopt for any other text.
std::optional<JobKind> ParseJobKindText(std::string_view text);
std::optional<JobRecordStatus> ParseJobRecordStatusText(std::string_view text);

}  // namespace gb
