#include "catalog/vault_job.h"

namespace gb {

const char* JobKindText(JobKind kind) {
  switch (kind) {
    case JobKind::kInventory:
      return "inventory";
    case JobKind::kRetrieval:
      return "retrieval";
  }
  return "inventory";
}

const char* JobRecordStatusText(JobRecordStatus status) {
  switch (status) {
    case JobRecordStatus::kStarting:
      return "Starting";
    case JobRecordStatus::kInProgress:
      return "InProgress";
    case JobRecordStatus::kSucceeded:
      return "Succeeded";
    case JobRecordStatus::kFailed:
      return "Failed";
    case JobRecordStatus::kExpired:
      return "Expired";
    case JobRecordStatus::kDone:
      return "Done";
  }
  return "InProgress";
}

std::optional<JobKind> ParseJobKindText(std::string_view text) {
  for (JobKind k : {JobKind::kInventory, JobKind::kRetrieval}) {
    if (text == JobKindText(k)) return k;
  }
  return std::nullopt;
}

std::optional<JobRecordStatus> ParseJobRecordStatusText(std::string_view text) {
  for (JobRecordStatus s :
       {JobRecordStatus::kStarting, JobRecordStatus::kInProgress, JobRecordStatus::kSucceeded,
        JobRecordStatus::kFailed, JobRecordStatus::kExpired, JobRecordStatus::kDone}) {
    if (text == JobRecordStatusText(s)) return s;
  }
  return std::nullopt;
}

}  // namespace gb
